import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";

export const TransactionStatus = {
  MFA_ENROLL: "MFA_ENROLL",
  MFA_ENROLL_ACTIVATE: "MFA_ENROLL_ACTIVATE",
  MFA_REQUIRED: "MFA_REQUIRED",
  MFA_CHALLENGE: "MFA_CHALLENGE",
  RECOVERY_CHALLENGE: "RECOVERY_CHALLENGE",
  PASSWORD_RESET: "PASSWORD_RESET",
  /** The password and any phone step passed, but the password is expired: resetPassword replaces it and signs in. */
  PASSWORD_EXPIRED: "PASSWORD_EXPIRED",
  SUCCESS: "SUCCESS",
  LOCKED_OUT: "LOCKED_OUT",
  DENIED: "DENIED",
} as const;
export type TransactionStatus = (typeof TransactionStatus)[keyof typeof TransactionStatus];

export type TransactionKind = "SIGN_IN" | "PASSWORD_RECOVERY" | "ACCOUNT_UNLOCK";

/**
 * A sign-in or recovery flow in progress. The client holds an opaque state handle; only its
 * SHA-256 is stored. `version` makes each step a compare-and-set, so one handle is a single
 * thread of use: two steps racing on it cannot both apply.
 */
@Entity("auth_transactions")
export class AuthTransactionRecord {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Index("auth_transactions_handle", { unique: true })
  @Column({ name: "state_handle_hash", type: "varchar", length: 64 })
  stateHandleHash: string;

  @Column({ type: "varchar", length: 20 })
  kind: TransactionKind;

  @Column({ type: "varchar", length: 24 })
  status: TransactionStatus;

  /** Null for a recovery started for a login that does not exist (answered like any other). */
  @Column({ name: "user_id", type: "varchar", length: 40, nullable: true })
  userId: string | null;

  @Column({ name: "client_id", type: "varchar", length: 128, nullable: true })
  clientId: string | null;

  @Column({ name: "challenge_id", type: "varchar", length: 40, nullable: true })
  challengeId: string | null;

  @Column({ name: "factor_id", type: "varchar", length: 40, nullable: true })
  factorId: string | null;

  /** The sign-on decision taken at sign-in (JSON): methods, session lifetimes, matched rules. */
  @Column({ type: "text", nullable: true })
  decision: string | null;

  @Column({ type: "integer" })
  version: number;

  @TimestampColumn()
  created: Date;

  @TimestampColumn({ name: "expires_at" })
  expiresAt: Date;

  @TimestampColumn({ name: "finished_at", nullable: true })
  finishedAt: Date | null;
}
