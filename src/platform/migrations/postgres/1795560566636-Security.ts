import type { MigrationInterface, QueryRunner } from "typeorm";

export class Security1795560566636 implements MigrationInterface {
  name = "Security1795560566636";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "security_settings" ("id" integer NOT NULL, "settings" text NOT NULL, "updated" bigint NOT NULL, CONSTRAINT "PK_4aec436cf81177ae97a1bcec3c7" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "fraud_blocks" ("id" character varying(40) NOT NULL, "scope" character varying(16) NOT NULL, "key" character varying(20) NOT NULL, "rule" character varying(40) NOT NULL, "figures" text NOT NULL, "created" bigint NOT NULL, "until" bigint NOT NULL, CONSTRAINT "PK_d7627e7879840ec19a4d50e72e7" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "fraud_blocks_scope_key" ON "fraud_blocks"  ("scope", "key", "until") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "fraud_blocks_scope_key"`);
    await queryRunner.query(`DROP TABLE "fraud_blocks"`);
    await queryRunner.query(`DROP TABLE "security_settings"`);
  }
}
