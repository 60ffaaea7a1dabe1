import type { MigrationInterface, QueryRunner } from "typeorm";

export class RangeNumbers1795591427987 implements MigrationInterface {
  name = "RangeNumbers1795591427987";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "messages_to"`);
    await queryRunner.query(`CREATE TABLE "range_numbers" ("e164" varchar(20) PRIMARY KEY NOT NULL, "range" varchar(20) NOT NULL, "last_sent" bigint NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "range_numbers_range_last_sent" ON "range_numbers" ("range", "last_sent") `);
    // The numbers sent to in the last day (the longest pumping window), so the sequential-numbers rule holds across the upgrade.
    await queryRunner.query(
      `INSERT INTO "range_numbers" ("e164", "range", "last_sent") SELECT "to_e164", substr("to_e164", 1, length("to_e164") - 2), MAX("created") FROM "messages" WHERE ("provider" IS NOT NULL OR "error_code" IS NULL OR "error_code" <> 'BLOCKED_SUSPICIOUS') AND "created" >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000 GROUP BY "to_e164"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "range_numbers_range_last_sent"`);
    await queryRunner.query(`DROP TABLE "range_numbers"`);
    await queryRunner.query(`CREATE INDEX "messages_to" ON "messages" ("to_e164", "created") `);
  }
}
