import type { MigrationInterface, QueryRunner } from "typeorm";

export class RecoveryPasscodes1796652000001 implements MigrationInterface {
  name = "RecoveryPasscodes1796652000001";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A column with a constant default needs no copy of the table, which TypeORM's generator would have made.
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "failed_recovery_passcodes" integer NOT NULL DEFAULT 0`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_recovery_passcodes"`);
  }
}
