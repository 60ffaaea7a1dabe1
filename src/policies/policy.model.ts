import type { AuthenticatorUsage } from "../phone/phone.enums";
import type { PhoneMethod } from "../phone/phone-number";

// Plain shapes the evaluator reads. They carry no ORM or GraphQL decorators so that
// evaluate.ts stays a pure function of its arguments, testable without a database; the
// entity and GraphQL layers map onto these.

export type { AuthenticatorUsage, PhoneMethod };

const closed = <T extends string>(...values: T[]) =>
  Object.freeze(Object.fromEntries(values.map((value) => [value, value]))) as { readonly [K in T]: K };

export const PolicyType = closed("GLOBAL_SESSION", "AUTHENTICATION", "AUTHENTICATOR_ENROLLMENT", "PASSWORD");
export type PolicyType = keyof typeof PolicyType;

export const RuleAccess = closed("ALLOW", "DENY");
export type RuleAccess = keyof typeof RuleAccess;

export const FactorRequirement = closed("PASSWORD_ONLY", "PASSWORD_AND_PHONE");
export type FactorRequirement = keyof typeof FactorRequirement;

export const EnrollmentRequirement = closed("REQUIRED", "OPTIONAL", "NOT_ALLOWED");
export type EnrollmentRequirement = keyof typeof EnrollmentRequirement;

export interface PolicyRuleModel {
  id: string;
  name: string;
  /** 1 is evaluated first. */
  priority: number;
  /** Empty: any user. */
  groupIds: string[];
  excludedGroupIds: string[];
  /** Empty: any application, including a sign-in that names none. */
  clientIds: string[];
  /** CIDR blocks or single addresses, IPv4 or IPv6 (see network-zones.ts). Empty: anywhere. */
  networkZones: string[];
  access: RuleAccess;
  /** Null reads as PASSWORD_ONLY. */
  factorRequirement: FactorRequirement | null;
  /** Null: whatever the phone authenticator offers. */
  methods: PhoneMethod[] | null;
  reauthenticateAfterMinutes: number | null;
  /** GLOBAL_SESSION rules; null: no limit from this rule. */
  sessionLifetimeMinutes: number | null;
  sessionIdleMinutes: number | null;
}

export interface PolicyModel {
  id: string;
  type: PolicyType;
  name: string;
  /** 1 is evaluated first; the default policy of a type comes last whatever its number. */
  priority: number;
  isDefault: boolean;
  /** Ignored on the default policy. Empty on another policy: every user. */
  groupIds: string[];
  rules: PolicyRuleModel[];
  /** AUTHENTICATOR_ENROLLMENT only. */
  phoneEnrollment: EnrollmentRequirement | null;
  /** PASSWORD only, as are the fields below. */
  recoveryMethods: PhoneMethod[] | null;
  maxFailedAttempts: number | null;
  autoUnlockMinutes: number | null;
  minLength: number | null;
  passwordHistoryCount: number | null;
  passwordMaxAgeDays: number | null;
  passwordExpireWarnDays: number | null;
  passwordMinAgeMinutes: number | null;
  showLockoutFailures: boolean | null;
  requireUppercase: boolean | null;
  requireLowercase: boolean | null;
  requireNumber: boolean | null;
  requireSymbol: boolean | null;
  excludeCommonPasswords: boolean | null;
  excludeUsername: boolean | null;
  excludeNames: boolean | null;
}

/** Who is signing in, to what, from where, and what the phone authenticator can do. */
export interface SignOnContext {
  userGroupIds: string[];
  /** The application's client id; null when the sign-in names none. */
  clientId: string | null;
  /** The client address as the server resolved it; null when unknown. */
  ipAddress: string | null;
  authenticatorUsage: AuthenticatorUsage;
  authenticatorMethods: PhoneMethod[];
  authenticatorActive: boolean;
}
