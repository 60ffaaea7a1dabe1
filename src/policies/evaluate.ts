import { caseFolded } from "../platform/case-folding";
import { DAY_MS } from "../platform/clock";
import { isCommonPassword } from "./common-passwords";
import { ipInZones } from "./network-zones";
import type {
  EnrollmentRequirement,
  FactorRequirement,
  PhoneMethod,
  PolicyModel,
  PolicyRuleModel,
  PolicyType,
  RuleAccess,
  SignOnContext,
} from "./policy.model";

// Pure: every answer is a function of the policies and the context passed in, so the
// transaction flows, the admin API and the tests all see the same decision for the same input.

/** Used when neither the global session rule nor the authentication rule sets a lifetime. */
export const DEFAULT_SESSION_LIFETIME_MINUTES = 120;
/** Used when neither the global session rule nor the authentication rule sets an idle time. */
export const DEFAULT_SESSION_IDLE_MINUTES = 60;
/** NIST 800-63B's floor for memorized secrets. */
export const DEFAULT_PASSWORD_MIN_LENGTH = 8;
/** Long enough for any passphrase, short enough that hashing it costs nothing notable. */
export const PASSWORD_MAX_LENGTH = 256;
/**
 * What a password field takes as typed. PASSWORD_MAX_LENGTH counts after NFKC, which composes
 * what some keyboards send decomposed ("é" as e and U+0301): checked on the raw text, a password
 * the policy accepted could not be typed again from such a keyboard.
 */
export const PASSWORD_INPUT_MAX_LENGTH = 4 * PASSWORD_MAX_LENGTH;
export const DEFAULT_MAX_FAILED_ATTEMPTS = 10;
/** Okta's default: a new password may not be the current one or any of the three before it. */
export const DEFAULT_PASSWORD_HISTORY_COUNT = 4;
export const MAX_PASSWORD_HISTORY_COUNT = 24;
/** Passwords do not expire unless a policy says so: NIST 800-63B advises against periodic changes. */
export const DEFAULT_PASSWORD_MAX_AGE_DAYS = 0;
/** No sign-in warns of an expiry unless a policy asks. */
export const DEFAULT_PASSWORD_EXPIRE_WARN_DAYS = 0;
/** Okta's ceiling for a password's age, and for the warning before it comes. */
export const MAX_PASSWORD_MAX_AGE_DAYS = 999;
/**
 * A locked account's sign-in answers LOCKED_OUT, so that its owner learns to unlock it, unless a
 * policy hides it. Okta hides it by default; the contract's sign-in answers it. Shown, it tells
 * whoever locked the account with wrong passwords that the login exists.
 */
export const DEFAULT_SHOW_LOCKOUT_FAILURES = true;
/** A password may be changed again at once unless a policy says otherwise, as in Okta. */
export const DEFAULT_PASSWORD_MIN_AGE_MINUTES = 0;
/** About a week: a longer wait would keep a user who suspects a leak on that password. */
export const MAX_PASSWORD_MIN_AGE_MINUTES = 9_999;
/**
 * What a password policy excludes unless it says otherwise: NIST 800-63B requires the first two;
 * names are off, as in Okta, since a name such as Will or Rose is also a word.
 */
export const DEFAULT_PASSWORD_EXCLUSIONS = { excludeCommonPasswords: true, excludeUsername: true, excludeNames: false } as const;
export const DEFAULT_PHONE_ENROLLMENT: EnrollmentRequirement = "OPTIONAL";

export const SignOnDenyReason = {
  DENIED_BY_GLOBAL_SESSION_RULE: "DENIED_BY_GLOBAL_SESSION_RULE",
  DENIED_BY_AUTHENTICATION_RULE: "DENIED_BY_AUTHENTICATION_RULE",
  PHONE_REQUIRED_BUT_UNAVAILABLE: "PHONE_REQUIRED_BUT_UNAVAILABLE",
} as const;
export type SignOnDenyReason = keyof typeof SignOnDenyReason;

/** What a rule condition looks at; a full SignOnContext fits. */
export type RuleContext = Pick<SignOnContext, "userGroupIds" | "clientId" | "ipAddress">;
/** What policy selection looks at; a full SignOnContext fits. */
export type PolicyContext = Pick<SignOnContext, "userGroupIds">;

