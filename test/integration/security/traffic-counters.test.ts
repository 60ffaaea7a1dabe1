/**
 * The pumping rules and spend caps read running counters, not the messages table. These
 * checks hold the counters to what the messages and challenges say, and the migration's
 * backfill to the same totals for a database that had traffic before the counters existed.
 */
import type { MigrationInterface } from "typeorm";
import { ActivatePhoneFactorDocument, EnrollPhoneFactorDocument } from "../../../src/generated/graphql";
import { Challenge } from "../../../src/phone/challenge.entity";
import { newId } from "../../../src/platform/ids";
import { postgresMigrations, sqliteMigrations } from "../../../src/platform/migrations";
import { FraudBlockRecord } from "../../../src/security/security-settings.entity";
import { RangeNumberRecord, TrafficCounterRecord } from "../../../src/security/traffic-counters";
import { Message } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, receivedCode, settleMessages } from "../../support/phone";

interface Totals {
  spend: number;
  sends: Record<string, number>;
  verified: Record<string, number>;
}

async function countersTotals(gateway: TestGateway): Promise<Totals> {
  const totals: Totals = { spend: 0, sends: {}, verified: {} };
  for (const row of await gateway.db.manager.find(TrafficCounterRecord)) {
    const value = Number(row.value);
    if (row.kind === "SPEND") totals.spend += value;
    else {
      const byCountry = row.kind === "SENDS" ? totals.sends : totals.verified;
      byCountry[row.key] = (byCountry[row.key] ?? 0) + value;
    }
  }
  return totals;
}

/** A send a block stopped: recorded, never offered to a provider, and counted nowhere. */
const stoppedByBlock = (message: Message) => message.errorCode === "BLOCKED_SUSPICIOUS" && message.provider === null;

async function recordedTotals(gateway: TestGateway): Promise<Totals> {
  const totals: Totals = { spend: 0, sends: {}, verified: {} };
  for (const message of await gateway.db.manager.find(Message)) {
    if (stoppedByBlock(message)) continue;
    totals.sends[message.country] = (totals.sends[message.country] ?? 0) + 1;
    totals.spend += message.estimatedCostMicros ?? 0;
  }
  for (const challenge of await gateway.db.manager.find(Challenge, { where: { status: "VERIFIED" } })) {
    totals.verified[challenge.country] = (totals.verified[challenge.country] ?? 0) + 1;
  }
  return totals;
}

/** Each number sent to, with its range and its latest send, as the messages record them. */
async function recordedNumbers(gateway: TestGateway): Promise<Record<string, { range: string; lastSent: number }>> {
  const numbers: Record<string, { range: string; lastSent: number }> = {};
  for (const message of await gateway.db.manager.find(Message)) {
    if (stoppedByBlock(message)) continue;
    const latest = Math.max(numbers[message.toE164]?.lastSent ?? 0, message.created.getTime());
    numbers[message.toE164] = { range: message.toE164.slice(0, -2), lastSent: latest };
  }
  return numbers;
}

async function countedNumbers(gateway: TestGateway): Promise<Record<string, { range: string; lastSent: number }>> {
  const rows = await gateway.db.manager.find(RangeNumberRecord);
  return Object.fromEntries(rows.map((row) => [row.e164, { range: row.range, lastSent: Number(row.lastSent) }]));
}

describe("traffic counters", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("sends, verifications and spend are counted as the messages and challenges record them; a stopped send counts nowhere", async () => {
    const numbers = ["+447400555101", "+447400555202", "+33612555303"];
    for (const phoneNumber of numbers) {
      const user = await createUser(gateway);
      const { factor } = await enroll(gateway, user.id, phoneNumber);
      await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phoneNumber) } });
    }
    const spentBeforeStop = (await countersTotals(gateway)).spend;
    // A fraud block on a range stops the send: the message is recorded, and counted neither as a send nor as spend.
    const now = gateway.clock.now();
    await gateway.db.transaction(({ manager }) =>
      manager.insert(FraudBlockRecord, {
        id: newId("rul"),
        scope: "RANGE",
        key: "+4474005554",
        rule: "TEST",
        figures: {},
        created: now,
        until: new Date(now.getTime() + 60_000),
      }),
    );
    const stoppedUser = await createUser(gateway);
    await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: stoppedUser.id, phoneNumber: "+447400555404", method: "SMS" } });
    const messages = await settleMessages(gateway);
    expect(messages.filter((message) => message.errorCode === "BLOCKED_SUSPICIOUS").map((message) => message.toE164)).toEqual(["+447400555404"]);

    const counted = await countersTotals(gateway);
    expect(counted).toEqual(await recordedTotals(gateway));
    expect(counted.sends).toEqual({ GB: 2, FR: 1 });
    expect(counted.verified).toEqual({ GB: 2, FR: 1 });
    expect(counted.spend).toBe(spentBeforeStop);
    expect(counted.spend).toBeGreaterThan(0);
    // The stopped send counts towards its range too: a pumper's blocked attempts are still traffic.
    expect(await countedNumbers(gateway)).toEqual(await recordedNumbers(gateway));
    expect(Object.keys(await countedNumbers(gateway)).sort()).toEqual([...numbers].sort());
  });

  test("the migrations that add the counters and the range numbers backfill them from the traffic already recorded", async () => {
    const before = await countersTotals(gateway);
    const numbersBefore = await countedNumbers(gateway);
    expect(Object.keys(numbersBefore).length).toBeGreaterThan(0);
    const migrations = gateway.db.engine === "postgres" ? postgresMigrations : sqliteMigrations;
    const migration = (name: string) => {
      const Migration = migrations.find((candidate) => candidate.name.startsWith(name)) as new () => MigrationInterface;
      return new Migration();
    };
    const runner = gateway.db.dataSource.createQueryRunner();
    try {
      // Undone newest first, as a rollback would, then redone.
      await migration("RangeNumbers").down(runner);
      await migration("TrafficCounters").down(runner);
      await migration("TrafficCounters").up(runner);
      await migration("RangeNumbers").up(runner);
    } finally {
      await runner.release();
    }
    expect(await countersTotals(gateway)).toEqual(before);
    expect(await countedNumbers(gateway)).toEqual(numbersBefore);
  });

  test("the purge drops numbers no pumping window reaches any more, and keeps the month's spend", async () => {
    const spend = (await countersTotals(gateway)).spend;
    expect(Object.keys(await countedNumbers(gateway)).length).toBeGreaterThan(0);
    const startedAt = gateway.clock.now();
    try {
      // A day and a minute on: past the longest window, within the month unless the month turned.
      gateway.clock.advance(86_400_000 + 60_000);
      await gateway.services.guard.purgeCounters();
      expect(await countedNumbers(gateway)).toEqual({});
      if (new Date(startedAt).getUTCMonth() === gateway.clock.now().getUTCMonth()) expect((await countersTotals(gateway)).spend).toBe(spend);
    } finally {
      gateway.clock.set(startedAt);
    }
  });
});
