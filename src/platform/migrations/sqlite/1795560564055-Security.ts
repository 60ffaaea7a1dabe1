import type { MigrationInterface, QueryRunner } from "typeorm";

export class Security1795560564055 implements MigrationInterface {
  name = "Security1795560564055";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "security_settings" ("id" integer PRIMARY KEY NOT NULL, "settings" text NOT NULL, "updated" bigint NOT NULL)`);
    await queryRunner.query(`CREATE TABLE "fraud_blocks" ("id" varchar(40) PRIMARY KEY NOT NULL, "scope" varchar(16) NOT NULL, "key" varchar(20) NOT NULL, "rule" varchar(40) NOT NULL, "figures" text NOT NULL, "created" bigint NOT NULL, "until" bigint NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "fraud_blocks_scope_key" ON "fraud_blocks" ("scope", "key", "until") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "fraud_blocks_scope_key"`);
    await queryRunner.query(`DROP TABLE "fraud_blocks"`);
    await queryRunner.query(`DROP TABLE "security_settings"`);
  }
}
