import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordExpiryWarning1796635012731 implements MigrationInterface {
  name = "PasswordExpiryWarning1796635012731";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" ADD "expire_warn_days" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "expire_warn_days"`);
  }
}
