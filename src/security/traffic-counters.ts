import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { DAY_MS } from "../platform/clock";
import type { Database, LastWrite, Transaction } from "../platform/database";

export const MINUTE_MS = 60_000;

/**
 * SENDS and VERIFIED count per country and minute (the pumping rules' window); SPEND sums
 * estimated cost in millionths of a dollar per UTC day (the spend caps, key "*").
 */
export type TrafficCounterKind = "SENDS" | "VERIFIED" | "SPEND";

/**
 * Running totals the send guard reads instead of aggregating `messages`: a send then costs a
 * few indexed rows whatever the traffic, where a SUM over the month's messages grew with it.
 */
@Entity("traffic_counters")
export class TrafficCounterRecord {
  @PrimaryColumn({ type: "varchar", length: 16 })
  kind: TrafficCounterKind;

  @PrimaryColumn({ type: "varchar", length: 20 })
  key: string;

  /** The bucket's start, epoch ms: a whole minute (SENDS, VERIFIED) or a UTC midnight (SPEND). */
  @PrimaryColumn({ type: "bigint" })
  bucket: string;

  @Column({ type: "bigint" })
  value: string;
}

/**
 * When each number was last sent to, with its range (all but its last two digits): the
 * sequential-numbers rule counts the distinct numbers of a range sent to within its window, an
 * index range over recent rows only, where counting `messages` read the range's whole history.
 */
@Entity("range_numbers")
@Index("range_numbers_range_last_sent", ["range", "lastSent"])
export class RangeNumberRecord {
  @PrimaryColumn({ type: "varchar", length: 20 })
  e164: string;

  @Column({ type: "varchar", length: 20 })
  range: string;

  /** Epoch ms. */
  @Column({ name: "last_sent", type: "bigint" })
  lastSent: string;
}

export const minuteOf = (epochMs: number) => Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
export const dayOf = (epochMs: number) => Math.floor(epochMs / DAY_MS) * DAY_MS;
/** The start of the UTC month: where the monthly spend cap counts from. */
export const monthOf = (epochMs: number) => {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
};

export interface CounterAddition {
  kind: TrafficCounterKind;
  key: string;
  bucket: number;
  value: number;
}

/** A bucket's value once an addition is in: what the spend caps are held to inside the send's transaction. */
export type CounterTotal = CounterAddition;

/** What the send guard weighs before a send, from the counters. */
export interface SendFigures {
  /** Estimated spend, in millionths of a dollar, since the UTC day's start and the month's. */
  spentToday: number;
  spentThisMonth: number;
  /** Sends to and verifications in the country since the pumping window's first minute. */
  sends: number;
  verified: number;
  /** Distinct numbers of the range sent to within the window, and whether this number is one. */
  rangeNumbers: number;
  rangeIncludesThis: boolean;
}

export interface SendFiguresQuery {
  dayStart: number;
  monthStart: number;
  country: string;
  /** The pumping window's first minute (counters) and its exact start (numbers). */
  windowMinute: number;
  windowStart: number;
  e164: string;
  range: string;
}

/**
 * Every figure in one row: read one by one, they were six round trips before each send on
 * PostgreSQL. Each subquery is an index range (the counters' key, range_numbers_range_last_sent).
 * The send guard reads the blocks in force beside it, in the same statement.
 */
export const SEND_FIGURES =
  `SELECT ` +
  `(SELECT COALESCE(SUM("value"), 0) FROM "traffic_counters" WHERE "kind" = 'SPEND' AND "key" = '*' AND "bucket" >= ?) AS "spentToday", ` +
  `(SELECT COALESCE(SUM("value"), 0) FROM "traffic_counters" WHERE "kind" = 'SPEND' AND "key" = '*' AND "bucket" >= ?) AS "spentThisMonth", ` +
  `(SELECT COALESCE(SUM("value"), 0) FROM "traffic_counters" WHERE "kind" = 'SENDS' AND "key" = ? AND "bucket" >= ?) AS "sends", ` +
  `(SELECT COALESCE(SUM("value"), 0) FROM "traffic_counters" WHERE "kind" = 'VERIFIED' AND "key" = ? AND "bucket" >= ?) AS "verified", ` +
  `(SELECT COUNT(*) FROM "range_numbers" WHERE "range" = ? AND "last_sent" >= ?) AS "rangeNumbers", ` +
  `(SELECT COUNT(*) FROM "range_numbers" WHERE "e164" = ? AND "range" = ? AND "last_sent" >= ?) AS "rangeIncludesThis"`;

export function sendFiguresParameters(query: SendFiguresQuery): unknown[] {
  return [
    query.dayStart,
    query.monthStart,
    query.country,
    query.windowMinute,
    query.country,
    query.windowMinute,
    query.range,
    query.windowStart,
    query.e164,
    query.range,
    query.windowStart,
  ];
}

export type SendFiguresRow = Record<keyof SendFigures, string | number>;

/** PostgreSQL gives SUM over bigint and COUNT as strings. */
export function readSendFigures(row: SendFiguresRow): SendFigures {
  return {
    spentToday: Number(row.spentToday),
    spentThisMonth: Number(row.spentThisMonth),
    sends: Number(row.sends),
    verified: Number(row.verified),
    rangeNumbers: Number(row.rangeNumbers),
    rangeIncludesThis: Number(row.rangeIncludesThis) > 0,
  };
}

const SPENT_BETWEEN = `SELECT COALESCE(SUM("value"), 0) AS "spent" FROM "traffic_counters" WHERE "kind" = 'SPEND' AND "key" = '*' AND "bucket" >= ? AND "bucket" < ?`;

