import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";
import { ChallengePurpose, MessageStatus, PhoneMethod, SmsEncoding } from "../phone/phone.enums";
import { PLAIN_DATA } from "../platform/plain-data";

/**
 * The outbox: a message is written QUEUED in the transaction that made its challenge, and the
 * dispatcher moves it on. The body is kept encrypted only until it has been handed over.
 */
@ObjectType(PLAIN_DATA)
@Entity("messages")
@Index("messages_dispatch", ["status", "nextAttemptAt"])
@Index("messages_challenge", ["challengeId", "created"])
@Index("messages_provider_id", ["provider", "providerMessageId"])
@Index("messages_created", ["created"])
// A user's deletion masks the numbers of its messages (UserService.deleteUser), which else scans every message.
@Index("messages_user", ["userId"])
export class Message {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "challenge_id", type: "varchar", length: 40, nullable: true })
  challengeId: string | null;

  @Column({ name: "user_id", type: "varchar", length: 40, nullable: true })
  userId: string | null;

  @Column({ name: "transaction_id", type: "varchar", length: 40, nullable: true })
  transactionId: string | null;

  @Column({ type: "varchar", length: 24 })
  purpose: ChallengePurpose;

  @Field(() => PhoneMethod)
  @Column({ type: "varchar", length: 8 })
  channel: PhoneMethod;

  /** E.164; the `to` field masks it for anyone but admins. */
  @Column({ name: "to_e164", type: "varchar", length: 20 })
  toE164: string;

  @Field()
  @Column({ type: "varchar", length: 2 })
  country: string;

  @Field()
  @Column({ type: "boolean" })
  international: boolean;

  @Field(() => MessageStatus)
  @Column({ type: "varchar", length: 12 })
  status: MessageStatus;

  @Field(() => String, { nullable: true })
  @Column({ type: "varchar", length: 40, nullable: true })
  provider: string | null;

  @Column({ name: "provider_message_id", type: "varchar", length: 128, nullable: true })
  providerMessageId: string | null;

  /** The provider's own word for the last status (e.g. "undelivered", DLR stat "UNDELIV"). */
  @Column({ name: "provider_status", type: "varchar", length: 64, nullable: true })
  providerStatus: string | null;

  @Field(() => String, { nullable: true, description: "what the recipient sees as the sender, once handed over; null while queued or when the provider's network picks it" })
  @Column({ name: "sender_id", type: "varchar", length: 32, nullable: true })
  senderId: string | null;

  @Field(() => SmsEncoding, { nullable: true })
  @Column({ type: "varchar", length: 8, nullable: true })
  encoding: SmsEncoding | null;

  @Field(() => Int)
  @Column({ type: "integer" })
  segments: number;

  /** BCP 47 language a call is read in (the user's locale, matched to a voice script). */
  @Column({ type: "varchar", length: 35, nullable: true })
  language: string | null;

  @Column({ name: "body_ciphertext", type: "text", nullable: true })
  bodyCiphertext: string | null;

  @Field(() => String, { nullable: true, description: "one of the delivery failure codes in errors.md, when status is UNDELIVERED, FAILED or UNKNOWN" })
  @Column({ name: "error_code", type: "varchar", length: 32, nullable: true })
  errorCode: string | null;

  /** Millionths of a US dollar. */
  @Column({ name: "estimated_cost_micros", type: "integer", nullable: true })
  estimatedCostMicros: number | null;

  /** Hand-overs that spent an attempt: a provider's request to slow down spends none (THROTTLED_PATIENCE_MS). */
  @Column({ type: "integer", default: 0 })
  attempts: number;

  @TimestampColumn({ name: "next_attempt_at" })
  nextAttemptAt: Date;

  /** Held by one dispatcher while it sends; another takes the message over once it lapses. */
  @TimestampColumn({ name: "lease_until", nullable: true })
  leaseUntil: Date | null;

  @Column({ name: "lease_owner", type: "varchar", length: 64, nullable: true })
  leaseOwner: string | null;

  @TimestampColumn({ name: "sent_at", nullable: true })
  sentAt: Date | null;

  @TimestampColumn({ name: "receipt_deadline", nullable: true })
  receiptDeadline: Date | null;

  /** Set once, with the one receive_status event this message gets. */
  @TimestampColumn({ name: "final_at", nullable: true })
  finalAt: Date | null;

  @Field()
  @TimestampColumn()
  created: Date;

  @Field()
  @TimestampColumn()
  updated: Date;

  @Field(() => Float, { nullable: true })
  get estimatedCost(): number | null {
    return this.estimatedCostMicros == null ? null : this.estimatedCostMicros / 1_000_000;
  }
}

/** One hand-over to one provider; its id is the idempotency key that provider sees. */
@Entity("message_attempts")
@Index("message_attempts_message", ["messageId", "started"])
// A receipt under an earlier attempt's provider id finds its message through here.
@Index("message_attempts_provider_id", ["provider", "providerMessageId"])
export class MessageAttempt {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "message_id", type: "varchar", length: 40 })
  messageId: string;

  @Column({ type: "varchar", length: 40 })
  provider: string;

  @TimestampColumn()
  started: Date;

  @TimestampColumn({ nullable: true })
  finished: Date | null;

  /** PENDING while in flight; SENT, or the delivery failure code. */
  @Column({ type: "varchar", length: 32 })
  outcome: string;

  @Column({ name: "provider_message_id", type: "varchar", length: 128, nullable: true })
  providerMessageId: string | null;

  @Column({ type: "boolean", default: false })
  retryable: boolean;

  @Column({ type: "varchar", length: 256, nullable: true })
  detail: string | null;
}

/** Every receipt a provider sent, applied or not: late and duplicate ones are kept here. */
@Entity("message_receipts")
@Index("message_receipts_message", ["messageId", "received"])
export class MessageReceipt {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "message_id", type: "varchar", length: 40 })
  messageId: string;

  @Column({ type: "varchar", length: 40 })
  provider: string;

  @Column({ type: "varchar", length: 12 })
  status: MessageStatus;

  @Column({ name: "provider_status", type: "varchar", length: 64 })
  providerStatus: string;

  @Column({ name: "error_code", type: "varchar", length: 32, nullable: true })
  errorCode: string | null;

  /** False when the message was already final: recorded, but it changed nothing. */
  @Column({ type: "boolean" })
  applied: boolean;

  @TimestampColumn()
  received: Date;
}
