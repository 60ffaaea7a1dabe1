import { Column, Entity, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";
import type { AuthenticatorStatus, AuthenticatorUsage, PhoneMethod } from "./phone.enums";

/** The one phone authenticator of the organisation (a single row, id 1). */
@Entity("phone_authenticator")
export class PhoneAuthenticatorSettings {
  @PrimaryColumn({ type: "integer" })
  id: number;

  @Column({ type: "varchar", length: 16 })
  status: AuthenticatorStatus;

  /** Comma-separated PhoneMethod values, in the order an admin gave them. */
  @Column({ type: "varchar", length: 32 })
  methods: string;

  @Column({ type: "varchar", length: 24 })
  usage: AuthenticatorUsage;

  @Column({ name: "code_length", type: "integer" })
  codeLength: number;

  @Column({ name: "code_ttl_seconds", type: "integer" })
  codeTtlSeconds: number;

  @Column({ name: "max_attempts", type: "integer" })
  maxAttempts: number;

  @Column({ name: "resend_cooldown_seconds", type: "integer" })
  resendCooldownSeconds: number;

  @Column({ name: "max_resends", type: "integer" })
  maxResends: number;

  /** NIST 800-63B: VoIP numbers shall not be used; an admin may decide otherwise. */
  @Column({ name: "allow_voip", type: "boolean" })
  allowVoip: boolean;

  @TimestampColumn()
  updated: Date;

  get methodList(): PhoneMethod[] {
    return this.methods.split(",").filter(Boolean) as PhoneMethod[];
  }
}

@Entity("country_overrides")
export class CountryOverrideRecord {
  @PrimaryColumn({ type: "varchar", length: 2 })
  code: string;

  @Column({ name: "sms_enabled", type: "boolean", nullable: true })
  smsEnabled: boolean | null;

  @Column({ name: "voice_enabled", type: "boolean", nullable: true })
  voiceEnabled: boolean | null;

  /** Millionths of a US dollar: exact, and the same integer on both engines. */
  @Column({ name: "sms_cost_micros", type: "integer", nullable: true })
  smsCostMicros: number | null;

  @Column({ name: "voice_cost_micros", type: "integer", nullable: true })
  voiceCostMicros: number | null;

  @TimestampColumn()
  updated: Date;
}

@Entity("blocked_numbers")
export class BlockedNumber {
  @PrimaryColumn({ type: "varchar", length: 20 })
  e164: string;

  @Column({ type: "varchar", length: 256, nullable: true })
  reason: string | null;

  /** ADMIN, or the fraud rule that blocked it. */
  @Column({ type: "varchar", length: 64 })
  source: string;

  @TimestampColumn()
  created: Date;

  @TimestampColumn({ name: "expires_at", nullable: true })
  expiresAt: Date | null;
}
