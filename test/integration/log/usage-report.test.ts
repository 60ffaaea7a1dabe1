import {
  ActivatePhoneFactorDocument,
  ChallengePhoneFactorDocument,
  SmsUsageReportDocument,
  type SmsUsageReportQuery,
} from "../../../src/generated/graphql";
import { FraudBlockRecord } from "../../../src/security/security-settings.entity";
import { Message, MessageAttempt } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, receivedCode, settleMessages } from "../../support/phone";

type UsageRow = SmsUsageReportQuery["smsUsageReport"]["rows"][number];

const PURPOSE_FIELD = {
  PHONE_VERIFICATION: "phoneVerification",
  FACTOR_VERIFY: "factorVerify",
  PASSWORD_RESET: "passwordReset",
  ACCOUNT_UNLOCK: "accountUnlock",
} as const;

/** The report worked out by hand from the outbox rows, to hold the SQL to. */
function expectedRows(messages: Message[], attempted: ReadonlySet<string>, months: string[]): UsageRow[] {
  return months.flatMap((month) =>
    (["SMS", "VOICE"] as const).map((channel) => {
      const queued = messages.filter((message) => message.created.toISOString().slice(0, 7) === month && message.channel === channel);
      // Stopped by a fraud rule, or failed before any provider was tried: nothing to bill.
      const neverOffered = (message: Message) => message.status === "FAILED" && !attempted.has(message.id);
      const mine = queued.filter((message) => !neverOffered(message));
      const byPurpose = { phoneVerification: 0, factorVerify: 0, passwordReset: 0, accountUnlock: 0 };
      for (const message of mine) byPurpose[PURPOSE_FIELD[message.purpose]] += 1;
      return {
        month,
        channel,
        domestic: mine.filter((message) => !message.international).length,
        international: mine.filter((message) => message.international).length,
        byPurpose,
        segments: mine.reduce((sum, message) => sum + message.segments, 0),
        estimatedCost: mine.reduce((sum, message) => sum + (message.estimatedCostMicros ?? 0), 0) / 1_000_000,
        notSent: queued.filter(neverOffered).length,
      };
    }),
  );
}

