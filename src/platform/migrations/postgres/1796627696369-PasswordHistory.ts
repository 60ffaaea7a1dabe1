import type { MigrationInterface, QueryRunner } from "typeorm";

export class PasswordHistory1796627696369 implements MigrationInterface {
  name = "PasswordHistory1796627696369";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "password_history" ("id" character varying(40) NOT NULL, "user_id" character varying(40) NOT NULL, "password_hash" character varying(256) NOT NULL, "replaced" bigint NOT NULL, CONSTRAINT "PK_da65ed4600e5e6bc9315754a8b2" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "password_history_user" ON "password_history"  ("user_id", "replaced") `);
    await queryRunner.query(`ALTER TABLE "policies" ADD "history_count" integer`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "policies" DROP COLUMN "history_count"`);
    await queryRunner.query(`DROP INDEX "password_history_user"`);
    await queryRunner.query(`DROP TABLE "password_history"`);
  }
}
