import type { MigrationInterface, QueryRunner } from "typeorm";

export class Transactions1795559625163 implements MigrationInterface {
  name = "Transactions1795559625163";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "policies" ("id" varchar(40) PRIMARY KEY NOT NULL, "type" varchar(32) NOT NULL, "name" varchar(128) NOT NULL, "priority" integer NOT NULL, "is_default" boolean NOT NULL, "group_ids" text NOT NULL, "phone_enrollment" varchar(16), "recovery_methods" text, "max_failed_attempts" integer, "auto_unlock_minutes" integer, "min_length" integer, "complexity" text, "created" bigint NOT NULL, "updated" bigint NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "policies_type_priority" ON "policies" ("type", "priority") `);
    await queryRunner.query(`CREATE TABLE "policy_rules" ("id" varchar(40) PRIMARY KEY NOT NULL, "policy_id" varchar(40) NOT NULL, "name" varchar(128) NOT NULL, "priority" integer NOT NULL, "group_ids" text NOT NULL, "excluded_group_ids" text NOT NULL, "client_ids" text NOT NULL, "network_zones" text NOT NULL, "access" varchar(8) NOT NULL, "factor_requirement" varchar(24), "methods" text, "reauthenticate_after_minutes" integer, "session_lifetime_minutes" integer, "session_idle_minutes" integer)`);
    await queryRunner.query(`CREATE INDEX "policy_rules_policy" ON "policy_rules" ("policy_id", "priority") `);
    await queryRunner.query(`CREATE TABLE "sessions" ("id" varchar(40) PRIMARY KEY NOT NULL, "token_hash" varchar(64) NOT NULL, "user_id" varchar(40) NOT NULL, "created" bigint NOT NULL, "expires_at" bigint NOT NULL, "idle_timeout_minutes" integer NOT NULL, "last_seen" bigint NOT NULL, "mfa_at" bigint, "revoked" bigint)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "sessions_token_hash" ON "sessions" ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "sessions_user" ON "sessions" ("user_id") `);
    await queryRunner.query(`CREATE TABLE "auth_transactions" ("id" varchar(40) PRIMARY KEY NOT NULL, "state_handle_hash" varchar(64) NOT NULL, "kind" varchar(20) NOT NULL, "status" varchar(24) NOT NULL, "user_id" varchar(40), "client_id" varchar(128), "challenge_id" varchar(40), "factor_id" varchar(40), "decision" text, "version" integer NOT NULL, "created" bigint NOT NULL, "expires_at" bigint NOT NULL, "finished_at" bigint)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "auth_transactions_handle" ON "auth_transactions" ("state_handle_hash") `);
    await queryRunner.query(`DROP INDEX "users_created_id"`);
    await queryRunner.query(`DROP INDEX "users_login_normalized"`);
    await queryRunner.query(`CREATE TABLE "temporary_users" ("id" varchar(40) PRIMARY KEY NOT NULL, "login" varchar(256) NOT NULL, "login_normalized" varchar(256) NOT NULL, "email" varchar(256), "first_name" varchar(128), "last_name" varchar(128), "mobile_phone" varchar(32), "locale" varchar(35) NOT NULL DEFAULT ('en'), "status" varchar(16) NOT NULL, "password_hash" varchar(256), "created" bigint NOT NULL, "last_login" bigint, "status_changed" bigint NOT NULL, "failed_logins" integer NOT NULL DEFAULT (0), "locked_at" bigint, "failed_passcodes" integer NOT NULL DEFAULT (0), "password_changed" bigint)`);
    await queryRunner.query(`INSERT INTO "temporary_users"("id", "login", "login_normalized", "email", "first_name", "last_name", "mobile_phone", "locale", "status", "password_hash", "created", "last_login", "status_changed") SELECT "id", "login", "login_normalized", "email", "first_name", "last_name", "mobile_phone", "locale", "status", "password_hash", "created", "last_login", "status_changed" FROM "users"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`ALTER TABLE "temporary_users" RENAME TO "users"`);
    await queryRunner.query(`CREATE INDEX "users_created_id" ON "users" ("created", "id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_login_normalized" ON "users" ("login_normalized") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "users_login_normalized"`);
    await queryRunner.query(`DROP INDEX "users_created_id"`);
    await queryRunner.query(`ALTER TABLE "users" RENAME TO "temporary_users"`);
    await queryRunner.query(`CREATE TABLE "users" ("id" varchar(40) PRIMARY KEY NOT NULL, "login" varchar(256) NOT NULL, "login_normalized" varchar(256) NOT NULL, "email" varchar(256), "first_name" varchar(128), "last_name" varchar(128), "mobile_phone" varchar(32), "locale" varchar(35) NOT NULL DEFAULT ('en'), "status" varchar(16) NOT NULL, "password_hash" varchar(256), "created" bigint NOT NULL, "last_login" bigint, "status_changed" bigint NOT NULL)`);
    await queryRunner.query(`INSERT INTO "users"("id", "login", "login_normalized", "email", "first_name", "last_name", "mobile_phone", "locale", "status", "password_hash", "created", "last_login", "status_changed") SELECT "id", "login", "login_normalized", "email", "first_name", "last_name", "mobile_phone", "locale", "status", "password_hash", "created", "last_login", "status_changed" FROM "temporary_users"`);
    await queryRunner.query(`DROP TABLE "temporary_users"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_login_normalized" ON "users" ("login_normalized") `);
    await queryRunner.query(`CREATE INDEX "users_created_id" ON "users" ("created", "id") `);
    await queryRunner.query(`DROP INDEX "auth_transactions_handle"`);
    await queryRunner.query(`DROP TABLE "auth_transactions"`);
    await queryRunner.query(`DROP INDEX "sessions_user"`);
    await queryRunner.query(`DROP INDEX "sessions_token_hash"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "policy_rules_policy"`);
    await queryRunner.query(`DROP TABLE "policy_rules"`);
    await queryRunner.query(`DROP INDEX "policies_type_priority"`);
    await queryRunner.query(`DROP TABLE "policies"`);
  }
}