describe("smsUsageReport, with GB as the home country", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ ORG_HOME_COUNTRY: "GB" });
  });
  afterAll(() => gateway.stop());

  test("counts every message of each UTC month and channel: domestic and international, by purpose, segments and cost", async () => {
    gateway.clock.set(new Date("2031-03-10T12:00:00.000Z"));
    const alice = await createUser(gateway);
    const { factor } = await enroll(gateway, alice.id, "+447400555001", "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, {
      input: { factorId: factor.id, code: await receivedCode(gateway, "+447400555001") },
    });
    await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await enroll(gateway, (await createUser(gateway)).id, "+4915123456789", "SMS");
    await enroll(gateway, (await createUser(gateway)).id, "+33612345678", "VOICE");
    await settleMessages(gateway);

    // The last millisecond of April, UTC, and the first of May.
    gateway.clock.set(new Date("2031-04-30T23:59:59.999Z"));
    await enroll(gateway, (await createUser(gateway)).id, "+447400555002", "SMS");
    await settleMessages(gateway);
    gateway.clock.set(new Date("2031-05-01T00:00:00.000Z"));
    await enroll(gateway, (await createUser(gateway)).id, "+447400555003", "SMS");
    await settleMessages(gateway);

    const { smsUsageReport } = await gateway.admin.ok(SmsUsageReportDocument, { from: "2031-02", to: "2031-04" });
    const messages = await gateway.db.manager.find(Message);
    const attempted = new Set((await gateway.db.manager.find(MessageAttempt)).map((attempt) => attempt.messageId));
    const expected = expectedRows(messages, attempted, ["2031-02", "2031-03", "2031-04"]);
    expect(smsUsageReport.rows.map((row) => ({ ...row, estimatedCost: expect.closeTo(row.estimatedCost, 9) }))).toEqual(
      expected.map((row) => ({ ...row, estimatedCost: expect.closeTo(row.estimatedCost, 9) })),
    );

    const row = (month: string, channel: "SMS" | "VOICE") =>
      smsUsageReport.rows.find((candidate) => candidate.month === month && candidate.channel === channel);
    expect(row("2031-02", "SMS")).toMatchObject({ domestic: 0, international: 0, segments: 0, estimatedCost: 0 });
    expect(row("2031-03", "SMS")).toMatchObject({
      domestic: 2,
      international: 1,
      byPurpose: { phoneVerification: 2, factorVerify: 1, passwordReset: 0, accountUnlock: 0 },
    });
    expect(row("2031-03", "VOICE")).toMatchObject({ domestic: 0, international: 1, byPurpose: { phoneVerification: 1 } });
    expect(row("2031-03", "VOICE")?.segments).toBeGreaterThanOrEqual(1);
    expect(row("2031-03", "SMS")?.estimatedCost).toBeGreaterThan(0);
    expect(row("2031-04", "SMS")).toMatchObject({ domestic: 1, international: 0 });

    const { smsUsageReport: may } = await gateway.admin.ok(SmsUsageReportDocument, { from: "2031-05", to: "2031-05" });
    expect(may.rows.map((candidate) => [candidate.month, candidate.channel, candidate.domestic])).toEqual([
      ["2031-05", "SMS", 1],
      ["2031-05", "VOICE", 0],
    ]);
  });

  test("a send the fraud rules stopped is counted apart as not sent, with no segments or cost", async () => {
    gateway.clock.set(new Date("2031-06-10T12:00:00.000Z"));
    const now = gateway.clock.now();
    await gateway.db.transaction(({ manager }) =>
      manager.insert(FraudBlockRecord, {
        id: "rul_usagereport",
        scope: "COUNTRY",
        key: "DE",
        rule: "COUNTRY_BURST",
        figures: {},
        created: now,
        until: new Date(now.getTime() + 3_600_000),
      }),
    );
    await enroll(gateway, (await createUser(gateway)).id, "+4915123456780", "SMS");
    await enroll(gateway, (await createUser(gateway)).id, "+447400555004", "SMS");
    const settled = await settleMessages(gateway);
    expect(settled.find((message) => message.toE164 === "+4915123456780")).toMatchObject({
      status: "FAILED",
      errorCode: "BLOCKED_SUSPICIOUS",
    });

    const { smsUsageReport } = await gateway.admin.ok(SmsUsageReportDocument, { from: "2031-06", to: "2031-06" });
    const sms = smsUsageReport.rows.find((row) => row.channel === "SMS")!;
    const domestic = settled.find((message) => message.toE164 === "+447400555004")!;
    expect(sms).toMatchObject({
      domestic: 1,
      international: 0,
      notSent: 1,
      segments: domestic.segments,
      byPurpose: expect.objectContaining({ phoneVerification: 1 }),
    });
    expect(sms.estimatedCost).toBeCloseTo(domestic.estimatedCostMicros! / 1_000_000, 9);
  });

  test("a message a provider was offered counts as sent, though it failed naming no provider", async () => {
    gateway.clock.set(new Date("2031-07-10T12:00:00.000Z"));
    await enroll(gateway, (await createUser(gateway)).id, "+447400555005", "SMS");
    await settleMessages(gateway);
    const offered = (await gateway.db.manager.findOneByOrFail(Message, { toE164: "+447400555005" })).id;
    // A provider took an attempt, then every circuit was open on the last round: FAILED, and no provider named.
    await gateway.db.transaction(({ manager }) =>
      manager.update(Message, { id: offered }, { status: "FAILED", provider: null, errorCode: "PROVIDER_UNREACHABLE" }),
    );

    const { smsUsageReport } = await gateway.admin.ok(SmsUsageReportDocument, { from: "2031-07", to: "2031-07" });
    expect(smsUsageReport.rows.find((row) => row.channel === "SMS")).toMatchObject({ domestic: 1, notSent: 0 });
  });

  test("a span of 36 months is allowed, one more is not", async () => {
    const { smsUsageReport } = await gateway.admin.ok(SmsUsageReportDocument, { from: "2028-02", to: "2031-01" });
    expect(smsUsageReport.rows).toHaveLength(72);
    expect(smsUsageReport.rows[0]).toMatchObject({ month: "2028-02", channel: "SMS" });
    expect(smsUsageReport.rows.at(-1)).toMatchObject({ month: "2031-01", channel: "VOICE" });
    expect(await gateway.admin.fails(SmsUsageReportDocument, { from: "2028-01", to: "2031-01" })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: { field: "to" },
    });
  });

  test.each([
    ["2031-13", "2031-12", "from"],
    ["2031-1", "2031-12", "from"],
    ["2031-01", "31-12", "to"],
    ["2031-05", "2031-04", "from"],
  ])("from %s to %s is BAD_USER_INPUT on %s", async (from, to, field) => {
    expect(await gateway.admin.fails(SmsUsageReportDocument, { from, to })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: { field },
    });
  });

  test("admins only", async () => {
    expect((await gateway.anonymous.fails(SmsUsageReportDocument, { from: "2031-01", to: "2031-01" })).code).toBe("UNAUTHENTICATED");
  });
});
