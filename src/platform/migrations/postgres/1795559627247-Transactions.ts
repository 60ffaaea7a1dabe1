import type { MigrationInterface, QueryRunner } from "typeorm";

export class Transactions1795559627247 implements MigrationInterface {
  name = "Transactions1795559627247";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "policies" ("id" character varying(40) NOT NULL, "type" character varying(32) NOT NULL, "name" character varying(128) NOT NULL, "priority" integer NOT NULL, "is_default" boolean NOT NULL, "group_ids" text NOT NULL, "phone_enrollment" character varying(16), "recovery_methods" text, "max_failed_attempts" integer, "auto_unlock_minutes" integer, "min_length" integer, "complexity" text, "created" bigint NOT NULL, "updated" bigint NOT NULL, CONSTRAINT "PK_603e09f183df0108d8695c57e28" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "policies_type_priority" ON "policies"  ("type", "priority") `);
    await queryRunner.query(`CREATE TABLE "policy_rules" ("id" character varying(40) NOT NULL, "policy_id" character varying(40) NOT NULL, "name" character varying(128) NOT NULL, "priority" integer NOT NULL, "group_ids" text NOT NULL, "excluded_group_ids" text NOT NULL, "client_ids" text NOT NULL, "network_zones" text NOT NULL, "access" character varying(8) NOT NULL, "factor_requirement" character varying(24), "methods" text, "reauthenticate_after_minutes" integer, "session_lifetime_minutes" integer, "session_idle_minutes" integer, CONSTRAINT "PK_64c7f7b8bb8abd8351075e774b9" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "policy_rules_policy" ON "policy_rules"  ("policy_id", "priority") `);
    await queryRunner.query(`CREATE TABLE "sessions" ("id" character varying(40) NOT NULL, "token_hash" character varying(64) NOT NULL, "user_id" character varying(40) NOT NULL, "created" bigint NOT NULL, "expires_at" bigint NOT NULL, "idle_timeout_minutes" integer NOT NULL, "last_seen" bigint NOT NULL, "mfa_at" bigint, "revoked" bigint, CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "sessions_token_hash" ON "sessions"  ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "sessions_user" ON "sessions"  ("user_id") `);
    await queryRunner.query(`CREATE TABLE "auth_transactions" ("id" character varying(40) NOT NULL, "state_handle_hash" character varying(64) NOT NULL, "kind" character varying(20) NOT NULL, "status" character varying(24) NOT NULL, "user_id" character varying(40), "client_id" character varying(128), "challenge_id" character varying(40), "factor_id" character varying(40), "decision" text, "version" integer NOT NULL, "created" bigint NOT NULL, "expires_at" bigint NOT NULL, "finished_at" bigint, CONSTRAINT "PK_05d0694cef4032baa5be97fca6c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "auth_transactions_handle" ON "auth_transactions"  ("state_handle_hash") `);
    await queryRunner.query(`ALTER TABLE "users" ADD "failed_logins" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "users" ADD "locked_at" bigint`);
    await queryRunner.query(`ALTER TABLE "users" ADD "failed_passcodes" integer NOT NULL DEFAULT '0'`);
    await queryRunner.query(`ALTER TABLE "users" ADD "password_changed" bigint`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "password_changed"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_passcodes"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "locked_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "failed_logins"`);
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
