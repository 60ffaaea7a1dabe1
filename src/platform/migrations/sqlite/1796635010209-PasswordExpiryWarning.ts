import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordExpiryWarning1796635010209 implements MigrationInterface {
  name = "PasswordExpiryWarning1796635010209";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A nullable column needs no copy of the table, which TypeORM's generator would have made.
    await queryRunner.query(`ALTER TABLE "policies" ADD COLUMN "expire_warn_days" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "expire_warn_days"`);
  }
}
