/**
 * Threat: SMS pumping (toll fraud). A bot enrolls or challenges many numbers in a range the
 * attacker earns revenue from, or floods one foreign country, never verifying a code.
 */
import { ActivatePhoneFactorDocument, EnrollPhoneFactorDocument, FraudBlocksDocument, LiftFraudBlockDocument, SignInDocument } from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { ADVISORY_KEY } from "../../../src/platform/database";
import { FraudBlockRecord } from "../../../src/security/security-settings.entity";
import { Message } from "../../../src/telephony/message.entity";
import { engine, PRODUCTION_LIMITS, startTestGateway, type TestGateway } from "../../support/gateway";
import { rivalConnection } from "../../support/pg-locks";
import { createUser, enroll, receivedCode, settleMessages } from "../../support/phone";

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
    // The send that tripped the block and those the block then stopped say which block it was.
    expect(stopped.map((m) => m.providerStatus)).toEqual(stopped.map(() => "RANGE:SEQUENTIAL_NUMBERS"));
    const blocked = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } });
    expect(blocked).toHaveLength(1);
    expect(blocked[0]?.debugContext).toMatchObject({ rule: "SEQUENTIAL_NUMBERS", range: "+4474009000", distinctNumbers: 5 });
    const { fraudBlocks } = await gateway.admin.ok(FraudBlocksDocument);
    expect(fraudBlocks).toEqual([
      expect.objectContaining({ scope: "RANGE", key: "+4474009000", rule: "SEQUENTIAL_NUMBERS", figures: expect.objectContaining({ distinctNumbers: 5 }) }),
    ]);
    expect(Date.parse(fraudBlocks[0]!.until)).toBeGreaterThan(gateway.clock.now().getTime());
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
    expect((await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks.map((block) => `${block.scope}:${block.key}:${block.rule}`)).toContain("COUNTRY:FR:COUNTRY_BURST");
    const user = await createUser(gateway);
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: "a long enough password" } })).signIn.status).toBe("SUCCESS");
  });
});

describe("SMS pumping: the verify-to-send ratio", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ ...PRODUCTION_LIMITS, ORG_HOME_COUNTRY: "GB", LIMIT_PUMPING_RATIO_MINIMUM_SENDS: "4" });
  });
  afterAll(() => gateway.stop());

  const enrollUnverified = async (phoneNumbers: string[]) => {
    for (const phoneNumber of phoneNumbers) {
      const user = await createUser(gateway);
      await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber, method: "SMS" } });
    }
    return settleMessages(gateway);
  };

  test("codes sent to a foreign country and never verified block it once enough were sent, each number in its own range", async () => {
    const numbers = [0, 1, 2, 3, 4].map((i) => `+3361${String(i * 7919).padStart(7, "0")}`);
    const messages = await enrollUnverified(numbers);
    const stopped = messages.filter((message) => message.errorCode === "BLOCKED_SUSPICIOUS").map((message) => message.toE164);
    expect(stopped).toEqual(numbers.slice(3));
    const blocks = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } });
    expect(blocks.map((event) => event.debugContext)).toEqual([expect.objectContaining({ rule: "LOW_VERIFY_RATIO", country: "FR", sends: 4, verified: 0 })]);
  });

  test("the home country is never blocked as a whole: unverified codes there go out, while the range rule still holds", async () => {
    const numbers = [0, 1, 2, 3, 4, 5].map((i) => `+44740${i}123456`);
    const messages = await enrollUnverified(numbers);
    expect(messages.filter((message) => message.country === "GB").every((message) => message.status === "DELIVERED")).toBe(true);
    const rules = (await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } })).map((event) => event.debugContext?.country);
    expect(rules).not.toContain("GB");

    const sequential = [10, 11, 12, 13, 14].map((last) => `+4474091234${last}`);
    const after = await enrollUnverified(sequential);
    const stoppedAtHome = after.filter((message) => message.country === "GB" && message.errorCode === "BLOCKED_SUSPICIOUS");
    expect(stoppedAtHome.map((message) => message.toE164)).toEqual(sequential.slice(4));
  });

  test("codes that are verified keep a foreign country's ratio up: however many are sent, none is stopped", async () => {
    const numbers = [0, 1, 2, 3, 4, 5].map((i) => `+49151${String(1_000_000 + i * 7919).padStart(8, "0")}`);
    for (const phoneNumber of numbers) {
      const user = await createUser(gateway);
      const { factor } = await enroll(gateway, user.id, phoneNumber);
      await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phoneNumber) } });
    }
    const german = (await settleMessages(gateway)).filter((message) => message.country === "DE");
    expect(german.map((message) => message.status)).toEqual(numbers.map(() => "DELIVERED"));
    const blocks = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } });
    expect(blocks.map((event) => event.debugContext?.country)).not.toContain("DE");
  });
});

/** Enrolls a new user on each number in turn, then the delivery failure code of each one's message (null: sent). */
async function errorCodesOfSendsTo(gateway: TestGateway, phoneNumbers: string[]): Promise<Array<string | null>> {
  for (const phoneNumber of phoneNumbers) {
    const user = await createUser(gateway);
    await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber, method: "SMS" } });
  }
  const settled = await settleMessages(gateway);
  return phoneNumbers.map((phoneNumber) => settled.find((message) => message.toE164 === phoneNumber)!.errorCode);
}

