import type { MigrationInterface, QueryRunner } from "typeorm";

export class PhoneFactors1795558828932 implements MigrationInterface {
  name = "PhoneFactors1795558828932";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "log_events" ("uuid" varchar(36) PRIMARY KEY NOT NULL, "published" bigint NOT NULL, "event_type" varchar(96) NOT NULL, "severity" varchar(8) NOT NULL, "display_message" varchar(512) NOT NULL, "actor_id" varchar(64) NOT NULL, "actor_type" varchar(32) NOT NULL, "actor_alternate_id" varchar(256), "actor_display_name" varchar(256), "outcome_result" varchar(16) NOT NULL, "outcome_reason" varchar(256), "client_ip" varchar(64), "client_user_agent" varchar(512), "transaction_id" varchar(64), "debug_context" text)`);
    await queryRunner.query(`CREATE INDEX "log_events_transaction" ON "log_events" ("transaction_id") `);
    await queryRunner.query(`CREATE INDEX "log_events_actor_published" ON "log_events" ("actor_id", "published") `);
    await queryRunner.query(`CREATE INDEX "log_events_type_published" ON "log_events" ("event_type", "published") `);
    await queryRunner.query(`CREATE INDEX "log_events_published" ON "log_events" ("published", "uuid") `);
    await queryRunner.query(`CREATE TABLE "log_event_targets" ("event_uuid" varchar(36) NOT NULL, "position" integer NOT NULL, "id" varchar(64) NOT NULL, "type" varchar(32) NOT NULL, "alternate_id" varchar(256), "display_name" varchar(256), PRIMARY KEY ("event_uuid", "position"))`);
    await queryRunner.query(`CREATE INDEX "log_event_targets_id" ON "log_event_targets" ("id") `);
    await queryRunner.query(`CREATE TABLE "challenges" ("id" varchar(40) PRIMARY KEY NOT NULL, "user_id" varchar(40) NOT NULL, "factor_id" varchar(40), "transaction_id" varchar(40), "purpose" varchar(24) NOT NULL, "method" varchar(8) NOT NULL, "status" varchar(16) NOT NULL, "e164" varchar(20) NOT NULL, "country" varchar(2) NOT NULL, "code_hash" varchar(64) NOT NULL, "expires_at" bigint NOT NULL, "attempts_used" integer NOT NULL, "max_attempts" integer NOT NULL, "resends_used" integer NOT NULL, "max_resends" integer NOT NULL, "resend_cooldown_seconds" integer NOT NULL, "last_sent_at" bigint NOT NULL, "created" bigint NOT NULL, "verified_at" bigint)`);
    await queryRunner.query(`CREATE INDEX "challenges_user" ON "challenges" ("user_id", "created") `);
    await queryRunner.query(`CREATE INDEX "challenges_factor" ON "challenges" ("factor_id", "created") `);
    await queryRunner.query(`CREATE TABLE "phone_authenticator" ("id" integer PRIMARY KEY NOT NULL, "status" varchar(16) NOT NULL, "methods" varchar(32) NOT NULL, "usage" varchar(24) NOT NULL, "code_length" integer NOT NULL, "code_ttl_seconds" integer NOT NULL, "max_attempts" integer NOT NULL, "resend_cooldown_seconds" integer NOT NULL, "max_resends" integer NOT NULL, "allow_voip" boolean NOT NULL, "updated" bigint NOT NULL)`);
    await queryRunner.query(`CREATE TABLE "country_overrides" ("code" varchar(2) PRIMARY KEY NOT NULL, "sms_enabled" boolean, "voice_enabled" boolean, "sms_cost_micros" integer, "voice_cost_micros" integer, "updated" bigint NOT NULL)`);
    await queryRunner.query(`CREATE TABLE "blocked_numbers" ("e164" varchar(20) PRIMARY KEY NOT NULL, "reason" varchar(256), "source" varchar(64) NOT NULL, "created" bigint NOT NULL, "expires_at" bigint)`);
    await queryRunner.query(`CREATE TABLE "phone_factors" ("id" varchar(40) PRIMARY KEY NOT NULL, "user_id" varchar(40) NOT NULL, "method" varchar(8) NOT NULL, "e164" varchar(20) NOT NULL, "country" varchar(2) NOT NULL, "status" varchar(20) NOT NULL, "created" bigint NOT NULL, "last_verified" bigint)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "phone_factors_user_number" ON "phone_factors" ("user_id", "e164") `);
    await queryRunner.query(`CREATE TABLE "messages" ("id" varchar(40) PRIMARY KEY NOT NULL, "challenge_id" varchar(40), "user_id" varchar(40), "transaction_id" varchar(40), "purpose" varchar(24) NOT NULL, "channel" varchar(8) NOT NULL, "to_e164" varchar(20) NOT NULL, "country" varchar(2) NOT NULL, "international" boolean NOT NULL, "status" varchar(12) NOT NULL, "provider" varchar(40), "provider_message_id" varchar(128), "provider_status" varchar(64), "sender_id" varchar(32), "encoding" varchar(8), "segments" integer NOT NULL, "language" varchar(35), "body_ciphertext" text, "error_code" varchar(32), "estimated_cost_micros" integer, "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" bigint NOT NULL, "lease_until" bigint, "lease_owner" varchar(64), "sent_at" bigint, "receipt_deadline" bigint, "final_at" bigint, "created" bigint NOT NULL, "updated" bigint NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "messages_created" ON "messages" ("created") `);
    await queryRunner.query(`CREATE INDEX "messages_provider_id" ON "messages" ("provider", "provider_message_id") `);
    await queryRunner.query(`CREATE INDEX "messages_challenge" ON "messages" ("challenge_id", "created") `);
    await queryRunner.query(`CREATE INDEX "messages_dispatch" ON "messages" ("status", "next_attempt_at") `);
    await queryRunner.query(`CREATE TABLE "message_attempts" ("id" varchar(40) PRIMARY KEY NOT NULL, "message_id" varchar(40) NOT NULL, "provider" varchar(40) NOT NULL, "started" bigint NOT NULL, "finished" bigint, "outcome" varchar(32) NOT NULL, "provider_message_id" varchar(128), "retryable" boolean NOT NULL DEFAULT (0), "detail" varchar(256))`);
    await queryRunner.query(`CREATE INDEX "message_attempts_message" ON "message_attempts" ("message_id", "started") `);
    await queryRunner.query(`CREATE TABLE "message_receipts" ("id" varchar(40) PRIMARY KEY NOT NULL, "message_id" varchar(40) NOT NULL, "provider" varchar(40) NOT NULL, "status" varchar(12) NOT NULL, "provider_status" varchar(64) NOT NULL, "error_code" varchar(32), "applied" boolean NOT NULL, "received" bigint NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "message_receipts_message" ON "message_receipts" ("message_id", "received") `);
    await queryRunner.query(`CREATE TABLE "simulator_messages" ("id" varchar(64) PRIMARY KEY NOT NULL, "idempotency_key" varchar(64) NOT NULL, "to_e164" varchar(20) NOT NULL, "channel" varchar(8) NOT NULL, "body" text NOT NULL, "status" varchar(12) NOT NULL, "created" bigint NOT NULL)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "simulator_messages_idempotency" ON "simulator_messages" ("idempotency_key") `);
    await queryRunner.query(`CREATE INDEX "simulator_messages_to" ON "simulator_messages" ("to_e164", "created") `);
    await queryRunner.query(`CREATE TABLE "simulator_rules" ("position" integer PRIMARY KEY NOT NULL, "prefix" varchar(20) NOT NULL, "outcome" varchar(12) NOT NULL, "error_code" varchar(32), "delay_ms" integer)`);
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
