import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";

/** A signed-in session: the bearer token is shown once, only its SHA-256 is kept. */
@Entity("sessions")
@Index("sessions_user", ["userId"])
export class SessionRecord {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Index("sessions_token_hash", { unique: true })
  @Column({ name: "token_hash", type: "varchar", length: 64 })
  tokenHash: string;

  @Column({ name: "user_id", type: "varchar", length: 40 })
  userId: string;

  @TimestampColumn()
  created: Date;

  @TimestampColumn({ name: "expires_at" })
  expiresAt: Date;

  @Column({ name: "idle_timeout_minutes", type: "integer" })
  idleTimeoutMinutes: number;

  @TimestampColumn({ name: "last_seen" })
  lastSeen: Date;

  /** When the second factor was last proven in this session (reauthenticateAfterMinutes). */
  @TimestampColumn({ name: "mfa_at", nullable: true })
  mfaAt: Date | null;

  @TimestampColumn({ nullable: true })
  revoked: Date | null;
}