/** Which policy applied and which of its rules matched (null: none did, the implicit rule applied). */
export interface PolicyMatch {
  policyId: string;
  ruleId: string | null;
}

export interface SignOnDecision {
  access: RuleAccess;
  reason: SignOnDenyReason | null;
  factorRequirement: FactorRequirement;
  /** Methods usable for the second factor here; empty on DENY or when the authenticator cannot do MFA. */
  phoneMethods: PhoneMethod[];
  reauthenticateAfterMinutes: number | null;
  sessionLifetimeMinutes: number;
  sessionIdleMinutes: number;
  /** Null for a policy type with no policy at all. */
  matched: { globalSession: PolicyMatch | null; authentication: PolicyMatch | null };
}

export interface EnrollmentDecision {
  phone: EnrollmentRequirement;
  policyId: string | null;
}

export interface PasswordDecision {
  policyId: string | null;
  minLength: number;
  requireUppercase: boolean;
  requireLowercase: boolean;
  requireNumber: boolean;
  requireSymbol: boolean;
  /** Refuse passwords on the list of the most common ones (NIST 800-63B's blocklist). */
  excludeCommonPasswords: boolean;
  /** Refuse passwords that contain the user's username (the login up to its last @). */
  excludeUsername: boolean;
  /** Refuse passwords that contain the user's first or last name (Okta's excludeAttributes). */
  excludeNames: boolean;
  /** A new password may not be any of the user's last this many, the current one included; 0: no history. */
  historyCount: number;
  /** A password older than this many days must be replaced at the next sign-in; 0: it never expires. */
  maxAgeDays: number;
  /** A sign-in this many days or fewer before the password expires says when it will; 0: none does. */
  expireWarnDays: number;
  /** A user may not change their password again until it is this many minutes old; 0: at once. */
  minAgeMinutes: number;
  maxFailedAttempts: number;
  /** Null: a locked account stays locked until unlocked by phone or by an admin. */
  autoUnlockMinutes: number | null;
  /** False: a locked account's sign-in is refused as a wrong password is, whatever the password. */
  showLockoutFailures: boolean;
  /** Methods allowed for password reset and account unlock. */
  recoveryMethods: PhoneMethod[];
}

export type PasswordViolation =
  | `MIN_LENGTH:${number}`
  | `MAX_LENGTH:${number}`
  | "UPPERCASE"
  | "LOWERCASE"
  | "NUMBER"
  | "SYMBOL"
  | "CONTAINS_USERNAME"
  | "CONTAINS_NAME"
  | "COMMON_PASSWORD"
  | "INVALID_CHARACTERS";

/** Half of a surrogate pair on its own: text encoding turns each into U+FFFD, so any two would hash alike. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Usernames and names shorter than this are not looked for in passwords: "al" would refuse every password holding those two letters. */
const MIN_EXCLUDED_WORD_LENGTH = 3;

/**
 * The policies of one type in evaluation order: priority ascending, the default policy
 * last whatever its number (an admin renumbering must not let it shadow the others). Ties
 * break on id so that the order never depends on how the store happened to return rows.
 */
export function orderPolicies(policies: readonly PolicyModel[], type: PolicyType): PolicyModel[] {
  return policies
    .filter((policy) => policy.type === type)
    .sort((a, b) => Number(a.isDefault) - Number(b.isDefault) || a.priority - b.priority || compareIds(a.id, b.id));
}

/** The first policy of `type` that applies to the user, or null when none does. */
export function selectPolicy(policies: readonly PolicyModel[], type: PolicyType, ctx: PolicyContext): PolicyModel | null {
  return orderPolicies(policies, type).find((policy) => policyApplies(policy, ctx.userGroupIds)) ?? null;
}

/** The first rule of the policy, by priority, whose conditions all hold; null when none does. */
export function selectRule(policy: PolicyModel, ctx: RuleContext): PolicyRuleModel | null {
  const rules = [...policy.rules].sort((a, b) => a.priority - b.priority || compareIds(a.id, b.id));
  return rules.find((rule) => ruleMatches(rule, ctx)) ?? null;
}

