import type { MigrationInterface, QueryRunner } from "typeorm";

export class Foundation1795558130339 implements MigrationInterface {
  name = "Foundation1795558130339";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "api_tokens" ("id" varchar(40) PRIMARY KEY NOT NULL, "name" varchar(128) NOT NULL, "token_hash" varchar(64) NOT NULL, "created" bigint NOT NULL, "last_used" bigint, "revoked" bigint)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_tokens_hash" ON "api_tokens" ("token_hash") `);
    await queryRunner.query(`CREATE TABLE "groups" ("id" varchar(40) PRIMARY KEY NOT NULL, "name" varchar(128) NOT NULL, "name_normalized" varchar(128) NOT NULL, "description" varchar(1024), "created" bigint NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "groups_name_normalized" ON "groups" ("name_normalized") `);
    await queryRunner.query(`CREATE TABLE "group_members" ("group_id" varchar(40) NOT NULL, "user_id" varchar(40) NOT NULL, "added" bigint NOT NULL, PRIMARY KEY ("group_id", "user_id"))`);
    await queryRunner.query(`CREATE INDEX "group_members_user" ON "group_members" ("user_id") `);
    await queryRunner.query(`CREATE TABLE "users" ("id" varchar(40) PRIMARY KEY NOT NULL, "login" varchar(256) NOT NULL, "login_normalized" varchar(256) NOT NULL, "email" varchar(256), "first_name" varchar(128), "last_name" varchar(128), "mobile_phone" varchar(32), "locale" varchar(35) NOT NULL DEFAULT ('en'), "status" varchar(16) NOT NULL, "password_hash" varchar(256), "created" bigint NOT NULL, "last_login" bigint, "status_changed" bigint NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_login_normalized" ON "users" ("login_normalized") `);
    await queryRunner.query(`CREATE INDEX "users_created_id" ON "users" ("created", "id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "users_created_id"`);
    await queryRunner.query(`DROP INDEX "users_login_normalized"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "group_members_user"`);
    await queryRunner.query(`DROP TABLE "group_members"`);
    await queryRunner.query(`DROP INDEX "groups_name_normalized"`);
    await queryRunner.query(`DROP TABLE "groups"`);
    await queryRunner.query(`DROP INDEX "api_tokens_hash"`);
    await queryRunner.query(`DROP TABLE "api_tokens"`);
  }
}
