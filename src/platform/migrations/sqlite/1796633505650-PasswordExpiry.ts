import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordExpiry1796633505650 implements MigrationInterface {
  name = "PasswordExpiry1796633505650";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Columns with a constant default need no copy of the table, which TypeORM's generator would have made.
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "password_expired" boolean NOT NULL DEFAULT (0)`);
    await queryRunner.query(`ALTER TABLE "policies" ADD COLUMN "max_age_days" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "max_age_days"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "password_expired"`);
  }
}