const NOTE_NUMBER =
  `INSERT INTO "range_numbers" ("e164", "range", "last_sent") VALUES (?, ?, ?) ` +
  `ON CONFLICT ("e164") DO UPDATE SET "last_sent" = excluded."last_sent"`;
const PURGE_NUMBERS = `DELETE FROM "range_numbers" WHERE "last_sent" < ?`;
/** An upsert adding to one bucket per row (rows must name distinct buckets: one statement may not update a row twice). */
const addToBuckets = (rows: number) =>
  `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?)").join(", ")} ` +
  `ON CONFLICT ("kind", "key", "bucket") DO UPDATE SET "value" = "traffic_counters"."value" + excluded."value"`;
const ADD_TO_BUCKET = [addToBuckets(1), addToBuckets(2), addToBuckets(3)];

/** The upsert for the additions that add something, with its parameters; null when none does. */
function bucketUpsert(additions: readonly CounterAddition[]): { sql: string; parameters: unknown[] } | null {
  const rows = additions.filter((addition) => addition.value !== 0);
  if (!rows.length) return null;
  const sql = ADD_TO_BUCKET[rows.length - 1];
  if (!sql) throw new Error(`At most ${ADD_TO_BUCKET.length} counters are added at once`);
  return { sql, parameters: rows.flatMap(({ kind, key, bucket, value }) => [kind, key, bucket, value]) };
}
const PURGE_BUCKETS = `DELETE FROM "traffic_counters" WHERE "bucket" < ?`;

export class TrafficCounters {
  constructor(private readonly db: Database) {}

  /**
   * Adds to buckets inside the caller's transaction, so a rolled-back send counts nothing; all
   * in one statement. Callers make it their transaction's last write: the rows stay locked until
   * commit, and every send to a country in the same minute shares one (on PostgreSQL, writes
   * that lock shared rows go with the COMMIT instead: see noteSendAndAddWithinCaps). Every
   * caller names its buckets in the same order of kinds, so two sends lock them in one order.
   * Resolves with each bucket's total including this addition (RETURNING).
   */
  async add(tx: Transaction, ...additions: CounterAddition[]): Promise<CounterTotal[]> {
    const upsert = bucketUpsert(additions);
    if (!upsert) return [];
    const totals = await this.db.statements.writeReturning(tx.manager, TrafficCounterRecord, upsert.sql, upsert.parameters);
    return totals.map((total) => ({ kind: total.kind, key: total.key, bucket: Number(total.bucket), value: Number(total.value) }));
  }

  /** Notes a send to `e164` at `epochMs` (range_numbers) and adds to buckets as add() does, in the send's transaction. */
  async noteSendAndAdd(tx: Transaction, sent: { e164: string; range: string; epochMs: number }, ...additions: CounterAddition[]): Promise<CounterTotal[]> {
    await this.db.statements.write(tx.manager, NOTE_NUMBER, [sent.e164, sent.range, sent.epochMs]);
    return this.add(tx, ...additions);
  }

  /** add() as a statement to write later (Transaction.commitWith); null when nothing is added. */
  later(...additions: CounterAddition[]): LastWrite | null {
    return bucketUpsert(additions);
  }

  /**
   * PostgreSQL: noteSendAndAdd as one statement for the send's COMMIT to carry (Transaction.
   * commitWith), with the spend caps checked inside it: the day's SPEND total, this addition
   * included, may not pass `caps.day`, nor `caps.month` (the month's cap less what the month
   * spent before today). Past either, the statement raises RF001 (day) or RF002 (month), with
   * the day's total as its detail, and the transaction rolls back.
   */
  noteSendAndAddWithinCaps(sent: { e164: string; range: string; epochMs: number }, additions: CounterAddition[], caps: { day: number; month: number }): LastWrite {
    // A send always adds to its country's sends, so there is an upsert to carry the note.
    const upsert = bucketUpsert(additions);
    if (!upsert) throw new Error("A send's note goes with an addition to its counters");
    return {
      sql:
        `WITH "noted" AS (${NOTE_NUMBER}), "added" AS (${upsert.sql} RETURNING "kind", "value") ` +
        // CASE, not OR: the check must run on the SPEND row only, and OR may be evaluated either way round.
        `SELECT "kind", "value" FROM "added" WHERE CASE WHEN "kind" = 'SPEND' THEN "ringfence_within_spend_caps"("value", ?, ?) ELSE true END`,
      parameters: [sent.e164, sent.range, sent.epochMs, ...upsert.parameters, caps.day, caps.month],
    };
  }

  /** The spend of the UTC days from `from` up to (not including) `until`, as this transaction sees it. */
  async spentBetween(tx: Transaction, from: number, until: number): Promise<number> {
    const [row]: Array<{ spent: string | number }> = await this.db.statements.query(tx.manager, SPENT_BETWEEN, [from, until]);
    return Number(row?.spent ?? 0);
  }

  /** Drops buckets older than `countersBefore` (the longest cap reads a month) and numbers last sent to before `numbersBefore`. */
  async purgeBefore(countersBefore: number, numbersBefore: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Instances sharing the database take turns, as the retention purges do.
      if (!(await this.db.tryScheduleLock(tx, "ringfence:counter-purge"))) return;
      await this.db.statements.write(tx.manager, PURGE_BUCKETS, [countersBefore]);
      await this.db.statements.write(tx.manager, PURGE_NUMBERS, [numbersBefore]);
    });
  }
}
