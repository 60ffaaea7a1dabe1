/**
 * Threat: a runaway bill. Whatever the cause (pumping that slips through, a bug, a flood of
 * real users), estimated spend past the daily cap stops sends, and nothing else.
 */
import { EnrollPhoneFactorDocument, SignInDocument, UpdateCountryDocument, UpdateSecuritySettingsDocument } from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { CLEARED } from "../../../src/security/send-guard";
import { dayOf, TrafficCounterRecord } from "../../../src/security/traffic-counters";
import { Message } from "../../../src/telephony/message.entity";
import { deferred, withTimeout } from "../../support/deferred";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";

const SPEND_CAP_REACHED = "system.sms.spend_cap_reached";

/** Resolves once `count` spend cap events for the period are committed: they are published as they are. */
async function spendCapEvents(gateway: TestGateway, reason: "SPEND_CAP_DAY" | "SPEND_CAP_MONTH", count: number): Promise<LogEventRecord[]> {
  const read = () => gateway.db.manager.findBy(LogEventRecord, { eventType: SPEND_CAP_REACHED, outcomeReason: reason });
  const enough = deferred<void>();
  const check = () => void read().then((events) => events.length >= count && enough.resolve(), enough.reject);
  gateway.events.on("published", check);
  try {
    check();
    await withTimeout(enough.promise, 5_000, `${count} spend cap events`);
    return await read();
  } finally {
    gateway.events.off("published", check);
  }
}

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

  test("a reached cap writes one event a minute, however many sends it refuses: the next one counts those it did not write", async () => {
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 0 } });
    const before = (await gateway.db.manager.findBy(LogEventRecord, { eventType: SPEND_CAP_REACHED })).length;
    gateway.clock.advance(61_000);
    try {
      for (let i = 0; i < 3; i += 1) {
        const user = await createUser(gateway);
        const refused = await gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: `+4474009230${10 + i}`, method: "SMS" } });
        expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "spend" });
      }
      expect(await spendCapEvents(gateway, "SPEND_CAP_DAY", before + 1)).toHaveLength(before + 1);
      gateway.clock.advance(61_000);
      const user = await createUser(gateway);
      await gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400923020", method: "SMS" } });
      const events = await spendCapEvents(gateway, "SPEND_CAP_DAY", before + 2);
      expect(events).toHaveLength(before + 2);
      expect(events.map((event) => event.debugContext?.refusedSinceLastEvent ?? 0).sort()).toContain(2);
    } finally {
      await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: null } });
    }
  });

  test("settings out of range are BAD_USER_INPUT", async () => {
    expect((await gateway.admin.fails(UpdateSecuritySettingsDocument, { input: { maxConsecutiveFailedPasscodes: 101 } })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.anonymous.fails(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 1 } })).code).toBe("UNAUTHENTICATED");
  });
});

describe("spend caps under concurrent sends", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  /** Six enrollments at once, to numbers not used before: the results of each. */
  const enrollSixAtOnce = async (firstNumber: number) => {
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(gateway)));
    return Promise.all(
      users.map((user, index) =>
        gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: `+4474009220${firstNumber + index}`, method: "SMS" } }),
      ),
    );
  };

  /**
   * Two of the six went out and the rest were refused for spend, whether clear() or the send's
   * own transaction refused it, with one event for them all (one a minute); nothing of a refused
   * send is left, no message and no spend counted.
   */
  const expectTwoOfSixSent = async (
    results: Awaited<ReturnType<typeof enrollSixAtOnce>>,
    reason: "SPEND_CAP_DAY" | "SPEND_CAP_MONTH",
    totals: { messages: number; spentMicros: number },
  ) => {
    const refused = results.filter((result) => result.errors);
    expect(results.length - refused.length).toBe(2);
    for (const result of refused) expect(result.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "spend" });
    expect(await gateway.db.manager.count(Message)).toBe(totals.messages);
    const spend = await gateway.db.manager.findBy(TrafficCounterRecord, { kind: "SPEND" });
    expect(spend.map((counter) => Number(counter.value))).toEqual([totals.spentMicros]);
    const events = await spendCapEvents(gateway, reason, 1);
    expect(events).toHaveLength(1);
    // The refusal saw the two that went out, whichever check made it.
    expect(events[0]?.debugContext).toMatchObject({ spentUsd: totals.spentMicros / 1_000_000, attemptedCostUsd: 0.05 });
  };

  test("sends cleared at the same moment cannot pass the daily cap together: only those within it go out", async () => {
    await gateway.admin.ok(UpdateCountryDocument, { code: "GB", input: { smsCostPerSegment: 0.05 } });
    // Room for two one-segment codes at $0.05, not three.
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 0.12 } });
    await expectTwoOfSixSent(await enrollSixAtOnce(10), "SPEND_CAP_DAY", { messages: 2, spentMicros: 100_000 });
  });

  test("and the monthly cap the same way", async () => {
    // $0.10 spent: room for two more codes this month, not three; the day's cap is out of the way.
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 1_000, monthlySpendCapUsd: 0.22 } });
    await expectTwoOfSixSent(await enrollSixAtOnce(20), "SPEND_CAP_MONTH", { messages: 4, spentMicros: 200_000 });
  });
});

describe("the monthly cap for a send clear() did not weigh", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("the send's transaction reads the month's earlier days itself", async () => {
    // Past clear(), or across midnight from it, the month before today is read in the transaction.
    gateway.clock.set(new Date("2026-12-15T12:00:00Z"));
    const { guard } = gateway.services;
    await gateway.db.transaction((tx) =>
      gateway.db.statements.write(tx.manager, `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") VALUES ('SPEND', '*', ?, ?)`, [
        dayOf(Date.UTC(2026, 11, 10)),
        200_000,
      ]),
    );
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 1_000, monthlySpendCapUsd: 0.25 } });
    const send = (costMicros: number) =>
      gateway.db.transaction((tx) => guard.recordSend(tx, { e164: "+447400922100", country: "GB", costMicros, clearance: CLEARED }));

    const spentToday = async () =>
      (await gateway.db.manager.findBy(TrafficCounterRecord, { kind: "SPEND" }))
        .filter((counter) => Number(counter.bucket) === dayOf(Date.UTC(2026, 11, 15)))
        .map((counter) => Number(counter.value));

    // $0.20 on the 10th and $0.06 now would be $0.26 this month: refused, and nothing counted.
    await expect(send(60_000)).rejects.toMatchObject({ code: "RATE_LIMITED", extensions: { limit: "spend" } });
    expect(await spentToday()).toEqual([]);
    await send(40_000);
    expect(await spentToday()).toEqual([40_000]);
  });
});
