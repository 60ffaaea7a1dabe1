import type { MigrationInterface, QueryRunner } from "typeorm";

export class ShowLockoutFailures1796684678000 implements MigrationInterface {
  name = "ShowLockoutFailures1796684678000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A nullable column needs no copy of the table, which TypeORM's generator would have made.
    await queryRunner.query(`ALTER TABLE "policies" ADD COLUMN "show_lockout_failures" boolean`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "show_lockout_failures"`);
  }
}
