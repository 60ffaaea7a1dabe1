import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";

export enum UserStatus {
  STAGED = "STAGED",
  PROVISIONED = "PROVISIONED",
  ACTIVE = "ACTIVE",
  LOCKED_OUT = "LOCKED_OUT",
  RECOVERY = "RECOVERY",
  SUSPENDED = "SUSPENDED",
  DEPROVISIONED = "DEPROVISIONED",
}
registerEnumType(UserStatus, { name: "UserStatus" });

@ObjectType()
@Entity("users")
@Index("users_created_id", ["created", "id"])
export class User {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Field()
  @Column({ type: "varchar", length: 256 })
  login: string;

  /** Lower-cased login: logins are unique regardless of case. */
  @Index("users_login_normalized", { unique: true })
  @Column({ name: "login_normalized", type: "varchar", length: 256 })
  loginNormalized: string;

  @Field(() => String, { nullable: true })
  @Column({ type: "varchar", length: 256, nullable: true })
  email: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: "first_name", type: "varchar", length: 128, nullable: true })
  firstName: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: "last_name", type: "varchar", length: 128, nullable: true })
  lastName: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: "mobile_phone", type: "varchar", length: 32, nullable: true })
  mobilePhone: string | null;

  @Field({ description: "BCP 47 tag; picks the SMS translation and the voice-call language" })
  @Column({ type: "varchar", length: 35, default: "en" })
  locale: string;

  @Field(() => UserStatus)
  @Column({ type: "varchar", length: 16 })
  status: UserStatus;

  @Column({ name: "password_hash", type: "varchar", length: 256, nullable: true })
  passwordHash: string | null;

  @Field()
  @TimestampColumn()
  created: Date;

  @Field(() => Date, { nullable: true })
  @TimestampColumn({ name: "last_login", nullable: true })
  lastLogin: Date | null;

  @TimestampColumn({ name: "status_changed" })
  statusChanged: Date;

  /** Consecutive wrong passwords since the last success: the password policy locks at its limit. */
  @Column({ name: "failed_logins", type: "integer", default: 0 })
  failedLogins: number;

  @TimestampColumn({ name: "locked_at", nullable: true })
  lockedAt: Date | null;

  /** Consecutive wrong passcodes across challenges (NIST 800-63B caps them at 100). */
  @Column({ name: "failed_passcodes", type: "integer", default: 0 })
  failedPasscodes: number;

  /**
   * The same, for recovery codes, counted apart: a recovery needs only the login, so its wrong
   * codes must not suspend the phone the user signs in with. At the cap, recovery by phone stops
   * until the phone is proven again.
   */
  @Column({ name: "failed_recovery_passcodes", type: "integer", default: 0 })
  failedRecoveryPasscodes: number;

  @Field(() => Date, { nullable: true, description: "when the password was last set; null without one" })
  @TimestampColumn({ name: "password_changed", nullable: true })
  passwordChanged: Date | null;

  /**
   * Set by an admin (expirePassword), cleared by the next new password. The GraphQL field of this
   * name also counts the password policy's maxAgeDays; see UserResolver.
   */
  @Column({ name: "password_expired", type: "boolean", default: false })
  passwordExpired: boolean;
}
