import type { MigrationInterface, QueryRunner } from "typeorm";

export class PhoneFactorNumbers1796595755630 implements MigrationInterface {
  name = "PhoneFactorNumbers1796595755630";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "phone_factors_number" ON "phone_factors" ("e164") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "phone_factors_number"`);
  }
}
