import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordMinAge1796638036902 implements MigrationInterface {
  name = "PasswordMinAge1796638036902";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A nullable column needs no copy of the table, which TypeORM's generator would have made.
    await queryRunner.query(`ALTER TABLE "policies" ADD COLUMN "min_age_minutes" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "min_age_minutes"`);
  }
}
