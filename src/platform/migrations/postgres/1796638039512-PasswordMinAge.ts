import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordMinAge1796638039512 implements MigrationInterface {
  name = "PasswordMinAge1796638039512";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" ADD "min_age_minutes" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "min_age_minutes"`);
  }
}
