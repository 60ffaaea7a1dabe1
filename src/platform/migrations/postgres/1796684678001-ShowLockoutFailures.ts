import type { MigrationInterface, QueryRunner } from "typeorm";

export class ShowLockoutFailures1796684678001 implements MigrationInterface {
  name = "ShowLockoutFailures1796684678001";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" ADD "show_lockout_failures" boolean`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "show_lockout_failures"`);
  }
}
