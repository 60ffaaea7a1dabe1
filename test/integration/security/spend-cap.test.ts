/**
 * Threat: a runaway bill. Whatever the cause (pumping that slips through, a bug, a flood of
 * real users), estimated spend past the daily cap stops sends, and nothing else.
 */
import { EnrollPhoneFactorDocument, SignInDocument, UpdateSecuritySettingsDocument } from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";

describe("spend caps", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("past the daily cap sends stop with RATE_LIMITED (limit spend) and an event; password sign-ins go on", async () => {
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 0.1 } });
    let refused = null;
    for (let i = 0; i < 10 && !refused; i += 1) {
      const user = await createUser(gateway);
      const result = await gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: `+4474009200${10 + i}`, method: "SMS" } });
      if (result.errors) refused = result;
    }
    expect(refused?.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "spend" });
    expect(refused?.status).toBe(429);
    const events = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.spend_cap_reached" } });
    expect(events.length).toBeGreaterThanOrEqual(1);
    const user = await createUser(gateway);
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: "a long enough password" } })).signIn.status).toBe("SUCCESS");
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: null } });
  });

  test("settings out of range are BAD_USER_INPUT", async () => {
    expect((await gateway.admin.fails(UpdateSecuritySettingsDocument, { input: { maxConsecutiveFailedPasscodes: 101 } })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.anonymous.fails(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 1 } })).code).toBe("UNAUTHENTICATED");
  });
});
