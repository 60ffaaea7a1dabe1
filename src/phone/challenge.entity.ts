import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";
import { ChallengePurpose, ChallengeStatus, PhoneMethod } from "./phone.enums";

@ObjectType()
@Entity("challenges")
@Index("challenges_factor", ["factorId", "created"])
@Index("challenges_user", ["userId", "created"])
// A flow that ends cancels its open challenges (ChallengeService.cancelOpen), which else scans every challenge.
@Index("challenges_transaction", ["transactionId"])
export class Challenge {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "user_id", type: "varchar", length: 40 })
  userId: string;

  @Column({ name: "factor_id", type: "varchar", length: 40, nullable: true })
  factorId: string | null;

  /** The sign-in or recovery transaction that holds this challenge, if any. */
  @Column({ name: "transaction_id", type: "varchar", length: 40, nullable: true })
  transactionId: string | null;

  @Field(() => ChallengePurpose)
  @Column({ type: "varchar", length: 24 })
  purpose: ChallengePurpose;

  @Field(() => PhoneMethod)
  @Column({ type: "varchar", length: 8 })
  method: PhoneMethod;

  @Field(() => ChallengeStatus)
  @Column({ type: "varchar", length: 16 })
  status: ChallengeStatus;

  @Column({ type: "varchar", length: 20 })
  e164: string;

  @Column({ type: "varchar", length: 2 })
  country: string;

  /** HMAC-SHA256 of the passcode under the server secret, bound to this challenge id. */
  @Column({ name: "code_hash", type: "varchar", length: 64 })
  codeHash: string;

  @Field()
  @TimestampColumn({ name: "expires_at" })
  expiresAt: Date;

  @Column({ name: "attempts_used", type: "integer" })
  attemptsUsed: number;

  @Column({ name: "max_attempts", type: "integer" })
  maxAttempts: number;

  @Column({ name: "resends_used", type: "integer" })
  resendsUsed: number;

  @Column({ name: "max_resends", type: "integer" })
  maxResends: number;

  @Column({ name: "resend_cooldown_seconds", type: "integer" })
  resendCooldownSeconds: number;

  @TimestampColumn({ name: "last_sent_at" })
  lastSentAt: Date;

  @TimestampColumn()
  created: Date;

  @TimestampColumn({ name: "verified_at", nullable: true })
  verifiedAt: Date | null;
}