/**
 * Decides a sign-in from the GLOBAL_SESSION policy (who may sign in at all, and for how
 * long) and the AUTHENTICATION policy (what this application demands). The stricter of the
 * two wins on every axis.
 *
 * A policy none of whose rules match leaves the sign-in to the next policy that applies, as
 * in Okta, down to the default: a group's policy without a catch-all rule must not hide the
 * default's phone and DENY rules. Only when no policy of a type has a rule that matches is
 * the answer an implicit ALLOW with PASSWORD_ONLY and no limits; the default policies we ship
 * end in a catch-all rule, so that takes an admin who removed it.
 *
 * When the phone is required but cannot be used (the authenticator is inactive, reserved
 * for recovery, or offers none of the methods the rules allow), the answer is DENY with
 * PHONE_REQUIRED_BUT_UNAVAILABLE: refusing is safer than silently dropping the second
 * factor an admin asked for.
 */
export function evaluateSignOn(policies: readonly PolicyModel[], ctx: SignOnContext): SignOnDecision {
  const globalSession = decide(policies, "GLOBAL_SESSION", ctx);
  const authentication = decide(policies, "AUTHENTICATION", ctx);
  const rules = [globalSession.rule, authentication.rule];

  const factorRequirement: FactorRequirement = rules.some((rule) => rule?.factorRequirement === "PASSWORD_AND_PHONE")
    ? "PASSWORD_AND_PHONE"
    : "PASSWORD_ONLY";
  // RECOVERY_ONLY means the authenticator may reset passwords but is no second factor.
  const authenticatorServesMfa = ctx.authenticatorActive && ctx.authenticatorUsage === "MFA_AND_RECOVERY";
  const allowedMethods = authenticatorServesMfa
    ? rules.reduce<PhoneMethod[]>(
        (methods, rule) => (rule?.methods == null ? methods : methods.filter((method) => rule.methods?.includes(method))),
        unique(ctx.authenticatorMethods),
      )
    : [];

  let reason: SignOnDenyReason | null = null;
  if (globalSession.rule?.access === "DENY") reason = "DENIED_BY_GLOBAL_SESSION_RULE";
  else if (authentication.rule?.access === "DENY") reason = "DENIED_BY_AUTHENTICATION_RULE";
  else if (factorRequirement === "PASSWORD_AND_PHONE" && allowedMethods.length === 0) {
    reason = "PHONE_REQUIRED_BUT_UNAVAILABLE";
  }

  return {
    access: reason === null ? "ALLOW" : "DENY",
    reason,
    factorRequirement,
    // Empty on DENY so that nothing downstream sends a passcode to a refused sign-in.
    phoneMethods: reason === null ? allowedMethods : [],
    // A rule that asks for the phone and remembers it for no time asks every time, whatever another rule remembers.
    reauthenticateAfterMinutes: rules.some((rule) => rule?.factorRequirement === "PASSWORD_AND_PHONE" && rule.reauthenticateAfterMinutes == null)
      ? null
      : smallest(rules.map((rule) => rule?.reauthenticateAfterMinutes)),
    sessionLifetimeMinutes: smallest(rules.map((rule) => rule?.sessionLifetimeMinutes)) ?? DEFAULT_SESSION_LIFETIME_MINUTES,
    sessionIdleMinutes: smallest(rules.map((rule) => rule?.sessionIdleMinutes)) ?? DEFAULT_SESSION_IDLE_MINUTES,
    matched: { globalSession: globalSession.match, authentication: authentication.match },
  };
}

/** Whether the user must, may or may not enroll a phone; OPTIONAL when no policy says otherwise. */
export function evaluateEnrollment(policies: readonly PolicyModel[], ctx: PolicyContext): EnrollmentDecision {
  const policy = selectPolicy(policies, "AUTHENTICATOR_ENROLLMENT", ctx);
  return { phone: policy?.phoneEnrollment ?? DEFAULT_PHONE_ENROLLMENT, policyId: policy?.id ?? null };
}

/**
 * The password rules for the user. Composition rules default to off, as NIST 800-63B
 * advises, and recovery by phone defaults to off: as in Okta, an admin switches it on.
 */
