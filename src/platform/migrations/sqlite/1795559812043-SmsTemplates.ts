import type { MigrationInterface, QueryRunner } from "typeorm";

export class SmsTemplates1795559812043 implements MigrationInterface {
  name = "SmsTemplates1795559812043";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "sms_templates" ("purpose" varchar(24) PRIMARY KEY NOT NULL, "template" text NOT NULL, "translations" text NOT NULL, "legacy" boolean NOT NULL, "updated" bigint NOT NULL)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sms_templates"`);
  }
}
