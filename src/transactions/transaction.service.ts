import { timingSafeEqual } from "node:crypto";
import { In, IsNull } from "typeorm";
import { setTimeout as sleep } from "node:timers/promises";
import type { Viewer } from "../auth/viewer";
import { GroupMember } from "../groups/group.entity";
import { EventType } from "../log/event-types";
import type { LogActor, LogEventInput, LogService } from "../log/log.service";
import type { Challenge } from "../phone/challenge.entity";
import type { ChallengeService, Requester } from "../phone/challenge.service";
import { isSendRefusal, refuseResend, userActor } from "../phone/challenge.service";
import type { FactorService } from "../phone/factor.service";
import { PhoneFactor } from "../phone/phone-factor.entity";
import type { PhoneAuthenticatorSettings } from "../phone/phone-authenticator.entity";
import type { PhoneAuthenticatorService } from "../phone/phone-authenticator.service";
import { maskPhoneNumber } from "../phone/phone-number";
import type { PhoneMethod } from "../phone/phone.enums";
import type { Clock } from "../platform/clock";
import type { ClientInfo } from "../platform/context";
import type { Database, Transaction } from "../platform/database";
import { AppError, ErrorCode } from "../platform/errors";
import { hashSecret, newId, newSecret } from "../platform/ids";
import {
  checkPasswordAgainstPolicy,
  evaluateEnrollment,
  evaluatePassword,
  evaluateSignOn,
  isPasswordExpired,
  passwordChangeAllowedAt,
  passwordExpiryWarning,
  recoveryMethodsOffered,
  type PasswordDecision,
  type PasswordViolation,
} from "../policies/evaluate";
import type { SignOnContext } from "../policies/policy.model";
import type { PolicyService } from "../policies/policy.service";
import type { RateLimits } from "../security/rate-limits";
import { SessionRecord } from "../sessions/session.entity";
import type { SessionService } from "../sessions/session.service";
import { accountNamed, loginKeys } from "../users/login";
import { canonicalPassword, hashPassword, verifyAgainstDummy, verifyPassword } from "../users/password";
import { isRecentPassword, rememberReplacedPassword } from "../users/password-history";
import { User, UserStatus } from "../users/user.entity";
import { AuthTransactionRecord, TransactionStatus, type TransactionKind } from "./auth-transaction.entity";

/** Okta's transaction lifetime. */
export const TRANSACTION_LIFETIME_MS = 10 * 60_000;

export interface FactorOptionView {
  factorId: string;
  method: PhoneMethod;
  phoneNumber: string;
}

export interface TransactionView {
  stateHandle: string;
  status: TransactionStatus;
  expiresAt: Date;
  user: { id: string; login: string; firstName: string | null; locale: string } | null;
  factors: FactorOptionView[];
  enrollMethods: PhoneMethod[];
  challenge: Challenge | null;
  sessionToken: string | null;
  passwordExpiresAt: Date | null;
}

/** What sign-in decided, kept on the transaction so later steps follow the same rules. */
interface StoredDecision {
  phoneMethods: PhoneMethod[];
  enrollMethods: PhoneMethod[];
  sessionLifetimeMinutes: number;
  sessionIdleMinutes: number;
  recoveryMethod?: PhoneMethod;
  /**
   * A recovery for nobody: answers like a real one, sends nothing, counts wrong codes, and keeps
   * the times a real code would have (sent, expiring, resent), so that its answers to a resend or
   * a late code are the real ones too.
   */
  decoy?: boolean;
  decoyAttempts?: number;
  maxAttempts?: number;
  decoyMethod?: PhoneMethod;
  decoySentAt?: number;
  decoyExpiresAt?: number;
  decoyResends?: number;
  maxResends?: number;
  resendCooldownSeconds?: number;
  codeTtlSeconds?: number;
  /** The password was expired when it signed in: it must be replaced before a session is given. */
  passwordExpired?: boolean;
  /** Epoch ms the phone was proven (now, or as remembered) by a sign-in that reached PASSWORD_EXPIRED; absent: not proven. */
  mfaAt?: number;
  /** Written before mfaAt by transactions still open across an upgrade: proven, at an unknown time. */
  mfaVerified?: boolean;
  /** Epoch ms the password expires at, when the sign-in came within the policy's warning of it. */
  passwordExpiresAt?: number;
  /**
   * A digest of the stored hash of the password the sign-in proved (provenPasswordOf). Each later
   * step refuses once the account's password is another: whoever proved a leaked password must
   * not finish signing in, or replace an expired one, after the owner has changed it.
   */
  provenPassword?: string | null;
}

export interface TransactionDependencies {
  db: Database;
  clock: Clock;
  log: LogService;
  policies: PolicyService;
  sessions: SessionService;
  factors: FactorService;
  challenges: ChallengeService;
  authenticator: PhoneAuthenticatorService;
  limits: Pick<RateLimits, "consumeNewPassword">;
  /** Recovery answers take at least this long, so timing tells nothing of the login. */
  recoveryResponseFloorMs: number;
}

const expired = () => new AppError(ErrorCode.TRANSACTION_EXPIRED, "This sign-in has expired or is finished; start again");

/**
 * The statuses in which an account may start, and go on with, each kind of flow. A recovery
 * is how a locked-out user gets back in, and how one created without a password (PROVISIONED)
 * sets one; an unlock is for a locked account, or one that unlocked itself meanwhile.
 */
const FLOW_STATUSES: Record<TransactionKind, readonly UserStatus[]> = {
  SIGN_IN: [UserStatus.ACTIVE],
  PASSWORD_RECOVERY: [UserStatus.ACTIVE, UserStatus.LOCKED_OUT, UserStatus.RECOVERY, UserStatus.PROVISIONED],
  ACCOUNT_UNLOCK: [UserStatus.LOCKED_OUT, UserStatus.ACTIVE],
};
const invalidTransition = (status: TransactionStatus) =>
  new AppError(ErrorCode.INVALID_TRANSITION, `This step does not fit a transaction in status ${status}`, { status });
const invalidCredentials = () => new AppError(ErrorCode.INVALID_CREDENTIALS, "The login or the password is not right");

/** Locking, suspending and deactivating an account end its sessions. */
const SESSION_ENDING_STATUSES: ReadonlySet<UserStatus> = new Set([UserStatus.LOCKED_OUT, UserStatus.SUSPENDED, UserStatus.DEPROVISIONED]);
function refuseEndedSession(status: UserStatus): void {
  if (SESSION_ENDING_STATUSES.has(status)) throw new AppError(ErrorCode.UNAUTHENTICATED, "This session has ended: the account is no longer active");
}

export class TransactionService {
  constructor(private readonly deps: TransactionDependencies) {}