export function evaluatePassword(policies: readonly PolicyModel[], ctx: PolicyContext): PasswordDecision {
  const policy = selectPolicy(policies, "PASSWORD", ctx);
  return {
    policyId: policy?.id ?? null,
    minLength: policy?.minLength ?? DEFAULT_PASSWORD_MIN_LENGTH,
    requireUppercase: policy?.requireUppercase ?? false,
    requireLowercase: policy?.requireLowercase ?? false,
    requireNumber: policy?.requireNumber ?? false,
    requireSymbol: policy?.requireSymbol ?? false,
    excludeCommonPasswords: policy?.excludeCommonPasswords ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeCommonPasswords,
    excludeUsername: policy?.excludeUsername ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeUsername,
    excludeNames: policy?.excludeNames ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeNames,
    historyCount: policy?.passwordHistoryCount ?? DEFAULT_PASSWORD_HISTORY_COUNT,
    maxAgeDays: policy?.passwordMaxAgeDays ?? DEFAULT_PASSWORD_MAX_AGE_DAYS,
    expireWarnDays: policy?.passwordExpireWarnDays ?? DEFAULT_PASSWORD_EXPIRE_WARN_DAYS,
    minAgeMinutes: policy?.passwordMinAgeMinutes ?? DEFAULT_PASSWORD_MIN_AGE_MINUTES,
    maxFailedAttempts: policy?.maxFailedAttempts ?? DEFAULT_MAX_FAILED_ATTEMPTS,
    autoUnlockMinutes: policy?.autoUnlockMinutes ?? null,
    showLockoutFailures: policy?.showLockoutFailures ?? DEFAULT_SHOW_LOCKOUT_FAILURES,
    recoveryMethods: unique(policy?.recoveryMethods ?? []),
  };
}

/**
 * The recovery methods some password policy allows: what an anonymous recovery may ask for. A
 * method no policy allows is refused alike for every login; one that only the user's own policy
 * decides is answered alike too (a decoy), or the answer would tell which groups a login is in.
 */
export function recoveryMethodsOffered(policies: readonly PolicyModel[]): PhoneMethod[] {
  return unique(policies.filter((policy) => policy.type === "PASSWORD").flatMap((policy) => policy.recoveryMethods ?? []));
}

/** When the password comes of age under the policy's maxAgeDays; null when it never does, or its age is not known. */
export function passwordExpiresAt(policy: Pick<PasswordDecision, "maxAgeDays">, changed: Date | null): Date | null {
  return policy.maxAgeDays && changed ? new Date(changed.getTime() + policy.maxAgeDays * DAY_MS) : null;
}

/**
 * Whether the password must be replaced before a session is given: an admin expired it, or it
 * is older than the policy's maxAgeDays. A password whose age is not known expires only by an admin.
 */
export function isPasswordExpired(
  policy: Pick<PasswordDecision, "maxAgeDays">,
  password: { expired: boolean; changed: Date | null },
  now: Date,
): boolean {
  if (password.expired) return true;
  const expiresAt = passwordExpiresAt(policy, password.changed);
  return expiresAt !== null && now.getTime() >= expiresAt.getTime();
}

/**
 * When a password that still signs in will expire, if that is within the policy's
 * expireWarnDays (Okta's "prompt the user before the password expires"); null otherwise.
 */
export function passwordExpiryWarning(
  policy: Pick<PasswordDecision, "maxAgeDays" | "expireWarnDays">,
  changed: Date | null,
  now: Date,
): Date | null {
  const expiresAt = passwordExpiresAt(policy, changed);
  if (!expiresAt || !policy.expireWarnDays || now.getTime() >= expiresAt.getTime()) return null;
  return expiresAt.getTime() - policy.expireWarnDays * DAY_MS <= now.getTime() ? expiresAt : null;
}

/**
 * When a user may next change their password themselves, if that is still to come under the
 * policy's minAgeMinutes; null when they may now. The minimum age keeps a user from changing
 * their password over and over until the history has forgotten an old one, so it does not hold
 * for an expired password, which must be replaced, nor for one whose age is not known.
 */
export function passwordChangeAllowedAt(
  policy: Pick<PasswordDecision, "minAgeMinutes" | "maxAgeDays">,
  password: { expired: boolean; changed: Date | null },
  now: Date,
): Date | null {
  if (!policy.minAgeMinutes || isPasswordExpired(policy, password, now) || !password.changed) return null;
  const allowedAt = password.changed.getTime() + policy.minAgeMinutes * 60_000;
  return now.getTime() < allowedAt ? new Date(allowedAt) : null;
}

