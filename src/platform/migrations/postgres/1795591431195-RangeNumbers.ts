import type { MigrationInterface, QueryRunner } from "typeorm";

export class RangeNumbers1795591431195 implements MigrationInterface {
  name = "RangeNumbers1795591431195";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "messages_to"`);
    await queryRunner.query(`CREATE TABLE "range_numbers" ("e164" character varying(20) NOT NULL, "range" character varying(20) NOT NULL, "last_sent" bigint NOT NULL, CONSTRAINT "PK_4fe44b3b13a6db8089cffb7e1eb" PRIMARY KEY ("e164"))`);
    await queryRunner.query(`CREATE INDEX "range_numbers_range_last_sent" ON "range_numbers"  ("range", "last_sent") `);
    // The numbers sent to in the last day (the longest pumping window), so the sequential-numbers rule holds across the upgrade.
    await queryRunner.query(
      `INSERT INTO "range_numbers" ("e164", "range", "last_sent") SELECT "to_e164", left("to_e164", -2), MAX("created") FROM "messages" WHERE ("provider" IS NOT NULL OR "error_code" IS NULL OR "error_code" <> 'BLOCKED_SUSPICIOUS') AND "created" >= (EXTRACT(EPOCH FROM now()) * 1000)::bigint - 86400000 GROUP BY "to_e164"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "range_numbers_range_last_sent"`);
    await queryRunner.query(`DROP TABLE "range_numbers"`);
    await queryRunner.query(`CREATE INDEX "messages_to" ON "messages" USING btree ("to_e164", "created") `);
  }
}