  async signIn(input: { login: string; password: string; clientId?: string | null }, client: ClientInfo, current: Viewer): Promise<TransactionView> {
    const { db, clock, log, policies, authenticator } = this.deps;
    const login = input.login.trim();
    const read = accountNamed(login, await db.manager.findBy(User, { loginNormalized: In(loginKeys(login)) }));
    // The hash is checked whether or not the login exists, so both answer in the same time.
    const compared = read?.passwordHash ? await verifyPassword(input.password, read.passwordHash) : await verifyAgainstDummy(input.password);
    const { user, passwordMatches } = await this.afterComparing(read, compared);
    const allPolicies = await policies.list();
    const groupIds = user ? await this.groupIdsOf(user.id) : [];
    const passwordPolicy = evaluatePassword(allPolicies, { userGroupIds: groupIds });
    const unknownActor: LogActor = { id: "unknown", type: "User", alternateId: login.slice(0, 256) };

    if (!user) {
      await db.transaction((tx) => this.logSessionStart(tx, unknownActor, client, "FAILURE", ErrorCode.INVALID_CREDENTIALS));
      throw invalidCredentials();
    }
    const actor = userActor(user);
    const now = clock.now();

    if (user.status === "LOCKED_OUT" && passwordPolicy.autoUnlockMinutes && user.lockedAt) {
      if (user.lockedAt.getTime() + passwordPolicy.autoUnlockMinutes * 60_000 <= now.getTime()) {
        await db.transaction((tx) => this.unlock(tx, user, { actor, client: null, authorize: () => undefined }, "AUTO_UNLOCK"));
        Object.assign(user, { status: UserStatus.ACTIVE, failedLogins: 0, lockedAt: null });
      }
    }
    if (user.status === "LOCKED_OUT" && !passwordPolicy.showLockoutFailures) {
      // The right password is refused too: were it not, guessing would go on past the lockout.
      await db.transaction((tx) => this.logSessionStart(tx, actor, client, "FAILURE", ErrorCode.LOCKED_OUT));
      throw invalidCredentials();
    }
    if (user.status === "LOCKED_OUT") {
      return db.transaction(async (tx) => {
        await this.logSessionStart(tx, actor, client, "FAILURE", ErrorCode.LOCKED_OUT);
        return this.open(tx, { kind: "SIGN_IN", status: "LOCKED_OUT", userId: user.id, clientId: input.clientId ?? null, finished: true });
      });
    }
    if (!passwordMatches) {
      // Committed before the error is raised: a wrong password must count even though the call fails.
      await db.transaction(async (tx) => {
        await this.logSessionStart(tx, actor, client, "FAILURE", ErrorCode.INVALID_CREDENTIALS);
        await this.countFailedPassword(tx, user, passwordPolicy, actor, client);
      });
      throw invalidCredentials();
    }
    if (user.status !== "ACTIVE") {
      await db.transaction((tx) => this.logSessionStart(tx, actor, client, "FAILURE", `USER_${user.status}`));
      throw invalidCredentials();
    }

    const settings = await authenticator.get();
    const context = signOnContext(settings, groupIds, input.clientId ?? null, client);
    const decision = evaluateSignOn(allPolicies, context);
    const enrollment = evaluateEnrollment(allPolicies, context);
    const verifiedFactors = await db.manager.find(PhoneFactor, { where: { userId: user.id, status: In(["ACTIVE", "INACTIVE"]) }, order: { created: "ASC" } });
    const activeFactors = verifiedFactors.filter((factor) => factor.status === "ACTIVE");
    // Factors suspended for failed passcodes are still the user's phone. Offering enrollment in
    // their place would let whoever knows the password suspend the real phone with wrong codes
    // and then enroll their own; recovery by phone, or an admin, lifts the suspension.
    const phoneSuspended = activeFactors.length === 0 && verifiedFactors.length > 0;
    const enrollMethods = settings.status === "ACTIVE" ? settings.methodList.filter((m) => decision.phoneMethods.length === 0 || decision.phoneMethods.includes(m)) : [];
    const passwordExpired = isPasswordExpired(passwordPolicy, { expired: user.passwordExpired, changed: user.passwordChanged }, now);
    const passwordExpiresSoon = passwordExpired ? null : passwordExpiryWarning(passwordPolicy, user.passwordChanged, now);
    const stored: StoredDecision = {
      provenPassword: provenPasswordOf(user),
      phoneMethods: decision.phoneMethods,
      enrollMethods: decision.factorRequirement === "PASSWORD_AND_PHONE" ? decision.phoneMethods : enrollMethods,
      sessionLifetimeMinutes: decision.sessionLifetimeMinutes,
      sessionIdleMinutes: decision.sessionIdleMinutes,
      ...(passwordExpired ? { passwordExpired } : {}),
      ...(passwordExpiresSoon ? { passwordExpiresAt: passwordExpiresSoon.getTime() } : {}),
    };
    const rememberedMfaAt = await this.mfaRememberedAt(current, user.id, decision.reauthenticateAfterMinutes);
    const rememberedMfa = rememberedMfaAt !== null;

    return db.transaction(async (tx) => {
      if (user.failedLogins > 0) await tx.manager.update(User, { id: user.id }, { failedLogins: 0 });
      await log.record(tx, {
        eventType: EventType.POLICY_EVALUATE_SIGN_ON,
        displayMessage: "Evaluation of sign-on policy",
        actor,
        client,
        target: [
          ...(decision.matched.globalSession ? [{ id: decision.matched.globalSession.policyId, type: "Policy", displayName: "GLOBAL_SESSION" }] : []),
          ...(decision.matched.authentication ? [{ id: decision.matched.authentication.policyId, type: "Policy", displayName: "AUTHENTICATION" }] : []),
        ],
        outcome: { result: decision.access, reason: decision.reason },
        debugContext: {
          globalSessionPolicyId: decision.matched.globalSession?.policyId ?? null,
          globalSessionRuleId: decision.matched.globalSession?.ruleId ?? null,
          authenticationPolicyId: decision.matched.authentication?.policyId ?? null,
          authenticationRuleId: decision.matched.authentication?.ruleId ?? null,
          factorRequirement: decision.factorRequirement,
          phoneMethods: decision.phoneMethods.join(","),
          enrollment: enrollment.phone,
          clientId: input.clientId ?? null,
          mfaRemembered: rememberedMfa,
          passwordExpired,
          passwordExpiresAt: passwordExpiresSoon?.toISOString() ?? null,
        },
      });
      const base = { kind: "SIGN_IN" as const, userId: user.id, clientId: input.clientId ?? null, decision: stored };
      if (decision.access === "DENY") {
        await this.logSessionStart(tx, actor, client, "FAILURE", decision.reason ?? "DENIED");
        return this.open(tx, { ...base, status: "DENIED", finished: true });
      }
      const usable = decision.phoneMethods.length > 0 ? activeFactors : [];
      if (decision.factorRequirement === "PASSWORD_AND_PHONE" && !rememberedMfa) {
        if (usable.length) return this.open(tx, { ...base, status: "MFA_REQUIRED" }, user, usable);
        if (phoneSuspended) {
          await this.logSessionStart(tx, actor, client, "FAILURE", "PHONE_SUSPENDED");
          return this.open(tx, { ...base, status: "DENIED", finished: true });
        }
        if (enrollment.phone === "NOT_ALLOWED") {
          await this.logSessionStart(tx, actor, client, "FAILURE", "PHONE_REQUIRED_NOT_ENROLLABLE");
          return this.open(tx, { ...base, status: "DENIED", finished: true });
        }
        return this.open(tx, { ...base, status: "MFA_ENROLL" }, user);
      }
      if (enrollment.phone === "REQUIRED" && verifiedFactors.length === 0 && stored.enrollMethods.length > 0) {
        return this.open(tx, { ...base, status: "MFA_ENROLL" }, user);
      }
      // The expired password is asked for last, as Okta Identity Engine does: whoever replaces it has passed every other step.
      if (passwordExpired) {
        return this.open(tx, { ...base, status: "PASSWORD_EXPIRED", decision: { ...stored, ...(rememberedMfaAt ? { mfaAt: rememberedMfaAt.getTime() } : {}) } }, user);
      }
      return this.succeed(tx, { ...base, provenPasswordHash: user.passwordHash }, user, actor, client, rememberedMfaAt);
    });
  }

