import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { JsonColumn, TimestampColumn } from "../platform/columns";
import type { EnrollmentRequirement, FactorRequirement, PolicyType, RuleAccess } from "./policy.model";
import type { PhoneMethod } from "../phone/phone.enums";

@Entity("policies")
@Index("policies_type_priority", ["type", "priority"])
export class PolicyRecord {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ type: "varchar", length: 32 })
  type: PolicyType;

  @Column({ type: "varchar", length: 128 })
  name: string;

  @Column({ type: "integer" })
  priority: number;

  @Column({ name: "is_default", type: "boolean" })
  isDefault: boolean;

  @JsonColumn({ name: "group_ids" })
  groupIds: string[];

  @Column({ name: "phone_enrollment", type: "varchar", length: 16, nullable: true })
  phoneEnrollment: EnrollmentRequirement | null;

  @JsonColumn({ name: "recovery_methods", nullable: true })
  recoveryMethods: PhoneMethod[] | null;

  @Column({ name: "max_failed_attempts", type: "integer", nullable: true })
  maxFailedAttempts: number | null;

  @Column({ name: "auto_unlock_minutes", type: "integer", nullable: true })
  autoUnlockMinutes: number | null;

  @Column({ name: "min_length", type: "integer", nullable: true })
  minLength: number | null;

  /** Passwords remembered, the current one included; null on policies written before it existed, read as 4. */
  @Column({ name: "history_count", type: "integer", nullable: true })
  historyCount: number | null;

  /** Days a password lasts; 0 or null (policies written before it existed): for ever. */
  @Column({ name: "max_age_days", type: "integer", nullable: true })
  maxAgeDays: number | null;

  /** Days before expiry from which a sign-in says when; 0 or null (policies written before it existed): never. */
  @Column({ name: "expire_warn_days", type: "integer", nullable: true })
  expireWarnDays: number | null;

  /** Minutes a password must be held before its user may change it; 0 or null (policies written before it existed): none. */
  @Column({ name: "min_age_minutes", type: "integer", nullable: true })
  minAgeMinutes: number | null;

  /** Whether a locked account's sign-in answers LOCKED_OUT; null (policies written before it existed): it does. */
  @Column({ name: "show_lockout_failures", type: "boolean", nullable: true })
  showLockoutFailures: boolean | null;

  @JsonColumn({ name: "complexity", nullable: true })
  /** The exclusions are absent from policies written before they existed, and read at their defaults. */
  complexity: {
    uppercase: boolean;
    lowercase: boolean;
    number: boolean;
    symbol: boolean;
    excludeCommonPasswords?: boolean;
    excludeUsername?: boolean;
    excludeNames?: boolean;
  } | null;

  @TimestampColumn()
  created: Date;

  @TimestampColumn()
  updated: Date;
}

@Entity("policy_rules")
@Index("policy_rules_policy", ["policyId", "priority"])
export class PolicyRuleRecord {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "policy_id", type: "varchar", length: 40 })
  policyId: string;

  @Column({ type: "varchar", length: 128 })
  name: string;

  @Column({ type: "integer" })
  priority: number;

  @JsonColumn({ name: "group_ids" })
  groupIds: string[];

  @JsonColumn({ name: "excluded_group_ids" })
  excludedGroupIds: string[];

  @JsonColumn({ name: "client_ids" })
  clientIds: string[];

  @JsonColumn({ name: "network_zones" })
  networkZones: string[];

  @Column({ type: "varchar", length: 8 })
  access: RuleAccess;

  @Column({ name: "factor_requirement", type: "varchar", length: 24, nullable: true })
  factorRequirement: FactorRequirement | null;

  @JsonColumn({ nullable: true })
  methods: PhoneMethod[] | null;

  @Column({ name: "reauthenticate_after_minutes", type: "integer", nullable: true })
  reauthenticateAfterMinutes: number | null;

  @Column({ name: "session_lifetime_minutes", type: "integer", nullable: true })
  sessionLifetimeMinutes: number | null;

  @Column({ name: "session_idle_minutes", type: "integer", nullable: true })
  sessionIdleMinutes: number | null;
}
