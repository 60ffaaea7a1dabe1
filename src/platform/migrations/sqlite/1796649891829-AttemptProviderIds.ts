import type { MigrationInterface, QueryRunner } from "typeorm";

export class AttemptProviderIds1796649891829 implements MigrationInterface {
  name = "AttemptProviderIds1796649891829";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "message_attempts_provider_id" ON "message_attempts" ("provider", "provider_message_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "message_attempts_provider_id"`);
  }
}