  async challengeFactor(stateHandle: string, factorId: string, method: PhoneMethod | null | undefined, client: ClientInfo): Promise<TransactionView> {
    const record = await this.step(stateHandle, ["MFA_REQUIRED", "MFA_CHALLENGE"]);
    const decision = parseDecision(record);
    const factor = await this.deps.factors.findById(factorId);
    if (!factor || factor.userId !== record.userId || factor.status !== "ACTIVE") throw new AppError(ErrorCode.NOT_FOUND, "Phone factor not found");
    const chosen = method ?? (decision.phoneMethods.includes(factor.method) ? factor.method : decision.phoneMethods[0]);
    if (!chosen || !decision.phoneMethods.includes(chosen)) {
      throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `The sign-on policy does not allow ${method ?? factor.method} here`, { allowedMethods: decision.phoneMethods });
    }
    const user = await this.userOf(record);
    const requester = this.requester(record, user, client);
    // Asking again is a resend by another name: held to the cooldown and the resends of the code
    // already sent, which stops working when the new one goes and hands it its count.
    const previous = record.status === "MFA_CHALLENGE" && record.challengeId ? await this.deps.challenges.findById(record.challengeId) : null;
    if (previous) refuseResend(previous, this.deps.clock.now());
    // The step is taken in the challenge's own transaction: a request that loses the race to
    // another on this handle sends nothing.
    const challenge = await this.deps.factors.challenge(asUser(user.id), factor.id, chosen, requester, {
      transactionId: record.id,
      alongside: async (tx, issued) => {
        // The earlier challenge before the flow's row, the order a verification takes them in:
        // the other order could deadlock with the right code for it arriving at that moment.
        if (previous) await this.deps.challenges.supersede(tx, previous, issued);
        await this.advance(tx, record, { status: "MFA_CHALLENGE", challengeId: issued.id, factorId: factor.id });
      },
    });
    return this.view(record, stateHandle, user, { challenge });
  }

  async enrollFactor(
    stateHandle: string,
    input: { phoneNumber: string; defaultCountry?: string | null; method: PhoneMethod },
    client: ClientInfo,
  ): Promise<TransactionView> {
    const { factors } = this.deps;
    const record = await this.step(stateHandle, ["MFA_ENROLL", "MFA_ENROLL_ACTIVATE"]);
    const decision = parseDecision(record);
    if (!decision.enrollMethods.includes(input.method)) {
      throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `${input.method} may not be enrolled here`, { allowedMethods: decision.enrollMethods });
    }
    const user = await this.userOf(record);
    const requester = this.requester(record, user, client);
    // Enrolling another number replaces the one this sign-in enrolled and never verified.
    const replaces = record.status === "MFA_ENROLL_ACTIVATE" ? record.factorId : null;
    // Before the send is counted against the limits, and again in its write, where it holds.
    await this.refuseIfPhoneVerifiedSince(null, record);
    const { challenge } = await factors.enroll({ userId: user.id, ...input, transactionId: record.id, replaces }, requester, async (tx, issued) => {
      await this.refuseIfPhoneVerifiedSince(tx, record);
      await this.advance(tx, record, { status: "MFA_ENROLL_ACTIVATE", challengeId: issued.challenge.id, factorId: issued.factor.id });
    });
    return this.view(record, stateHandle, user, { challenge });
  }

  async verifyFactor(stateHandle: string, code: string, client: ClientInfo): Promise<TransactionView> {
    const record = await this.step(stateHandle, ["MFA_CHALLENGE", "MFA_ENROLL_ACTIVATE", "RECOVERY_CHALLENGE"]);
    return this.flooredIfRecovery(record, () => this.verifyFactorStep(record, stateHandle, code, client));
  }

  private async verifyFactorStep(record: AuthTransactionRecord, stateHandle: string, code: string, client: ClientInfo): Promise<TransactionView> {
    const decision = parseDecision(record);
    if (decision.decoy || !record.challengeId || !record.userId) return this.failDecoy(record, decision);
    const user = await this.userOf(record);
    const requester = this.requester(record, user, client);
    let result: TransactionView | null = null;
    try {
      await this.deps.challenges.verify(record.challengeId, code, requester, {
        afterVerified: async (tx, challenge) => {
          if (record.status === "MFA_ENROLL_ACTIVATE") await this.refuseIfPhoneVerifiedSince(tx, record);
          await this.deps.factors.afterVerified(tx, challenge, requester);
          result = await this.afterVerified(tx, record, stateHandle, user, challenge, requester, client);
        },
      });
    } catch (error) {
      // Cancelled since it was read, the flow is gone, as a decoy's answers: its code was cancelled with it.
      if (error instanceof AppError && error.code === ErrorCode.CODE_EXPIRED && error.extensions.reason === "CANCELLED") {
        await this.unfinished(record.id);
      }
      throw error;
    }
    return result!;
  }

  async resendFactorChallenge(stateHandle: string, method: PhoneMethod | null | undefined, client: ClientInfo): Promise<TransactionView> {
    const record = await this.step(stateHandle, ["MFA_CHALLENGE", "MFA_ENROLL_ACTIVATE", "RECOVERY_CHALLENGE"]);
    return this.flooredIfRecovery(record, () => this.resendStep(record, stateHandle, method, client));
  }

  private async resendStep(record: AuthTransactionRecord, stateHandle: string, method: PhoneMethod | null | undefined, client: ClientInfo): Promise<TransactionView> {
    const decision = parseDecision(record);
    if (decision.decoy) return this.resendDecoy(record, stateHandle, decision, method);
    if (!record.challengeId || !record.userId) return this.view(record, stateHandle, null, {});
    if (record.kind !== "SIGN_IN") return this.resendRecovery(record, stateHandle, decision, method, client);
    const allowed = record.status === "MFA_ENROLL_ACTIVATE" ? decision.enrollMethods : decision.phoneMethods;
    if (method && !allowed.includes(method)) {
      throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `${method} is not allowed here`, { allowedMethods: [...new Set(allowed)] });
    }
    const user = await this.userOf(record);
    if (record.status === "MFA_ENROLL_ACTIVATE") await this.refuseIfPhoneVerifiedSince(null, record);
    const challenge = await this.deps.challenges.resend(record.challengeId, method, this.requester(record, user, client));
    return this.view(record, stateHandle, user, { challenge });
  }

  /**
   * A real recovery's resend answers as a decoy's does (resendDecoy): METHOD_NOT_ALLOWED only for
   * a method no password policy allows, and a resend that the user's own policy, the
   * authenticator, the number or the send limits refuse is answered as sent and withheld.
   */
  private async resendRecovery(
    record: AuthTransactionRecord,
    stateHandle: string,
    decision: StoredDecision,
    method: PhoneMethod | null | undefined,
    client: ClientInfo,
  ): Promise<TransactionView> {
    const offered = await this.recoveryMethodsForAnyone(decision);
    if (method && !offered.includes(method)) throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `${method} is not allowed here`, { allowedMethods: offered });
    const user = await this.userOf(record);
    const own = [decision.recoveryMethod!, ...(await this.recoveryMethodsFor(user.id))];
    await this.deps.challenges.resend(record.challengeId!, method, this.requester(record, user, client), {
      withholdRefusals: true,
      refusedByCaller: !!method && !own.includes(method),
    });
    return this.view(record, stateHandle, null, {});
  }

  recoverPassword(login: string, method: PhoneMethod, client: ClientInfo): Promise<TransactionView> {
    return this.startRecovery("PASSWORD_RECOVERY", login, method, client);
  }

  unlockAccount(login: string, method: PhoneMethod, client: ClientInfo): Promise<TransactionView> {
    return this.startRecovery("ACCOUNT_UNLOCK", login, method, client);
  }

  /**
   * The new password at the end of a recovery (PASSWORD_RESET), or of a sign-in whose password
   * had expired (PASSWORD_EXPIRED); either way the transaction ends signed in. An expired
   * password may not come back as the new one, whatever the policy's history.
   */
  async resetPassword(stateHandle: string, newPassword: string, client: ClientInfo): Promise<TransactionView> {
    const { db, sessions, log, clock } = this.deps;
    const record = await this.step(stateHandle, ["PASSWORD_RESET", "PASSWORD_EXPIRED"]);
    const replacingExpired = record.status === "PASSWORD_EXPIRED";
    const user = await this.userOf(record);
    await this.deps.limits.consumeNewPassword(user.id);
    // Read once for the password's rules and, after a recovery, the session's.
    const [allPolicies, groupIds] = await Promise.all([this.deps.policies.list(), this.groupIdsOf(user.id)]);
    const policy = evaluatePassword(allPolicies, { userGroupIds: groupIds });
    refuseNewPassword(checkPasswordAgainstPolicy(newPassword, policy, user));
    if (replacingExpired && user.passwordHash && (await verifyPassword(newPassword, user.passwordHash))) refuseNewPassword("SAME_AS_CURRENT");
    await this.refuseRecentPassword(user.id, replacingExpired ? null : user.passwordHash, newPassword, policy);
    const passwordHash = await hashPassword(newPassword);
    const actor = userActor(user);
    const decision = parseDecision(record);
    // A recovery's session is held to the sign-on policy as a sign-in's is: its rules may deny one
    // here (a group, a network zone), and they set its lifetime. An expired password's sign-in
    // was evaluated when it began.
    const signOn = replacingExpired
      ? null
      : evaluateSignOn(allPolicies, signOnContext(await this.deps.authenticator.get(), groupIds, record.clientId, client));
    return db.transaction(async (tx) => {
      const now = clock.now();
      if (replacingExpired) {
        await this.replaceProvenPassword(tx, user, passwordHash, now, policy);
      } else {
        // Whichever status the recovery began in (userOf admits only those), it ends ACTIVE. Guarded
        // on the status read before the hash: a deactivation or suspension meanwhile is not undone;
        // and on the password read then, which the history below remembers as the one replaced.
        const { affected } = await tx.manager.update(
          User,
          { id: user.id, status: user.status, passwordHash: user.passwordHash ?? IsNull() },
          { passwordHash, passwordChanged: now, passwordExpired: false, failedLogins: 0, lockedAt: null, status: UserStatus.ACTIVE, statusChanged: now },
        );
        if (!affected) throw new AppError(ErrorCode.TRANSACTION_EXPIRED, "The account changed during this recovery; start again");
        await rememberReplacedPassword(tx.manager, user.id, user.passwordHash, now, policy.historyCount);
      }
      // A reset means the old password may be known to someone else, and a changed password
      // ends the sessions of the old one as changePassword does: end every session it opened.
      const endedSessions = await sessions.revokeAllOf(tx, user.id);
      await log.record(tx, {
        ...(replacingExpired
          ? {
              eventType: EventType.ACCOUNT_UPDATE_PASSWORD,
              displayMessage: "Update password for user",
              outcome: { result: "SUCCESS", reason: "PASSWORD_EXPIRED" },
              debugContext: { endedSessions, policyId: policy.policyId },
            }
          : { eventType: EventType.ACCOUNT_RESET_PASSWORD, displayMessage: "Reset password for user", outcome: { result: "SUCCESS" } }),
        actor,
        client,
        target: [{ id: user.id, type: "User", alternateId: user.login }],
        transactionId: record.id,
      });
      if (signOn?.access === "DENY") {
        // The new password stands, as the phone proved the recovery; only the session is refused.
        await this.logSessionStart(tx, actor, client, "FAILURE", signOn.reason ?? "DENIED", record.id);
        const denied = await this.advance(tx, record, { status: "DENIED", finishedAt: now });
        return this.view(denied, stateHandle, null, {});
      }
      const limits = signOn ? { sessionLifetimeMinutes: signOn.sessionLifetimeMinutes, sessionIdleMinutes: signOn.sessionIdleMinutes } : {};
      // A recovery proved the phone just now; an expired password's sign-in, when it did.
      const mfaAt = !replacingExpired ? now : decision.mfaAt !== undefined ? new Date(decision.mfaAt) : decision.mfaVerified ? now : null;
      return this.succeed(tx, { kind: record.kind, userId: user.id, clientId: record.clientId, decision: { ...decision, ...limits } }, user, actor, client, mfaAt, record, stateHandle);
    });
  }

  /**
   * Deletes the sign-in, enrollment and recovery transactions that expired before `before`,
   * finished or not: an unknown state handle is TRANSACTION_EXPIRED as an expired one is, and
   * the System Log keeps what each did. Resolves with how many went.
   */
  purgeExpiredBefore(before: Date): Promise<number> {
    return this.deps.db.purgeInBatches("ringfence:transaction-purge", "auth_transactions", `"expires_at" < ?`, [before.getTime()]);
  }

  async cancel(stateHandle: string): Promise<boolean> {
    const record = await this.find(stateHandle);
    return this.deps.db.transaction(async (tx) => {
      // The challenges, then the flow: the order a verification takes them in (its code, then the
      // step it advances). The other order deadlocked with a verification at the same moment.
      await this.deps.challenges.cancelOpen(tx, { transactionId: record.id });
      // Whatever step a request took meanwhile, an unfinished flow can be cancelled: a wrong guess
      // writes a decoy's handle, not a real recovery's, and must not make the two answer apart.
      // The version moves on, so a step that read the flow before cannot advance it after.
      const { affected } = await tx.manager
        .createQueryBuilder()
        .update(AuthTransactionRecord)
        .set({ finishedAt: this.deps.clock.now(), version: () => "version + 1" })
        .where("id = :id AND finished_at IS NULL", { id: record.id })
        .execute();
      if (!affected) throw expired();
      return true;
    });
  }

  async signOut(viewer: Viewer, client: ClientInfo): Promise<boolean> {
    if (viewer.kind === "anonymous") throw new AppError(ErrorCode.UNAUTHENTICATED, "Not signed in");
    if (viewer.kind === "admin") throw new AppError(ErrorCode.FORBIDDEN, "Admin tokens are not sessions; revoke them with revokeApiToken");
    const { db, sessions, log } = this.deps;
    return db.transaction(async (tx) => {
      const ended = await sessions.revoke(tx, viewer.sessionId);
      // Ended meanwhile by another request (a second signOut, an admin), which logged it.
      if (!ended) return false;
      const user = await tx.manager.findOneByOrFail(User, { id: viewer.userId });
      await log.record(tx, {
        eventType: EventType.SESSION_END,
        displayMessage: "User logout from Ringfence",
        actor: userActor(user),
        client,
        target: [{ id: viewer.sessionId, type: "Session" }],
        outcome: { result: "SUCCESS" },
      });
      return ended;
    });
  }

  /**
   * A signed-in user replaces their password, proving they know the current one: a stolen
   * session alone cannot take the account over. A wrong current password counts towards the
   * password policy's lockout as a wrong sign-in does, and a lockout ends the session with the
   * rest. The user's other sessions end; the one that asked stays.
   */
  async changePassword(viewer: Viewer, currentPassword: string, newPassword: string, client: ClientInfo): Promise<boolean> {
    if (viewer.kind === "anonymous") throw new AppError(ErrorCode.UNAUTHENTICATED, "Sign in to change your password");
    if (viewer.kind === "admin") throw new AppError(ErrorCode.FORBIDDEN, "Admin tokens have no password; a user changes their own");
    const { db, sessions, log, clock } = this.deps;
    const user = await db.manager.findOneByOrFail(User, { id: viewer.userId });
    const actor = userActor(user);
    const recordChange = (tx: Transaction, outcome: LogEventInput["outcome"], debugContext?: LogEventInput["debugContext"]) =>
      log.record(tx, {
        eventType: EventType.ACCOUNT_UPDATE_PASSWORD,
        displayMessage: "Update password for user",
        actor,
        client,
        target: [{ id: user.id, type: "User", alternateId: user.login }],
        outcome,
        debugContext,
      });
    // The request's credential was checked when it arrived: a lockout since has ended its
    // session, and nothing is compared for it.
    refuseEndedSession(user.status);
    const policy = await this.passwordPolicyOf(user.id);
    const verified = user.passwordHash !== null && (await verifyPassword(currentPassword, user.passwordHash));
    // Guesses sent together are all compared before the wrong ones lock the account: those done
    // after it are refused alike, right or wrong (afterComparing says why).
    const statusNow = async () => (await db.manager.findOneBy(User, { id: user.id }))?.status ?? UserStatus.DEPROVISIONED;
    if (!verified) {
      // Committed before the error is raised: a wrong password must count even though the call fails.
      const counted = await db.transaction(async (tx) => {
        await recordChange(tx, { result: "FAILURE", reason: ErrorCode.INVALID_CREDENTIALS });
        return this.countFailedPassword(tx, user, policy, actor, client);
      });
      if (!counted) refuseEndedSession(await statusNow());
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, "The current password is not right");
    }
    refuseEndedSession(await statusNow());
    refuseYoungPassword(policy, user, clock.now());
    // Wrong current passwords are bounded by the lockout; right ones, by this.
    await this.deps.limits.consumeNewPassword(user.id);
    refuseNewPassword(canonicalPassword(newPassword) === canonicalPassword(currentPassword) ? "SAME_AS_CURRENT" : checkPasswordAgainstPolicy(newPassword, policy, user));
    // The current password was compared in the clear just above: only the ones before it need hashing.
    await this.refuseRecentPassword(user.id, null, newPassword, policy);
    const passwordHash = await hashPassword(newPassword);
    return db.transaction(async (tx) => {
      const now = clock.now();
      await this.replaceProvenPassword(tx, user, passwordHash, now, policy);
      const endedSessions = await sessions.revokeAllOf(tx, user.id, viewer.sessionId);
      await recordChange(tx, { result: "SUCCESS" }, { endedSessions, policyId: policy.policyId });
      return true;
    });
  }

  /**
   * Writes the new password over the one this request proved (changePassword's current one, or
   * the expired one a sign-in gave), while the account is active, and remembers the old one. A
   * reset or another change that committed meanwhile wins: CONFLICT, reason PASSWORD_CHANGED.
   */
  private async replaceProvenPassword(tx: Transaction, user: User, passwordHash: string, now: Date, policy: PasswordDecision): Promise<void> {
    const changed = await tx.manager.update(
      User,
      { id: user.id, passwordHash: user.passwordHash!, status: UserStatus.ACTIVE },
      { passwordHash, passwordChanged: now, passwordExpired: false, failedLogins: 0 },
    );
    if (!changed.affected) throw new AppError(ErrorCode.CONFLICT, "The password changed meanwhile, or the account is no longer active", { reason: "PASSWORD_CHANGED" });
    await rememberReplacedPassword(tx.manager, user.id, user.passwordHash, now, policy.historyCount);
  }

  /**
   * PASSWORD_POLICY (`HISTORY:<n>`) for a new password that is the current one (`currentHash`,
   * null when the caller compared it already) or one of those the policy's history remembers.
   * Checked after the policy's other rules, as it costs a password hash per remembered password.
   */
  private async refuseRecentPassword(userId: string, currentHash: string | null, newPassword: string, policy: PasswordDecision): Promise<void> {
    if (await isRecentPassword(this.deps.db.manager, userId, currentHash, newPassword, policy.historyCount)) {
      refuseNewPassword(`HISTORY:${policy.historyCount}`);
    }
  }

  /** The transaction a state handle names, if it is live: for subscriptions that present one. */
  async findLive(stateHandle: string): Promise<AuthTransactionRecord | null> {
    try {
      return await this.find(stateHandle);
    } catch {
      return null;
    }
  }

  // ---- steps -------------------------------------------------------------------------

  private startRecovery(kind: "PASSWORD_RECOVERY" | "ACCOUNT_UNLOCK", login: string, method: PhoneMethod, client: ClientInfo): Promise<TransactionView> {
    return this.floored(() => this.recover(kind, login, method, client));
  }

  /** A recovery's steps take the floor as its start does; a sign-in's have no decoy to hide. */
  private flooredIfRecovery<T>(record: AuthTransactionRecord, work: () => Promise<T>): Promise<T> {
    return record.kind === "SIGN_IN" ? work() : this.floored(work);
  }

  /** Real and decoy recoveries do different work; a floor on the answer time, success or error, hides which ran. */
  private async floored<T>(work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      const remaining = this.deps.recoveryResponseFloorMs - (Date.now() - started);
      if (remaining > 0) await sleep(remaining);
    }
  }

  private async recover(kind: "PASSWORD_RECOVERY" | "ACCOUNT_UNLOCK", login: string, method: PhoneMethod, client: ClientInfo): Promise<TransactionView> {
    const { db, authenticator, factors, policies, clock } = this.deps;
    const user = accountNamed(login, await db.manager.findBy(User, { loginNormalized: In(loginKeys(login)) }));
    const allPolicies = await policies.list();
    const offered = recoveryMethodsOffered(allPolicies);
    if (!offered.includes(method)) {
      throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `Recovery by ${method} is not allowed`, { allowedMethods: offered });
    }
    const settings = await authenticator.requireMethod(method, "RECOVERY");
    const ownPolicy = evaluatePassword(allPolicies, { userGroupIds: user ? await this.groupIdsOf(user.id) : [] });
    const eligible =
      user &&
      ownPolicy.recoveryMethods.includes(method) &&
      (kind === "ACCOUNT_UNLOCK" ? user.status === UserStatus.LOCKED_OUT : FLOW_STATUSES[kind].includes(user.status)) &&
      // Too many wrong recovery codes: recovery by phone waits until the phone is proven again.
      !(await this.deps.challenges.recoveryHeld(user));
    // A factor suspended for failed passcodes still serves recovery: that is how the suspension ends.
    const factor = eligible ? await db.manager.findOne(PhoneFactor, { where: { userId: user.id, status: In(["ACTIVE", "INACTIVE"]) }, order: { lastVerified: "DESC" } }) : null;
    const decision: StoredDecision = {
      phoneMethods: [method],
      enrollMethods: [],
      sessionLifetimeMinutes: 120,
      sessionIdleMinutes: 60,
      recoveryMethod: method,
      maxAttempts: settings.maxAttempts,
    };
    const now = clock.now().getTime();
    const decoy: StoredDecision = {
      ...decision,
      decoy: true,
      decoyAttempts: 0,
      decoyMethod: method,
      decoySentAt: now,
      decoyExpiresAt: now + settings.codeTtlSeconds * 1000,
      decoyResends: 0,
      maxResends: settings.maxResends,
      resendCooldownSeconds: settings.resendCooldownSeconds,
      codeTtlSeconds: settings.codeTtlSeconds,
    };
    const { record, stateHandle } = await db.transaction((tx) =>
      this.create(tx, { kind, status: "RECOVERY_CHALLENGE", userId: factor ? user!.id : null, clientId: null, decision: factor ? decision : decoy }),
    );
    if (!factor || !user) return this.view(record, stateHandle, null, {});
    const purpose = kind === "PASSWORD_RECOVERY" ? "PASSWORD_RESET" : "ACCOUNT_UNLOCK";
    try {
      await factors.challenge(asUser(user.id), factor.id, method, this.requester(record, user, client), {
        transactionId: record.id,
        purpose,
        alongside: (tx, issued) => this.advance(tx, record, { challengeId: issued.id, factorId: factor.id }).then(() => undefined),
      });
      return this.view(record, stateHandle, null, {});
    } catch (error) {
      // A number that cannot take this method, or that its send limits hold back, must not answer
      // differently from a login with no number: logins nobody has are never limited.
      if (isSendRefusal(error)) {
        await db.transaction((tx) => this.advance(tx, record, { userId: null, decision: JSON.stringify(decoy) }));
        return this.view(record, stateHandle, null, {});
      }
      throw error;
    }
  }

  private async afterVerified(
    tx: Transaction,
    record: AuthTransactionRecord,
    stateHandle: string,
    user: User,
    challenge: Challenge,
    requester: Requester,
    client: ClientInfo,
  ): Promise<TransactionView> {
    const decision = parseDecision(record);
    const actor = userActor(user);
    if (record.kind === "PASSWORD_RECOVERY") {
      const advanced = await this.advance(tx, record, { status: "PASSWORD_RESET" });
      return this.view(advanced, stateHandle, null, {});
    }
    if (record.kind === "ACCOUNT_UNLOCK") {
      await this.unlock(tx, user, requester, "UNLOCKED_BY_PHONE");
      const advanced = await this.advance(tx, record, { status: "SUCCESS", finishedAt: this.deps.clock.now() });
      return this.view(advanced, stateHandle, null, {});
    }
    void challenge;
    if (decision.passwordExpired) {
      const advanced = await this.advance(tx, record, { status: "PASSWORD_EXPIRED", decision: JSON.stringify({ ...decision, mfaAt: this.deps.clock.now().getTime() }) });
      return this.view(advanced, stateHandle, user, {});
    }
    return this.succeed(
      tx,
      { kind: "SIGN_IN", userId: user.id, clientId: record.clientId, decision, provenPasswordHash: user.passwordHash },
      user,
      actor,
      client,
      this.deps.clock.now(),
      record,
      stateHandle,
    );
  }

  private async succeed(
    tx: Transaction,
    /** provenPasswordHash: a sign-in's, which must still be the account's when its session starts. */
    base: { kind: TransactionKind; userId: string; clientId: string | null; decision: StoredDecision; provenPasswordHash?: string | null },
    user: Pick<User, "id" | "login" | "firstName" | "lastName" | "locale">,
    actor: LogActor,
    client: ClientInfo,
    mfaAt: Date | null,
    existing?: AuthTransactionRecord,
    stateHandle?: string,
  ): Promise<TransactionView> {
    const { sessions, clock } = this.deps;
    const { token } = await sessions.start(
      tx,
      user.id,
      { lifetimeMinutes: base.decision.sessionLifetimeMinutes, idleMinutes: base.decision.sessionIdleMinutes },
      mfaAt,
    );
    // A user suspended, deactivated or locked out since the flow began gets no session; nor does
    // a sign-in whose password was changed meanwhile, even while this step ran.
    const proven = base.provenPasswordHash === undefined ? {} : { passwordHash: base.provenPasswordHash ?? IsNull() };
    const { affected } = await tx.manager.update(User, { id: user.id, status: UserStatus.ACTIVE, ...proven }, { lastLogin: clock.now() });
    if (!affected) throw new AppError(ErrorCode.TRANSACTION_EXPIRED, "The account changed during this sign-in; start again");
    await this.logSessionStart(tx, actor, client, "SUCCESS", null, existing?.id);
    if (existing && stateHandle) {
      const advanced = await this.advance(tx, existing, { status: "SUCCESS", finishedAt: clock.now() });
      return { ...(await this.view(advanced, stateHandle, user, {})), sessionToken: token };
    }
    const view = await this.open(tx, { ...base, status: "SUCCESS", finished: true }, user);
    return { ...view, sessionToken: token };
  }

  /**
   * The account as it is once a password has been compared. Guesses sent together all read it
   * before the wrong ones among them were counted: read again, an account the wrong ones locked
   * meanwhile is answered as locked to the rest, the right guess included, rather than comparing
   * them all and telling the right one apart. A password changed meanwhile is no longer proved.
   */
  private async afterComparing<Account extends User | null>(read: Account, matched: boolean): Promise<{ user: Account; passwordMatches: boolean }> {
    if (!read) return { user: read, passwordMatches: matched };
    const current = await this.deps.db.manager.findOneBy(User, { id: read.id });
    if (!current) return { user: read, passwordMatches: false };
    return { user: current as Account, passwordMatches: matched && current.passwordHash === read.passwordHash };
  }

  /**
   * Counts a wrong password against an ACTIVE account and locks it at the policy's limit. Other
   * statuses cannot be locked, and counting there would leave an unsuspended account one typo
   * from a lockout that anyone knowing the login had prepared. Says whether it counted.
   */
  private async countFailedPassword(tx: Transaction, user: User, policy: PasswordDecision, actor: LogActor, client: ClientInfo): Promise<boolean> {
    const { affected } = await tx.manager
      .createQueryBuilder()
      .update(User)
      .set({ failedLogins: () => "failed_logins + 1" })
      .where("id = :id AND status = :active", { id: user.id, active: UserStatus.ACTIVE })
      .execute();
    if (!affected) return false;
    const { failedLogins, status } = await tx.manager.findOneByOrFail(User, { id: user.id });
    if (status === "ACTIVE" && failedLogins >= policy.maxFailedAttempts) {
      const now = this.deps.clock.now();
      await tx.manager.update(User, { id: user.id, status: UserStatus.ACTIVE }, { status: UserStatus.LOCKED_OUT, lockedAt: now, statusChanged: now });
      // Ended, not merely refused while locked: an unlock must not hand a session back to
      // whoever was guessing the password through it (changePassword).
      const endedSessions = await this.deps.sessions.revokeAllOf(tx, user.id);
      await this.deps.log.record(tx, {
        eventType: EventType.ACCOUNT_LOCK,
        displayMessage: "Max sign in attempts exceeded",
        actor,
        client,
        target: [{ id: user.id, type: "User", alternateId: user.login }],
        outcome: { result: "SUCCESS", reason: `FAILED_LOGINS:${failedLogins}` },
        debugContext: { failedLogins, maxFailedAttempts: policy.maxFailedAttempts, policyId: policy.policyId, ...(endedSessions ? { endedSessions } : {}) },
      });
    }
    return true;
  }

  private async unlock(tx: Transaction, user: User, requester: Requester, reason: string): Promise<void> {
    const now = this.deps.clock.now();
    // Only a locked account: one an admin deactivated or suspended meanwhile stays so.
    const { affected } = await tx.manager.update(
      User,
      { id: user.id, status: UserStatus.LOCKED_OUT },
      { status: UserStatus.ACTIVE, failedLogins: 0, lockedAt: null, statusChanged: now },
    );
    if (!affected) {
      const { status } = await tx.manager.findOneByOrFail(User, { id: user.id });
      if (status === UserStatus.ACTIVE) return;
      throw new AppError(ErrorCode.TRANSACTION_EXPIRED, "The account changed during this recovery; start again");
    }
    await this.deps.log.record(tx, {
      eventType: EventType.ACCOUNT_UNLOCK,
      displayMessage: "Unlock user account",
      actor: requester.actor,
      client: requester.client,
      target: [{ id: user.id, type: "User", alternateId: user.login }],
      outcome: { result: "SUCCESS", reason },
    });
  }

  /**
   * What resendFactorChallenge answers a real recovery, minus the code: methods, cooldown, resends,
   * attempts. A guess or another resend that wrote the handle first is read and the checks made
   * again, as a real challenge's resend makes them on the code as it then is: after a guess the
   * resend goes, after another resend the cooldown decides.
   */
  private async resendDecoy(record: AuthTransactionRecord, stateHandle: string, decision: StoredDecision, method: PhoneMethod | null | undefined): Promise<TransactionView> {
    const allowed = await this.recoveryMethodsForAnyone(decision);
    if (method && !allowed.includes(method)) throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `${method} is not allowed here`, { allowedMethods: allowed });
    for (let tries = 1; ; tries += 1) {
      if ((decision.decoyAttempts ?? 0) >= (decision.maxAttempts ?? 5)) throw new AppError(ErrorCode.TOO_MANY_ATTEMPTS, "This challenge has no attempts left");
      const now = this.deps.clock.now();
      const sent = decision.decoyMethod ?? decision.recoveryMethod!;
      // A decoy from before it kept its times has no cooldown to wait out and no resends to spend.
      refuseResend(
        {
          lastSentAt: new Date(decision.decoySentAt ?? 0),
          resendCooldownSeconds: decision.resendCooldownSeconds ?? 0,
          method: sent,
          resendsUsed: decision.decoyResends ?? 0,
          maxResends: decision.maxResends ?? Number.POSITIVE_INFINITY,
        },
        now,
      );
      const resent: StoredDecision = {
        ...decision,
        decoyMethod: method ?? sent,
        decoySentAt: now.getTime(),
        decoyExpiresAt: now.getTime() + (decision.codeTtlSeconds ?? 0) * 1000,
        decoyResends: (decision.decoyResends ?? 0) + 1,
      };
      try {
        const advanced = await this.deps.db.transaction((tx) => this.advance(tx, record, { decision: JSON.stringify(resent) }));
        return this.view(advanced, stateHandle, null, {});
      } catch (error) {
        if (!(error instanceof AppError && error.code === ErrorCode.INVALID_TRANSITION)) throw error;
        // Each write that went first is a guess or a resend, and both run out: so does the loop.
        if (tries > (decision.maxAttempts ?? 5) + (decision.maxResends ?? 3)) {
          throw new AppError(ErrorCode.RESEND_TOO_SOON, "A code was just sent. Please wait before trying again.", { retryAfterSeconds: decision.resendCooldownSeconds ?? 0 });
        }
        record = await this.unfinished(record.id);
        decision = parseDecision(record);
      }
    }
  }

  /**
   * A wrong code for a decoy, counted as a real challenge counts it. Guesses sent at once each
   * spend an attempt, as they do on a real challenge, rather than all but one losing the race
   * to the handle with INVALID_TRANSITION.
   */
  private async failDecoy(record: AuthTransactionRecord, decision: StoredDecision): Promise<TransactionView> {
    const max = decision.maxAttempts ?? 5;
    for (let tries = 1; ; tries += 1) {
      // In a real challenge's order: spent attempts, then its lifetime, then the code.
      if ((decision.decoyAttempts ?? 0) >= max) throw new AppError(ErrorCode.TOO_MANY_ATTEMPTS, "This challenge has no attempts left; ask for a new one");
      if (decision.decoyExpiresAt !== undefined && this.deps.clock.now().getTime() >= decision.decoyExpiresAt) {
        throw new AppError(ErrorCode.CODE_EXPIRED, "This code has expired or was already used; ask for a new one", { reason: "EXPIRED" });
      }
      const attempts = (decision.decoyAttempts ?? 0) + 1;
      try {
        await this.deps.db.transaction((tx) => this.advance(tx, record, { decision: JSON.stringify({ ...decision, decoyAttempts: attempts }) }));
      } catch (error) {
        if (!(error instanceof AppError && error.code === ErrorCode.INVALID_TRANSITION) || tries >= max) throw error;
        record = await this.unfinished(record.id);
        decision = parseDecision(record);
        continue;
      }
      throw new AppError(ErrorCode.INVALID_CODE, "That code is not right", { attemptsRemaining: max - attempts });
    }
  }

  private async logSessionStart(tx: Transaction, actor: LogActor, client: ClientInfo, result: "SUCCESS" | "FAILURE", reason: string | null, transactionId?: string): Promise<void> {
    await this.deps.log.record(tx, {
      eventType: EventType.SESSION_START,
      displayMessage: "User login to Ringfence",
      actor,
      client,
      outcome: { result, reason },
      transactionId: transactionId ?? null,
    });
  }

  /** When the signing-in session last proved the phone, if that is within reauthenticateAfterMinutes. */
  private async mfaRememberedAt(current: Viewer, userId: string, reauthenticateAfterMinutes: number | null): Promise<Date | null> {
    if (current.kind !== "user" || current.userId !== userId || !reauthenticateAfterMinutes) return null;
    const session = await this.deps.db.manager.findOneBy(SessionRecord, { id: current.sessionId });
    const proven = session?.mfaAt ?? null;
    return proven && proven.getTime() + reauthenticateAfterMinutes * 60_000 > this.deps.clock.now().getTime() ? proven : null;
  }

  /** The methods a recovery's resend may ask for without METHOD_NOT_ALLOWED: its own, and any a password policy allows. */
  private async recoveryMethodsForAnyone(decision: StoredDecision): Promise<PhoneMethod[]> {
    return [...new Set([decision.recoveryMethod!, ...recoveryMethodsOffered(await this.deps.policies.list())])];
  }

  private async recoveryMethodsFor(userId: string): Promise<PhoneMethod[]> {
    return (await this.passwordPolicyOf(userId)).recoveryMethods;
  }

  /** The password policy that applies to a user by their groups; to one unknown, the policies for everyone. */
  private async passwordPolicyOf(userId: string | null): Promise<PasswordDecision> {
    return evaluatePassword(await this.deps.policies.list(), { userGroupIds: userId ? await this.groupIdsOf(userId) : [] });
  }

  private async groupIdsOf(userId: string): Promise<string[]> {
    return (await this.deps.db.manager.find(GroupMember, { where: { userId } })).map((membership) => membership.groupId);
  }

  /**
   * The flow's user, while the account may still take the flow's steps: once an admin
   * suspended or deactivated it, or it was locked, no code goes out and no password is set.
   * The final writes are guarded on the status too, for a change that lands in between.
   */
  private async userOf(record: AuthTransactionRecord): Promise<User> {
    const user = record.userId ? await this.deps.db.manager.findOneBy(User, { id: record.userId }) : null;
    if (!user) throw expired();
    if (!FLOW_STATUSES[record.kind].includes(user.status)) {
      throw new AppError(ErrorCode.TRANSACTION_EXPIRED, "The account changed during this flow; start again");
    }
    if (record.kind === "SIGN_IN") {
      // Absent from sign-ins begun before the field was: they go on as they did.
      const { provenPassword } = parseDecision(record);
      if (provenPassword !== undefined && provenPassword !== provenPasswordOf(user)) {
        throw new AppError(ErrorCode.TRANSACTION_EXPIRED, "The password changed during this sign-in; sign in again");
      }
    }
    return user;
  }

  private requester(record: AuthTransactionRecord, user: User, client: ClientInfo): Requester {
    return {
      actor: userActor(user),
      client,
      authorize: (challenge) => {
        if (challenge.userId !== record.userId) throw new AppError(ErrorCode.FORBIDDEN, "This challenge belongs to another sign-in");
      },
    };
  }

  private async find(stateHandle: string): Promise<AuthTransactionRecord> {
    if (!stateHandle || stateHandle.length > 128) throw expired();
    const hash = hashSecret(stateHandle);
    const record = await this.deps.db.manager.findOneBy(AuthTransactionRecord, { stateHandleHash: hash });
    // The lookup is by hash; the compare is constant-time anyway, so no prefix of a handle leaks.
    if (!record || !timingSafeEqual(Buffer.from(record.stateHandleHash), Buffer.from(hash))) throw expired();
    if (record.finishedAt || record.expiresAt.getTime() <= this.deps.clock.now().getTime()) throw expired();
    return record;
  }

  /**
   * A sign-in sent to enroll a phone, still without one: the owner may have verified a phone
   * since it was decided, which a fresh sign-in would ask for, and a handle must not add a
   * second one beside it (recovery would then go to the newer).
   */
  /**
   * Inside a write (`tx`), the user's row is locked first, as an activation locks it (markActive):
   * counted without it, an owner's phone activated between this count and this write's commit
   * went unseen, and the stale sign-in added its phone beside it.
   */
  private async refuseIfPhoneVerifiedSince(tx: Transaction | null, record: AuthTransactionRecord): Promise<void> {
    if (tx) await this.deps.db.findForUpdate(tx, User, record.userId!);
    const manager = tx?.manager ?? this.deps.db.manager;
    const verified = await manager.countBy(PhoneFactor, { userId: record.userId!, status: In(["ACTIVE", "INACTIVE"]) });
    if (verified > 0) throw new AppError(ErrorCode.TRANSACTION_EXPIRED, "This account has a verified phone since this sign-in began; sign in again");
  }

  /** The flow as it is now, read again after a step lost a race to another: TRANSACTION_EXPIRED once it is gone or finished. */
  private async unfinished(id: string): Promise<AuthTransactionRecord> {
    const current = await this.deps.db.manager.findOneBy(AuthTransactionRecord, { id });
    if (!current || current.finishedAt) throw expired();
    return current;
  }

  private async step(stateHandle: string, allowed: TransactionStatus[]): Promise<AuthTransactionRecord> {
    const record = await this.find(stateHandle);
    if (!allowed.includes(record.status)) throw invalidTransition(record.status);
    return record;
  }

  /** Compare-and-set on the version: a handle is a single thread of use. */
  private async advance(tx: Transaction, record: AuthTransactionRecord, changes: Partial<AuthTransactionRecord>): Promise<AuthTransactionRecord> {
    const result = await tx.manager.update(AuthTransactionRecord, { id: record.id, version: record.version }, { ...changes, version: record.version + 1 });
    if (!result.affected) {
      const current = await tx.manager.findOneBy(AuthTransactionRecord, { id: record.id });
      if (!current || current.finishedAt) throw expired();
      throw invalidTransition(current.status);
    }
    return Object.assign(record, changes, { version: record.version + 1 });
  }

  private async create(
    tx: Transaction,
    input: { kind: TransactionKind; status: TransactionStatus; userId: string | null; clientId: string | null; decision?: StoredDecision; finished?: boolean },
  ): Promise<{ record: AuthTransactionRecord; stateHandle: string }> {
    const now = this.deps.clock.now();
    const stateHandle = newSecret("sh_");
    const record = tx.manager.create(AuthTransactionRecord, {
      id: newId("txn"),
      stateHandleHash: hashSecret(stateHandle),
      kind: input.kind,
      status: input.status,
      userId: input.userId,
      clientId: input.clientId,
      challengeId: null,
      factorId: null,
      decision: input.decision ? JSON.stringify(input.decision) : null,
      version: 1,
      created: now,
      expiresAt: new Date(now.getTime() + TRANSACTION_LIFETIME_MS),
      finishedAt: input.finished ? now : null,
    });
    await tx.manager.insert(AuthTransactionRecord, record);
    return { record, stateHandle };
  }

  private async open(
    tx: Transaction,
    input: { kind: TransactionKind; status: TransactionStatus; userId: string | null; clientId: string | null; decision?: StoredDecision; finished?: boolean },
    user?: Pick<User, "id" | "login" | "firstName" | "locale">,
    factors: PhoneFactor[] = [],
  ): Promise<TransactionView> {
    const { record, stateHandle } = await this.create(tx, input);
    return this.view(record, stateHandle, user ?? null, { factors });
  }

  private async view(
    record: AuthTransactionRecord,
    stateHandle: string,
    user: Pick<User, "id" | "login" | "firstName" | "locale"> | null,
    extra: { challenge?: Challenge | null; factors?: PhoneFactor[] },
  ): Promise<TransactionView> {
    const decision = record.decision ? parseDecision(record) : null;
    let factors = extra.factors ?? [];
    if (!extra.factors && record.kind === "SIGN_IN" && record.userId && (record.status === "MFA_REQUIRED" || record.status === "MFA_CHALLENGE")) {
      factors = await this.deps.db.manager.find(PhoneFactor, { where: { userId: record.userId, status: "ACTIVE" }, order: { created: "ASC" } });
    }
    const methods = decision?.phoneMethods ?? [];
    let challenge = extra.challenge ?? null;
    if (challenge === null && extra.challenge === undefined && record.kind === "SIGN_IN" && record.challengeId && record.status !== "SUCCESS" && record.status !== "PASSWORD_EXPIRED") {
      challenge = await this.deps.challenges.findById(record.challengeId);
    }
    return {
      stateHandle,
      status: record.status,
      expiresAt: record.expiresAt,
      user: user && record.kind === "SIGN_IN" ? { id: user.id, login: user.login, firstName: user.firstName, locale: user.locale } : null,
      factors:
        record.status === "MFA_REQUIRED" || record.status === "MFA_CHALLENGE"
          ? factors.map((factor) => ({
              factorId: factor.id,
              method: methods.includes(factor.method) ? factor.method : (methods[0] ?? factor.method),
              phoneNumber: maskPhoneNumber(factor.e164),
            }))
          : [],
      enrollMethods: record.status === "MFA_ENROLL" || record.status === "MFA_ENROLL_ACTIVATE" ? (decision?.enrollMethods ?? []) : [],
      challenge: record.kind === "SIGN_IN" ? challenge : null,
      sessionToken: null,
      passwordExpiresAt: record.status === "SUCCESS" && decision?.passwordExpiresAt ? new Date(decision.passwordExpiresAt) : null,
    };
  }
}

