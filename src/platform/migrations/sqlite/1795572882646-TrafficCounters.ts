import type { MigrationInterface, QueryRunner } from "typeorm";

export class TrafficCounters1795572882646 implements MigrationInterface {
  name = "TrafficCounters1795572882646";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "traffic_counters" ("kind" varchar(16) NOT NULL, "key" varchar(20) NOT NULL, "bucket" bigint NOT NULL, "value" bigint NOT NULL, PRIMARY KEY ("kind", "key", "bucket"))`);
    await queryRunner.query(`CREATE INDEX "messages_to" ON "messages" ("to_e164", "created") `);
    // Totals for what was sent before the counters existed, so caps and windows hold across the upgrade.
    await queryRunner.query(
      `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") SELECT 'SPEND', '*', ("created" / 86400000) * 86400000, SUM(COALESCE("estimated_cost_micros", 0)) FROM "messages" WHERE "provider" IS NOT NULL OR "error_code" IS NULL OR "error_code" <> 'BLOCKED_SUSPICIOUS' GROUP BY 3`,
    );
    await queryRunner.query(
      `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") SELECT 'SENDS', "country", ("created" / 60000) * 60000, COUNT(*) FROM "messages" WHERE "provider" IS NOT NULL OR "error_code" IS NULL OR "error_code" <> 'BLOCKED_SUSPICIOUS' GROUP BY 2, 3`,
    );
    await queryRunner.query(
      `INSERT INTO "traffic_counters" ("kind", "key", "bucket", "value") SELECT 'VERIFIED', "country", ("verified_at" / 60000) * 60000, COUNT(*) FROM "challenges" WHERE "status" = 'VERIFIED' AND "verified_at" IS NOT NULL GROUP BY 2, 3`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "messages_to"`);
    await queryRunner.query(`DROP TABLE "traffic_counters"`);
  }
}
