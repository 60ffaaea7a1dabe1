import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordExpiry1796633508262 implements MigrationInterface {
  name = "PasswordExpiry1796633508262";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "password_expired" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "policies" ADD "max_age_days" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "max_age_days"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "password_expired"`);
  }
}