/** Names the user's current password without keeping its hash in a second table: the hash is salted, its digest tells nothing more. */
function provenPasswordOf(user: User): string | null {
  return user.passwordHash ? hashSecret(user.passwordHash).slice(0, 32) : null;
}

function parseDecision(record: AuthTransactionRecord): StoredDecision {
  return JSON.parse(record.decision ?? "{}") as StoredDecision;
}

/** What the sign-on policies are evaluated against: who signs in, from where, with which authenticator. */
function signOnContext(settings: PhoneAuthenticatorSettings, userGroupIds: string[], clientId: string | null, client: ClientInfo): SignOnContext {
  return {
    userGroupIds,
    clientId,
    ipAddress: client.ipAddress,
    authenticatorUsage: settings.usage,
    authenticatorMethods: settings.methodList,
    authenticatorActive: settings.status === "ACTIVE",
  };
}

/** Steps act for the transaction's user, as that user would after signing in. */
const asUser = (userId: string): Viewer => ({ kind: "user", userId, sessionId: "transaction" });

/**
 * PASSWORD_POLICY (`MIN_AGE:<minutes>`) while the current password is younger than the policy's
 * minimum age, with the seconds until it may change. Asked once the current password is proven,
 * so that a wrong one still counts towards the lockout.
 */
function refuseYoungPassword(policy: PasswordDecision, user: User, now: Date): void {
  const allowedAt = passwordChangeAllowedAt(policy, { expired: user.passwordExpired, changed: user.passwordChanged }, now);
  if (!allowedAt) return;
  throw new AppError(ErrorCode.PASSWORD_POLICY, `The password was changed too recently; it may change again at ${allowedAt.toISOString()}`, {
    reason: `MIN_AGE:${policy.minAgeMinutes}`,
    retryAfterSeconds: Math.ceil((allowedAt.getTime() - now.getTime()) / 1000),
  });
}

/** PASSWORD_POLICY for a new password the policy refuses, with the reason; nothing for one it allows. */
function refuseNewPassword(violation: PasswordViolation | "SAME_AS_CURRENT" | `HISTORY:${number}` | null): void {
  if (violation) throw new AppError(ErrorCode.PASSWORD_POLICY, `The new password breaks the password policy (${violation})`, { reason: violation });
}