/**
 * The first rule the password breaks, as a PASSWORD_POLICY reason code, or null.
 *
 * The password is NFKC-normalized first, as the hasher does (users/password.ts), so what is
 * counted is what is stored; length is in code points, so "ééééééé" is 7 whether it was
 * typed precomposed or with combining accents. The username, the names and the list of common passwords
 * are compared without regard to case: "Password1" is as guessable as "password1".
 */
export function checkPasswordAgainstPolicy(
  password: string,
  policy: Pick<
    PasswordDecision,
    | "minLength"
    | "requireUppercase"
    | "requireLowercase"
    | "requireNumber"
    | "requireSymbol"
    | "excludeCommonPasswords"
    | "excludeUsername"
    | "excludeNames"
  >,
  owner: { login: string; firstName?: string | null; lastName?: string | null },
): PasswordViolation | null {
  if (LONE_SURROGATE.test(password)) return "INVALID_CHARACTERS";
  const normalized = password.normalize("NFKC");
  const length = [...normalized].length;
  if (length > PASSWORD_MAX_LENGTH) return `MAX_LENGTH:${PASSWORD_MAX_LENGTH}`;
  if (length < policy.minLength) return `MIN_LENGTH:${policy.minLength}`;
  if (policy.requireUppercase && !/[\p{Lu}\p{Lt}]/u.test(normalized)) return "UPPERCASE";
  if (policy.requireLowercase && !/\p{Ll}/u.test(normalized)) return "LOWERCASE";
  if (policy.requireNumber && !/\p{Nd}/u.test(normalized)) return "NUMBER";
  if (policy.requireSymbol && !/[\p{P}\p{S}]/u.test(normalized)) return "SYMBOL";
  const folded = normalized.toLowerCase();
  if (policy.excludeUsername) {
    const username = usernameOf(owner.login);
    if (isLongEnough(username) && folded.includes(username)) return "CONTAINS_USERNAME";
  }
  if (policy.excludeNames) {
    const names = [owner.firstName, owner.lastName].map((name) => caseFolded(name ?? ""));
    if (names.some((name) => isLongEnough(name) && folded.includes(name))) return "CONTAINS_NAME";
  }
  if (policy.excludeCommonPasswords && isCommonPassword(folded)) return "COMMON_PASSWORD";
  return null;
}

/** The login up to its last @ (all of it when it has none), normalized and folded as passwords are compared. */
function usernameOf(login: string): string {
  const folded = caseFolded(login);
  const at = folded.lastIndexOf("@");
  return at > 0 ? folded.slice(0, at) : folded;
}

const isLongEnough = (word: string) => [...word].length >= MIN_EXCLUDED_WORD_LENGTH;

function decide(
  policies: readonly PolicyModel[],
  type: PolicyType,
  ctx: RuleContext,
): { match: PolicyMatch | null; rule: PolicyRuleModel | null } {
  const applicable = orderPolicies(policies, type).filter((policy) => policyApplies(policy, ctx.userGroupIds));
  for (const policy of applicable) {
    const rule = selectRule(policy, ctx);
    if (rule) return { match: { policyId: policy.id, ruleId: rule.id }, rule };
  }
  const [first] = applicable;
  return { match: first ? { policyId: first.id, ruleId: null } : null, rule: null };
}

function policyApplies(policy: PolicyModel, userGroupIds: readonly string[]): boolean {
  return policy.isDefault || policy.groupIds.length === 0 || intersects(policy.groupIds, userGroupIds);
}

function ruleMatches(rule: PolicyRuleModel, ctx: RuleContext): boolean {
  if (rule.groupIds.length > 0 && !intersects(rule.groupIds, ctx.userGroupIds)) return false;
  if (intersects(rule.excludedGroupIds, ctx.userGroupIds)) return false;
  if (rule.clientIds.length > 0 && (ctx.clientId === null || !rule.clientIds.includes(ctx.clientId))) return false;
  // An unknown or unparsable address is in no zone, so it only meets rules that name none.
  if (rule.networkZones.length > 0 && !ipInZones(ctx.ipAddress, rule.networkZones)) return false;
  return true;
}

function intersects(a: readonly string[], b: readonly string[]): boolean {
  return a.some((item) => b.includes(item));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function smallest(values: readonly (number | null | undefined)[]): number | null {
  const present = values.filter((value): value is number => value != null);
  return present.length === 0 ? null : Math.min(...present);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
