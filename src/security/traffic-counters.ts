import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import type { Database, Transaction } from "../platform/database";

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

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

const NOTE_NUMBER =
  `INSERT INTO "range_numbers" ("e164", "range", "last_sent") VALUES (?, ?, ?) ` +
  `ON CONFLICT ("e164") DO UPDATE SET "last_sent" = excluded."last_sent"`;
const NUMBERS_SINCE =
  `SELECT COUNT(*) AS "numbers", MAX(CASE WHEN "e164" = ? THEN 1 ELSE 0 END) AS "includesThis" ` +
  `FROM "range_numbers" WHERE "range" = ? AND "last_sent" >= ?`;
const PURGE_NUMBERS = `DELETE FROM "range_numbers" WHERE "last_sent" < ?`;
const ADD_TO_BUCKET =
  `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") VALUES (?, ?, ?, ?) ` +
  `ON CONFLICT ("kind", "key", "bucket") DO UPDATE SET "value" = "traffic_counters"."value" + excluded."value"`;
const SUM_SINCE = `SELECT COALESCE(SUM("value"), 0) AS "total" FROM "traffic_counters" WHERE "kind" = ? AND "key" = ? AND "bucket" >= ?`;
const PURGE_BUCKETS = `DELETE FROM "traffic_counters" WHERE "bucket" < ?`;

export class TrafficCounters {
  constructor(private readonly db: Database) {}

  /**
   * Adds to a bucket inside the caller's transaction, so a rolled-back send counts nothing.
   * Callers make it their transaction's last write: on PostgreSQL the row stays locked until
   * commit, and every send to a country in the same minute shares it.
   */
  async add(tx: Transaction, kind: TrafficCounterKind, key: string, bucket: number, value: number): Promise<void> {
    if (value === 0) return;
    await this.db.statements.write(tx.manager, ADD_TO_BUCKET, [kind, key, bucket, value]);
  }

  /** The sum of the buckets at or after `sinceBucket`. */
  async sumSince(kind: TrafficCounterKind, key: string, sinceBucket: number): Promise<number> {
    const rows: Array<{ total: string | number }> = await this.db.statements.query(this.db.manager, SUM_SINCE, [kind, key, sinceBucket]);
    return Number(rows[0]?.total ?? 0);
  }

  /** Notes a send to `e164` at `epochMs`, inside the send's transaction. */
  async noteSendTo(tx: Transaction, e164: string, range: string, epochMs: number): Promise<void> {
    await this.db.statements.write(tx.manager, NOTE_NUMBER, [e164, range, epochMs]);
  }

  /** How many distinct numbers of `range` were sent to at or after `sinceMs`, and whether `e164` is one of them. */
  async numbersSentInRange(range: string, e164: string, sinceMs: number): Promise<{ numbers: number; includes: boolean }> {
    const [row]: Array<{ numbers: string | number; includesThis: string | number | null }> = await this.db.statements.query(this.db.manager, NUMBERS_SINCE, [
      e164,
      range,
      sinceMs,
    ]);
    return { numbers: Number(row?.numbers ?? 0), includes: Number(row?.includesThis ?? 0) === 1 };
  }

  /** Drops buckets older than `countersBefore` (the longest cap reads a month) and numbers last sent to before `numbersBefore`. */
  async purgeBefore(countersBefore: number, numbersBefore: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.db.statements.write(tx.manager, PURGE_BUCKETS, [countersBefore]);
      await this.db.statements.write(tx.manager, PURGE_NUMBERS, [numbersBefore]);
    });
  }
}