describe("SMS pumping: a block that lapses", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ ...PRODUCTION_LIMITS, ORG_HOME_COUNTRY: "GB", LIMIT_PUMPING_RATIO_MINIMUM_SENDS: "4" });
  });
  afterAll(() => gateway.stop());

  const sendTo = (phoneNumbers: string[]) => errorCodesOfSendsTo(gateway, phoneNumbers);
  const french = (from: number) => [0, 1, 2, 3].map((i) => `+3361${String((from + i) * 7919).padStart(7, "0")}`);

  test("is not tripped again by the sends it stopped: they could never be verified", async () => {
    expect(await sendTo(french(0))).toEqual([null, null, null, "BLOCKED_SUSPICIOUS"]);
    // Users go on asking for codes in the block's last minutes, and are stopped.
    gateway.clock.advance(55 * 60_000);
    expect(await sendTo(french(10))).toEqual(french(10).map(() => "BLOCKED_SUSPICIOUS"));
    gateway.clock.advance(6 * 60_000);
    expect(await sendTo(french(20).slice(0, 1))).toEqual([null]);
    const blocks = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.fraud_blocked" } });
    expect(blocks).toHaveLength(1);
  });
});

describe("SMS pumping: an admin lifts a block", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    // The home country: only the range rule can trip.
    gateway = await startTestGateway({ ...PRODUCTION_LIMITS, ORG_HOME_COUNTRY: "GB" });
  });
  afterAll(() => gateway.stop());

  const sendTo = (phoneNumbers: string[]) => errorCodesOfSendsTo(gateway, phoneNumbers);

  test("a lifted range block ends at once, the rules leave the range alone for their window, and then guard it again", async () => {
    expect(await sendTo(["+447400910010", "+447400910011", "+447400910012", "+447400910013", "+447400910014"])).toEqual([null, null, null, null, "BLOCKED_SUSPICIOUS"]);
    const [block] = (await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks;
    expect(block).toMatchObject({ scope: "RANGE", key: "+4474009100", rule: "SEQUENTIAL_NUMBERS" });

    expect(await gateway.admin.ok(LiftFraudBlockDocument, { id: block!.id })).toEqual({ liftFraudBlock: true });
    expect((await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks).toEqual([]);
    expect(await gateway.admin.ok(LiftFraudBlockDocument, { id: block!.id })).toEqual({ liftFraudBlock: false });
    expect((await gateway.admin.fails(LiftFraudBlockDocument, { id: "rul_nothing" })).code).toBe("NOT_FOUND");
    expect((await gateway.anonymous.fails(LiftFraudBlockDocument, { id: block!.id })).code).toBe("UNAUTHENTICATED");
    const [lift] = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "security.fraud_block.lift" } });
    expect(lift?.debugContext).toMatchObject({ rule: "SEQUENTIAL_NUMBERS", scope: "RANGE", key: "+4474009100" });

    // The five numbers that tripped the rule are still in its window: without the lift, this one would trip it again.
    expect(await sendTo(["+447400910015"])).toEqual([null]);

    gateway.clock.advance(12 * 60_000);
    expect(await sendTo(["+447400910020", "+447400910021", "+447400910022", "+447400910023", "+447400910024"])).toEqual([null, null, null, null, "BLOCKED_SUSPICIOUS"]);
    expect((await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks).toEqual([expect.objectContaining({ scope: "RANGE", key: "+4474009100" })]);
  });

  test("the purge drops the blocks and lifts that have lapsed and keeps the block in force, until it lapses too", async () => {
    const rows = async () => (await gateway.db.manager.find(FraudBlockRecord, { order: { created: "ASC" } })).map((row) => `${row.key}:${row.rule}`);
    // The lifted block and its lift (past the window), then the block the range tripped again.
    expect(await rows()).toEqual(["+4474009100:SEQUENTIAL_NUMBERS", "+4474009100:LIFTED", "+4474009100:SEQUENTIAL_NUMBERS"]);
    const [inForce] = (await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks;

    if (engine === "postgres") {
      // Another instance's purge under way: this one leaves the work to it.
      const rival = await rivalConnection(gateway);
      try {
        await rival.query("BEGIN");
        await rival.query(`SELECT pg_advisory_xact_lock(${ADVISORY_KEY})`, ["ringfence:fraud-block-purge"]);
        expect(await gateway.services.guard.purgeLapsedBlocks()).toBe(0);
      } finally {
        await rival.query("ROLLBACK");
        await rival.end();
      }
    }
    expect(await gateway.services.guard.purgeLapsedBlocks()).toBe(2);
    expect(await gateway.db.manager.find(FraudBlockRecord)).toEqual([expect.objectContaining({ id: inForce!.id })]);
    expect((await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks).toEqual([inForce]);

    const startedAt = gateway.clock.now();
    try {
      gateway.clock.set(new Date(Date.parse(inForce!.until)));
      expect(await gateway.services.guard.purgeLapsedBlocks()).toBe(1);
      expect(await rows()).toEqual([]);
    } finally {
      gateway.clock.set(startedAt);
    }
  });

  test("a lift ends every block in force on its country or range: sends cleared at once can each have tripped one", async () => {
    const now = gateway.clock.now();
    const until = new Date(now.getTime() + 60 * 60_000);
    await gateway.db.transaction(({ manager }) =>
      manager.insert(
        FraudBlockRecord,
        ["rul_racedfirst", "rul_racedsecond"].map((id) => ({ id, scope: "COUNTRY", key: "DE", rule: "COUNTRY_BURST", figures: { sends: 8 }, created: now, until })),
      ),
    );
    expect(await gateway.admin.ok(LiftFraudBlockDocument, { id: "rul_racedfirst" })).toEqual({ liftFraudBlock: true });

    expect((await gateway.admin.ok(FraudBlocksDocument)).fraudBlocks).toEqual([]);
    expect(await sendTo(["+4915112345678"])).toEqual([null]);
    const lifts = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "security.fraud_block.lift" } });
    expect(lifts.at(-1)?.debugContext).toMatchObject({ scope: "COUNTRY", key: "DE", liftedBlocks: 2 });
  });
});
