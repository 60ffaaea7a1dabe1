/**
 * Threat: SMS pumping (toll fraud). A bot enrolls or challenges many numbers in a range the
 * attacker earns revenue from, or floods one foreign country, never verifying a code.
 */
import { EnrollPhoneFactorDocument, SignInDocument } from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { Message } from "../../../src/telephony/message.entity";
import { PRODUCTION_LIMITS, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, settleMessages } from "../../support/phone";

describe("SMS pumping", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ ...PRODUCTION_LIMITS, LIMIT_PUMPING_COUNTRY_BURST: "8" });
  });
  afterAll(() => gateway.stop());

  test("sends to sequential numbers in one range trip a block: the rule is logged and further sends are stopped as BLOCKED_SUSPICIOUS", async () => {
    const results = [];
    for (let i = 10; i < 17; i += 1) {
      const user = await createUser(gateway);
      results.push(await gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: `+4474009000${i}`, method: "SMS" } }));
    }
    expect(results.every((result) => !result.errors)).toBe(true);
    const messages = await settleMessages(gateway);
    const stopped = messages.filter((message) => message.errorCode === "BLOCKED_SUSPICIOUS");
    expect(stopped.map((m) => m.toE164).sort()).toEqual(["+447400900014", "+447400900015", "+447400900016"]);
    expect(stopped.every((m) => m.status === "FAILED" && m.provider === null)).toBe(true);
    const blocked = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } });
    expect(blocked).toHaveLength(1);
    expect(blocked[0]?.debugContext).toMatchObject({ rule: "SEQUENTIAL_NUMBERS", range: "+4474009000", distinctNumbers: 5 });
    // The invariant holds for stopped messages too: one send_* and one receive_status each.
    const statuses = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.receive_status" } });
    for (const message of stopped) expect(statuses.filter((e) => e.debugContext?.messageId === message.id)).toHaveLength(1);
  });

  test("a burst to one foreign country blocks that country, while sign-ins that need no SMS go on", async () => {
    for (let i = 0; i < 9; i += 1) {
      const user = await createUser(gateway);
      await gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: `+3361${String(i * 7919).padStart(7, "0")}`, method: "SMS" } });
    }
    const french = (await settleMessages(gateway)).filter((m: Message) => m.country === "FR");
    expect(french.filter((m) => m.errorCode === "BLOCKED_SUSPICIOUS").length).toBeGreaterThanOrEqual(1);
    const rules = (await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } })).map((e) => e.debugContext?.rule);
    expect(rules).toContain("COUNTRY_BURST");
    const user = await createUser(gateway);
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: "a long enough password" } })).signIn.status).toBe("SUCCESS");
  });
});
