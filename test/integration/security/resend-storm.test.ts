/**
 * Threat: a resend storm. A script asks again and again for codes to one number (to harass
 * its owner or to run up the bill), across challenges so the per-challenge caps do not apply.
 */
import { ChallengePhoneFactorDocument, ResendChallengeDocument } from "../../../src/generated/graphql";
import { PRODUCTION_LIMITS, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll } from "../../support/phone";

describe("resend storm", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ ...PRODUCTION_LIMITS, LIMIT_PUMPING_RANGE_BURST: "1000" });
  });
  afterAll(() => gateway.stop());

  test("a second send to the same number within 30 s is RATE_LIMITED (limit number), with HTTP 429 and Retry-After", async () => {
    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, "+447400910001", "SMS");
    await gateway.db.dataSource.query(`UPDATE phone_factors SET status = 'ACTIVE' WHERE id = ${gateway.config.engine === "postgres" ? "$1" : "?"}`, [factor.id]);
    const storm = await gateway.admin.request(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    expect(storm.status).toBe(429);
    expect(Number(storm.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(storm.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "number" });
    expect(Number(storm.errors?.[0]?.extensions?.retryAfterSeconds)).toBeLessThanOrEqual(30);
  });

  test("per-challenge resends stop at the cooldown and at maxResends before any limit", async () => {
    const user = await createUser(gateway);
    const { challenge } = await enroll(gateway, user.id, "+447400910002", "SMS");
    const early = await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: challenge.id } });
    expect(early.code).toBe("RESEND_TOO_SOON");
  });
});
