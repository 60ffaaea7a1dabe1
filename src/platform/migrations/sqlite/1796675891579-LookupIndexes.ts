import type { MigrationInterface, QueryRunner } from "typeorm";

export class LookupIndexes1796675891579 implements MigrationInterface {
  name = "LookupIndexes1796675891579";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "challenges_transaction" ON "challenges" ("transaction_id") `);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "messages_user" ON "messages" ("user_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "messages_user"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "challenges_transaction"`);
  }
}
