import type { MigrationInterface, QueryRunner } from "typeorm";

export class Foundation1795558140633 implements MigrationInterface {
  name = "Foundation1795558140633";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "api_tokens" ("id" character varying(40) NOT NULL, "name" character varying(128) NOT NULL, "token_hash" character varying(64) NOT NULL, "created" bigint NOT NULL, "last_used" bigint, "revoked" bigint, CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_tokens_hash" ON "api_tokens"  ("token_hash") `);
    await queryRunner.query(`CREATE TABLE "groups" ("id" character varying(40) NOT NULL, "name" character varying(128) NOT NULL, "name_normalized" character varying(128) NOT NULL, "description" character varying(1024), "created" bigint NOT NULL, CONSTRAINT "PK_659d1483316afb28afd3a90646e" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "groups_name_normalized" ON "groups"  ("name_normalized") `);
    await queryRunner.query(`CREATE TABLE "group_members" ("group_id" character varying(40) NOT NULL, "user_id" character varying(40) NOT NULL, "added" bigint NOT NULL, CONSTRAINT "PK_f5939ee0ad233ad35e03f5c65c1" PRIMARY KEY ("group_id", "user_id"))`);
    await queryRunner.query(`CREATE INDEX "group_members_user" ON "group_members"  ("user_id") `);
    await queryRunner.query(`CREATE TABLE "users" ("id" character varying(40) NOT NULL, "login" character varying(256) NOT NULL, "login_normalized" character varying(256) NOT NULL, "email" character varying(256), "first_name" character varying(128), "last_name" character varying(128), "mobile_phone" character varying(32), "locale" character varying(35) NOT NULL DEFAULT 'en', "status" character varying(16) NOT NULL, "password_hash" character varying(256), "created" bigint NOT NULL, "last_login" bigint, "status_changed" bigint NOT NULL, CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_login_normalized" ON "users"  ("login_normalized") `);
    await queryRunner.query(`CREATE INDEX "users_created_id" ON "users"  ("created", "id") `);
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
