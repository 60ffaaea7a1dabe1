import type { MigrationInterface, QueryRunner } from "typeorm";

export class SmsTemplates1795559815676 implements MigrationInterface {
  name = "SmsTemplates1795559815676";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "sms_templates" ("purpose" character varying(24) NOT NULL, "template" text NOT NULL, "translations" text NOT NULL, "legacy" boolean NOT NULL, "updated" bigint NOT NULL, CONSTRAINT "PK_cc8cb8e74768362517c817eb4ba" PRIMARY KEY ("purpose"))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sms_templates"`);
  }
}
