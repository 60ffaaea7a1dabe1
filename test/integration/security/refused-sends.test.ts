/**
 * Threat, to the users rather than from them: a send refused by a limit that is not theirs (the
 * country's window during a pumping attack, the organisation's spend cap) must not use up their
 * own allowance, or they stay locked out once the country's window or the cap is cleared.
 */
import { DeactivateUserDocument, EnrollPhoneFactorDocument, UpdateSecuritySettingsDocument } from "../../../src/generated/graphql";
import { PRODUCTION_LIMITS, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll } from "../../support/phone";

describe("refused sends count against no one's limits", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ ...PRODUCTION_LIMITS, LIMIT_PUMPING_RANGE_BURST: "1000", LIMIT_PUMPING_COUNTRY_BURST: "100000" });
  });
  afterAll(() => gateway.stop());

  const enrollFails = async (userId: string, phoneNumber: string) =>
    (await gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId, phoneNumber, method: "SMS" } })).errors?.[0]?.extensions;

  test("a send the country's window refused leaves the number's window as it was", async () => {
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { sendsPerCountryPerMinute: 1 } });
    try {
      await enroll(gateway, (await createUser(gateway)).id, "+447400960001");
      const user = await createUser(gateway);
      expect(await enrollFails(user.id, "+447400960002")).toMatchObject({ code: "RATE_LIMITED", limit: "country" });
      expect(await enrollFails(user.id, "+447400960002")).toMatchObject({ code: "RATE_LIMITED", limit: "country" });
      await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { sendsPerCountryPerMinute: 120 } });
      // One send per number per 30 s: had the refusals counted, this would be RATE_LIMITED (number).
      expect(await enrollFails(user.id, "+447400960002")).toBeUndefined();
    } finally {
      await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { sendsPerCountryPerMinute: 120 } });
    }
  });

  test("a send the spend cap refused leaves the number's window as it was", async () => {
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 0 } });
    try {
      const user = await createUser(gateway);
      expect(await enrollFails(user.id, "+447400960003")).toMatchObject({ code: "RATE_LIMITED", limit: "spend" });
      await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 100 } });
      expect(await enrollFails(user.id, "+447400960003")).toBeUndefined();
    } finally {
      await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 100 } });
    }
  });

  test("a send whose write failed after it was cleared leaves the number's window as it was", async () => {
    const deactivated = await createUser(gateway);
    await gateway.admin.ok(DeactivateUserDocument, { id: deactivated.id });
    // Refused inside the send's own write, after the limits cleared it.
    expect(await enrollFails(deactivated.id, "+447400960005")).toMatchObject({ code: "CONFLICT", reason: "USER_NOT_ENROLLABLE" });
    expect(await enrollFails((await createUser(gateway)).id, "+447400960005")).toBeUndefined();
  });

  test("a send that failed while being cleared, after its windows counted it, leaves the number's window as it was", async () => {
    const user = await createUser(gateway);
    const { statements } = gateway.db;
    // The figures the fraud rules and caps read cannot be read: a database that stopped answering.
    jest.spyOn(statements, "query").mockRejectedValueOnce(new Error("connection terminated"));
    try {
      expect(await enrollFails(user.id, "+447400960006")).toMatchObject({ code: "INTERNAL" });
    } finally {
      jest.restoreAllMocks();
    }
    expect(await enrollFails((await createUser(gateway)).id, "+447400960006")).toBeUndefined();
  });

  test("a spend cap refusal whose event cannot be written is still the refusal", async () => {
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 0 } });
    const user = await createUser(gateway);
    // Past the minute in which an earlier refusal wrote the cap's event: this one writes it.
    gateway.clock.advance(61_000);
    const { log } = gateway.services;
    const record = jest.spyOn(log, "record").mockRejectedValueOnce(new Error("connection terminated"));
    try {
      expect(await enrollFails(user.id, "+447400960007")).toMatchObject({ code: "RATE_LIMITED", limit: "spend" });
      expect(record).toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
      await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 100 } });
    }
  });
});
