import type { MigrationInterface, QueryRunner } from "typeorm";

export class PhoneFactors1795558831691 implements MigrationInterface {
  name = "PhoneFactors1795558831691";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "log_events" ("uuid" character varying(36) NOT NULL, "published" bigint NOT NULL, "event_type" character varying(96) NOT NULL, "severity" character varying(8) NOT NULL, "display_message" character varying(512) NOT NULL, "actor_id" character varying(64) NOT NULL, "actor_type" character varying(32) NOT NULL, "actor_alternate_id" character varying(256), "actor_display_name" character varying(256), "outcome_result" character varying(16) NOT NULL, "outcome_reason" character varying(256), "client_ip" character varying(64), "client_user_agent" character varying(512), "transaction_id" character varying(64), "debug_context" text, CONSTRAINT "PK_9ce7bc143db608368c767bd4df5" PRIMARY KEY ("uuid"))`);
    await queryRunner.query(`CREATE INDEX "log_events_transaction" ON "log_events"  ("transaction_id") `);
    await queryRunner.query(`CREATE INDEX "log_events_actor_published" ON "log_events"  ("actor_id", "published") `);
    await queryRunner.query(`CREATE INDEX "log_events_type_published" ON "log_events"  ("event_type", "published") `);
    await queryRunner.query(`CREATE INDEX "log_events_published" ON "log_events"  ("published", "uuid") `);
    await queryRunner.query(`CREATE TABLE "log_event_targets" ("event_uuid" character varying(36) NOT NULL, "position" integer NOT NULL, "id" character varying(64) NOT NULL, "type" character varying(32) NOT NULL, "alternate_id" character varying(256), "display_name" character varying(256), CONSTRAINT "PK_8b6175cfe7de2aa6baf976aecde" PRIMARY KEY ("event_uuid", "position"))`);
    await queryRunner.query(`CREATE INDEX "log_event_targets_id" ON "log_event_targets"  ("id") `);
    await queryRunner.query(`CREATE TABLE "challenges" ("id" character varying(40) NOT NULL, "user_id" character varying(40) NOT NULL, "factor_id" character varying(40), "transaction_id" character varying(40), "purpose" character varying(24) NOT NULL, "method" character varying(8) NOT NULL, "status" character varying(16) NOT NULL, "e164" character varying(20) NOT NULL, "country" character varying(2) NOT NULL, "code_hash" character varying(64) NOT NULL, "expires_at" bigint NOT NULL, "attempts_used" integer NOT NULL, "max_attempts" integer NOT NULL, "resends_used" integer NOT NULL, "max_resends" integer NOT NULL, "resend_cooldown_seconds" integer NOT NULL, "last_sent_at" bigint NOT NULL, "created" bigint NOT NULL, "verified_at" bigint, CONSTRAINT "PK_1e664e93171e20fe4d6125466af" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "challenges_user" ON "challenges"  ("user_id", "created") `);
    await queryRunner.query(`CREATE INDEX "challenges_factor" ON "challenges"  ("factor_id", "created") `);
    await queryRunner.query(`CREATE TABLE "phone_authenticator" ("id" integer NOT NULL, "status" character varying(16) NOT NULL, "methods" character varying(32) NOT NULL, "usage" character varying(24) NOT NULL, "code_length" integer NOT NULL, "code_ttl_seconds" integer NOT NULL, "max_attempts" integer NOT NULL, "resend_cooldown_seconds" integer NOT NULL, "max_resends" integer NOT NULL, "allow_voip" boolean NOT NULL, "updated" bigint NOT NULL, CONSTRAINT "PK_052eb8366f581d9e633ad9fc353" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "country_overrides" ("code" character varying(2) NOT NULL, "sms_enabled" boolean, "voice_enabled" boolean, "sms_cost_micros" integer, "voice_cost_micros" integer, "updated" bigint NOT NULL, CONSTRAINT "PK_89b5893b58e3a3be3e78ffd435b" PRIMARY KEY ("code"))`);
    await queryRunner.query(`CREATE TABLE "blocked_numbers" ("e164" character varying(20) NOT NULL, "reason" character varying(256), "source" character varying(64) NOT NULL, "created" bigint NOT NULL, "expires_at" bigint, CONSTRAINT "PK_e6bc6e2bd6ee85d258e6fafe613" PRIMARY KEY ("e164"))`);
    await queryRunner.query(`CREATE TABLE "phone_factors" ("id" character varying(40) NOT NULL, "user_id" character varying(40) NOT NULL, "method" character varying(8) NOT NULL, "e164" character varying(20) NOT NULL, "country" character varying(2) NOT NULL, "status" character varying(20) NOT NULL, "created" bigint NOT NULL, "last_verified" bigint, CONSTRAINT "PK_815d890ebced4b1299e5d891dd2" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "phone_factors_user_number" ON "phone_factors"  ("user_id", "e164") `);
    await queryRunner.query(`CREATE TABLE "messages" ("id" character varying(40) NOT NULL, "challenge_id" character varying(40), "user_id" character varying(40), "transaction_id" character varying(40), "purpose" character varying(24) NOT NULL, "channel" character varying(8) NOT NULL, "to_e164" character varying(20) NOT NULL, "country" character varying(2) NOT NULL, "international" boolean NOT NULL, "status" character varying(12) NOT NULL, "provider" character varying(40), "provider_message_id" character varying(128), "provider_status" character varying(64), "sender_id" character varying(32), "encoding" character varying(8), "segments" integer NOT NULL, "language" character varying(35), "body_ciphertext" text, "error_code" character varying(32), "estimated_cost_micros" integer, "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" bigint NOT NULL, "lease_until" bigint, "lease_owner" character varying(64), "sent_at" bigint, "receipt_deadline" bigint, "final_at" bigint, "created" bigint NOT NULL, "updated" bigint NOT NULL, CONSTRAINT "PK_18325f38ae6de43878487eff986" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "messages_created" ON "messages"  ("created") `);
    await queryRunner.query(`CREATE INDEX "messages_provider_id" ON "messages"  ("provider", "provider_message_id") `);
    await queryRunner.query(`CREATE INDEX "messages_challenge" ON "messages"  ("challenge_id", "created") `);
    await queryRunner.query(`CREATE INDEX "messages_dispatch" ON "messages"  ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE TABLE "message_attempts" ("id" character varying(40) NOT NULL, "message_id" character varying(40) NOT NULL, "provider" character varying(40) NOT NULL, "started" bigint NOT NULL, "finished" bigint, "outcome" character varying(32) NOT NULL, "provider_message_id" character varying(128), "retryable" boolean NOT NULL DEFAULT false, "detail" character varying(256), CONSTRAINT "PK_32fa8831d7474e6547fb7f87fd4" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "message_attempts_message" ON "message_attempts"  ("message_id", "started") `);
    await queryRunner.query(`CREATE TABLE "message_receipts" ("id" character varying(40) NOT NULL, "message_id" character varying(40) NOT NULL, "provider" character varying(40) NOT NULL, "status" character varying(12) NOT NULL, "provider_status" character varying(64) NOT NULL, "error_code" character varying(32), "applied" boolean NOT NULL, "received" bigint NOT NULL, CONSTRAINT "PK_b12c7163266f985edcd141d13a5" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "message_receipts_message" ON "message_receipts"  ("message_id", "received") `);
    await queryRunner.query(`CREATE TABLE "simulator_messages" ("id" character varying(64) NOT NULL, "idempotency_key" character varying(64) NOT NULL, "to_e164" character varying(20) NOT NULL, "channel" character varying(8) NOT NULL, "body" text NOT NULL, "status" character varying(12) NOT NULL, "created" bigint NOT NULL, CONSTRAINT "PK_f5e2438c6b1a37a87d3ce88d5ad" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "simulator_messages_idempotency" ON "simulator_messages"  ("idempotency_key") `);
    await queryRunner.query(`CREATE INDEX "simulator_messages_to" ON "simulator_messages"  ("to_e164", "created") `);
    await queryRunner.query(`CREATE TABLE "simulator_rules" ("position" integer NOT NULL, "prefix" character varying(20) NOT NULL, "outcome" character varying(12) NOT NULL, "error_code" character varying(32), "delay_ms" integer, CONSTRAINT "PK_392802487634f501c176b6c0476" PRIMARY KEY ("position"))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "simulator_rules"`);
    await queryRunner.query(`DROP INDEX "simulator_messages_to"`);
    await queryRunner.query(`DROP INDEX "simulator_messages_idempotency"`);
    await queryRunner.query(`DROP TABLE "simulator_messages"`);
    await queryRunner.query(`DROP INDEX "message_receipts_message"`);
    await queryRunner.query(`DROP TABLE "message_receipts"`);
    await queryRunner.query(`DROP INDEX "message_attempts_message"`);
    await queryRunner.query(`DROP TABLE "message_attempts"`);
    await queryRunner.query(`DROP INDEX "messages_dispatch"`);
    await queryRunner.query(`DROP INDEX "messages_challenge"`);
    await queryRunner.query(`DROP INDEX "messages_provider_id"`);
    await queryRunner.query(`DROP INDEX "messages_created"`);
    await queryRunner.query(`DROP TABLE "messages"`);
    await queryRunner.query(`DROP INDEX "phone_factors_user_number"`);
    await queryRunner.query(`DROP TABLE "phone_factors"`);
    await queryRunner.query(`DROP TABLE "blocked_numbers"`);
    await queryRunner.query(`DROP TABLE "country_overrides"`);
    await queryRunner.query(`DROP TABLE "phone_authenticator"`);
    await queryRunner.query(`DROP INDEX "challenges_factor"`);
    await queryRunner.query(`DROP INDEX "challenges_user"`);
    await queryRunner.query(`DROP TABLE "challenges"`);
    await queryRunner.query(`DROP INDEX "log_event_targets_id"`);
    await queryRunner.query(`DROP TABLE "log_event_targets"`);
    await queryRunner.query(`DROP INDEX "log_events_published"`);
    await queryRunner.query(`DROP INDEX "log_events_type_published"`);
    await queryRunner.query(`DROP INDEX "log_events_actor_published"`);
    await queryRunner.query(`DROP INDEX "log_events_transaction"`);
    await queryRunner.query(`DROP TABLE "log_events"`);
  }
}
