import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordHistory1796627693086 implements MigrationInterface {
  name = "PasswordHistory1796627693086";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "password_history" ("id" varchar(40) PRIMARY KEY NOT NULL, "user_id" varchar(40) NOT NULL, "password_hash" varchar(256) NOT NULL, "replaced" bigint NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "password_history_user" ON "password_history" ("user_id", "replaced") `);
    // A nullable column needs no copy of the table, which TypeORM's generator would have made.
    await queryRunner.query(`ALTER TABLE "policies" ADD COLUMN "history_count" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "history_count"`);
    await queryRunner.query(`DROP INDEX "password_history_user"`);
    await queryRunner.query(`DROP TABLE "password_history"`);
  }
}
