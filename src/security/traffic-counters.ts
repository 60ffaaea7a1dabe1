import { Column, Entity, PrimaryColumn } from "typeorm";
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

export const minuteOf = (epochMs: number) => Math.floor(epochMs / MINUTE_MS) * MINUTE_MS;
export const dayOf = (epochMs: number) => Math.floor(epochMs / DAY_MS) * DAY_MS;

export class TrafficCounters {
  private readonly upsert: string;
  private readonly total: string;
  private readonly purge: string;

  constructor(private readonly db: Database) {
    const [p1, p2, p3, p4] = db.engine === "postgres" ? ["$1", "$2", "$3", "$4"] : ["?", "?", "?", "?"];
    this.upsert =
      `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") VALUES (${p1}, ${p2}, ${p3}, ${p4}) ` +
      `ON CONFLICT ("kind", "key", "bucket") DO UPDATE SET "value" = "traffic_counters"."value" + excluded."value"`;
    this.total = `SELECT COALESCE(SUM("value"), 0) AS "total" FROM "traffic_counters" WHERE "kind" = ${p1} AND "key" = ${p2} AND "bucket" >= ${p3}`;
    this.purge = `DELETE FROM "traffic_counters" WHERE "bucket" < ${p1}`;
  }

  /**
   * Adds to a bucket inside the caller's transaction, so a rolled-back send counts nothing.
   * Callers make it their transaction's last write: on PostgreSQL the row stays locked until
   * commit, and every send to a country in the same minute shares it.
   */
  async add(tx: Transaction, kind: TrafficCounterKind, key: string, bucket: number, value: number): Promise<void> {
    if (value === 0) return;
    await tx.manager.query(this.upsert, [kind, key, bucket, value]);
  }

  /** The sum of the buckets at or after `sinceBucket`. */
  async sumSince(kind: TrafficCounterKind, key: string, sinceBucket: number): Promise<number> {
    const rows: Array<{ total: string | number }> = await this.db.manager.query(this.total, [kind, key, sinceBucket]);
    return Number(rows[0]?.total ?? 0);
  }

  /** Drops buckets older than any window or cap reads (the longest is a month). */
  async purgeBefore(epochMs: number): Promise<void> {
    await this.db.transaction((tx) => tx.manager.query(this.purge, [epochMs]));
  }
}
