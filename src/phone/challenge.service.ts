import { randomInt } from "node:crypto";
import { In, type EntityManager } from "typeorm";
import { sendEventType, EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogActor, LogService } from "../log/log.service";
import { userTarget } from "../log/targets";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { AppError, ErrorCode, notFound } from "../platform/errors";
import { newId } from "../platform/ids";
import type { ServerSecrets } from "../platform/secrets";
import type { MessageComposer } from "../templates/composer";
import type { GatewayPubSub } from "../platform/pubsub";
import { CLEARED, type SendClearance, type SendGuard } from "../security/send-guard";
import { Message } from "../telephony/message.entity";
import { finalizeMessage } from "../telephony/receipts";
import type { Outbox } from "../telephony/outbox";
import { User } from "../users/user.entity";
import { Challenge } from "./challenge.entity";
import { PhoneFactor } from "./phone-factor.entity";
import type { CountrySettings } from "./country-table";
import type { BlockedNumber, PhoneAuthenticatorSettings } from "./phone-authenticator.entity";
import { requireMethodIn, type PhoneAuthenticatorService } from "./phone-authenticator.service";
import { maskPhoneNumber, parsePhoneNumber, phoneNumberError } from "./phone-number";
import { rejectionUnlessBlocked, type PhoneNumberService } from "./phone-number.service";
import type { ChallengePurpose, PhoneMethod } from "./phone.enums";

export interface ChallengeRequest {
  user: User;
  factorId: string | null;
  purpose: ChallengePurpose;
  method: PhoneMethod;
  e164: string;
  country: CountrySettings;
  transactionId: string | null;
}

/** Who asks, for the log and for access: resolved by the caller (resolver or transaction). */
export interface Requester extends Initiator {
  /** Throws when this requester may not touch the challenge. */
  authorize(challenge: Challenge): void;
  /** A signed-in user's own session, when that is who asks: what it has proven, and lately, counts. */
  sessionId?: string;
  /** An admin token asks: it may read what admins wrote (a blocked number's note). */
  admin?: boolean;
}

export interface VerificationHooks {
  /** Runs in the verifying transaction, after the challenge is VERIFIED. */
  afterVerified?(tx: Transaction, challenge: Challenge): Promise<void>;
}

type VerifyOutcome =
  | { kind: "verified"; challenge: Challenge }
  | { kind: "invalid"; attemptsRemaining: number }
  | { kind: "spent" }
  | { kind: "expired"; reason: string };

export interface ChallengeDependencies {
  db: Database;
  clock: Clock;
  secrets: ServerSecrets;
  outbox: Outbox;
  log: LogService;
  composer: MessageComposer;
  authenticator: PhoneAuthenticatorService;
  numbers: PhoneNumberService;
  guard: SendGuard;
  pubsub: GatewayPubSub;
  homeCountry: string;
  /** After this many consecutive wrong passcodes a user's phone factors are suspended. */
  maxConsecutiveFailures: () => Promise<number>;
}

export const userActor = (user: Pick<User, "id" | "login" | "firstName" | "lastName">): LogActor => ({ ...userTarget(user), type: "User" });

export class ChallengeService {
  constructor(private readonly deps: ChallengeDependencies) {}

  findById(id: string): Promise<Challenge | null> {
    return this.deps.db.manager.findOneBy(Challenge, { id });
  }

  /**
   * Deletes the challenges that expired before `before`, verified or not: no code of theirs
   * can be used again, their messages (for the usage report) and events stay, and a factor whose
   * enrollment code is gone is told to enroll again, as when it expired. Resolves with how many.
   */
  purgeExpiredBefore(before: Date): Promise<number> {
    return this.deps.db.purgeInBatches("ringfence:challenge-purge", "challenges", `"expires_at" < ?`, [before.getTime()]);
  }

  /**
   * Velocity limits, spend caps and fraud rules for a send, checked before its transaction:
   * a limit refuses the request; a block lets it through but stops the message.
   */
  clearSend(target: { e164: string; country: CountrySettings; userId: string; method: PhoneMethod; purpose: ChallengePurpose }): Promise<SendClearance> {
    const unitCost = target.method === "SMS" ? target.country.smsCostPerSegment : target.country.voiceCostPerMinute;
    return this.deps.guard.clear({
      e164: target.e164,
      country: target.country.code,
      userId: target.userId,
      method: target.method,
      costMicros: Math.round(unitCost * 1_000_000),
      recovery: isRecovery(target.purpose),
    });
  }

  /**
   * Writes the challenge, its QUEUED message and the message's send_* event in the caller's
   * transaction: either all of them exist or none does.
   */
  async issue(
    tx: Transaction,
    request: ChallengeRequest,
    settings: PhoneAuthenticatorSettings,
    requester: Requester,
    clearance: SendClearance = CLEARED,
  ): Promise<Challenge> {
    const now = this.deps.clock.now();
    const code = newPasscode(settings.codeLength);
    const id = newId("chl");
    const challenge = tx.manager.create(Challenge, {
      id,
      userId: request.user.id,
      factorId: request.factorId,
      transactionId: request.transactionId,
      purpose: request.purpose,
      method: request.method,
      status: "PENDING",
      e164: request.e164,
      country: request.country.code,
      codeHash: this.deps.secrets.passcodeHash(id, code),
      expiresAt: new Date(now.getTime() + settings.codeTtlSeconds * 1000),
      attemptsUsed: 0,
      maxAttempts: settings.maxAttempts,
      resendsUsed: 0,
      maxResends: settings.maxResends,
      resendCooldownSeconds: settings.resendCooldownSeconds,
      lastSentAt: now,
      created: now,
      verifiedAt: null,
    });
    await this.deps.db.statements.insert(tx.manager, Challenge, challenge);
    await this.sendCode(tx, challenge, request.user, request.country, code, requester, clearance);
    return challenge;
  }

  async verify(challengeId: string, code: string, requester: Requester, hooks: VerificationHooks = {}): Promise<Challenge> {
    const { db, clock, secrets, log } = this.deps;
    // Read before the transaction: on PostgreSQL a second pooled connection taken while this
    // one holds the challenge's row lock can exhaust the pool under a burst of guesses.
    const failureCap = await this.deps.maxConsecutiveFailures();
    // Failures are committed, not rolled back: a spent attempt must stay spent. So the
    // transaction returns an outcome and the error is raised after it commits.
    const outcome = await db.transaction(async (tx): Promise<VerifyOutcome> => {
      const { manager } = tx;
      const now = clock.now();
      // The check and the spending of an attempt are one statement: however many requests
      // arrive at once (aliases, batches, parallel connections), at most maxAttempts codes
      // are ever compared. The row comes back as the write left it, so the code compared is the
      // one the attempt was spent on, whatever resend committed before.
      const [current] = await db.statements.writeReturning(
        manager,
        Challenge,
        `UPDATE "challenges" SET "attempts_used" = "attempts_used" + 1 WHERE "id" = ? AND "status" = 'PENDING' AND "attempts_used" < "max_attempts" AND "expires_at" > ?`,
        [challengeId, now.getTime()],
      );
      if (!current) {
        // Nothing to spend: the challenge is unknown, or its status, lifetime or attempts say why.
        const latest = await db.statements.findOneBy(manager, Challenge, { id: challengeId });
        if (!latest) throw notFound("Challenge");
        requester.authorize(latest);
        const early = terminalOutcome(latest, now) ?? { kind: "spent" };
        if (early.kind === "expired" && latest.status === "PENDING") {
          await manager.update(Challenge, { id: latest.id, status: "PENDING" }, { status: "EXPIRED" });
        }
        return early;
      }
      // Authorized after the spend, which the refusal rolls back with the transaction: one round trip fewer for everyone else.
      requester.authorize(current);
      const user = await db.statements.findOneByOrFail(manager, User, { id: current.userId });
      const target = [
        { id: user.id, type: "User", alternateId: user.login },
        { id: current.id, type: "Challenge", displayName: current.purpose },
      ];
      // Past the cap of wrong recovery codes none is compared, not even in a recovery opened before it.
      const held = isRecovery(current.purpose) && recoveryHeldUnder(user, failureCap);
      if (!held && secrets.passcodeMatches(current.id, normaliseCode(code), current.codeHash)) {
        // Single use: the status moves from PENDING exactly once, so a replay finds it VERIFIED.
        const verified = await db.statements.update(manager, Challenge, { id: current.id, status: "PENDING" }, { status: "VERIFIED", verifiedAt: now });
        if (!verified) return { kind: "expired", reason: "ALREADY_USED" };
        Object.assign(current, { status: "VERIFIED", verifiedAt: now });
        // The phone is proven: both counts of wrong codes start again.
        if (user.failedPasscodes > 0 || user.failedRecoveryPasscodes > 0) await manager.update(User, { id: user.id }, { failedPasscodes: 0, failedRecoveryPasscodes: 0 });
        await log.record(tx, {
          eventType: EventType.AUTH_VIA_MFA,
          displayMessage: "Authentication of user via MFA",
          actor: requester.actor,
          client: requester.client,
          target,
          outcome: { result: "SUCCESS" },
          transactionId: current.transactionId,
          debugContext: { challengeId: current.id, purpose: current.purpose, method: current.method, factorId: current.factorId },
        });
        await hooks.afterVerified?.(tx, current);
        await this.deps.guard.recordVerified(tx, current.country);
        return { kind: "verified", challenge: current };
      }
      const attemptsRemaining = Math.max(0, current.maxAttempts - current.attemptsUsed);
      if (attemptsRemaining === 0) await manager.update(Challenge, { id: current.id, status: "PENDING" }, { status: "FAILED" });
      await this.countFailure(tx, user, current, requester, failureCap);
      await log.record(tx, {
        eventType: EventType.AUTH_VIA_MFA,
        displayMessage: "Authentication of user via MFA",
        actor: requester.actor,
        client: requester.client,
        target,
        outcome: { result: "FAILURE", reason: attemptsRemaining === 0 ? ErrorCode.TOO_MANY_ATTEMPTS : ErrorCode.INVALID_CODE },
        transactionId: current.transactionId,
        debugContext: { challengeId: current.id, purpose: current.purpose, method: current.method, attemptsRemaining },
      });
      return { kind: "invalid", attemptsRemaining };
    });

    switch (outcome.kind) {
      case "verified":
        return outcome.challenge;
      case "invalid":
        throw new AppError(ErrorCode.INVALID_CODE, "That code is not right", { attemptsRemaining: outcome.attemptsRemaining });
      case "spent":
        throw new AppError(ErrorCode.TOO_MANY_ATTEMPTS, "This challenge has no attempts left; ask for a new one");
      case "expired":
        throw new AppError(ErrorCode.CODE_EXPIRED, "This code has expired or was already used; ask for a new one", { reason: outcome.reason });
    }
  }

  /**
   * A new code (the old one void), by the same or another method, after the cooldown.
   *
   * `withholdRefusals` is for recovery, which must answer a real login as it answers a decoy: a
   * resend the send rules, the authenticator, the number or the factor refuse is answered as if
   * it went (its cooldown and resend counted, its lifetime renewed), and nothing is sent;
   * `refusedByCaller` withholds it for the caller's own rule (the user's password policy).
   */
  async resend(
    challengeId: string,
    method: PhoneMethod | null | undefined,
    requester: Requester,
    { withholdRefusals = false, refusedByCaller = false } = {},
  ): Promise<Challenge> {
    const { clock, numbers, authenticator } = this.deps;
    const before = await this.findById(challengeId);
    if (!before) throw notFound("Challenge");
    requester.authorize(before);
    // Read before the transaction, which holds a pooled connection: see TemplateSource.
    const [beforeCountry, settings, block] = await Promise.all([numbers.countrySettings(before.country), authenticator.get(), numbers.isBlocked(before.e164)]);
    const forAdmin = requester.admin === true;
    // Only a resend that would go out counts against the limits: refusals inside the cooldown do
    // not. An expired challenge may be resent, so it is cleared as an open one is.
    const cooling = before.lastSentAt.getTime() + before.resendCooldownSeconds * 1000 > clock.now().getTime();
    const resendable = (before.status === "PENDING" || before.status === "EXPIRED") && before.resendsUsed < before.maxResends;
    let clearance: SendClearance | null = null;
    let refused = withholdRefusals && (refusedByCaller || (isRecovery(before.purpose) && (await this.recoveryHeld(await this.userOf(before)))));
    // An admin's block is answered before the send limits are asked, as a new challenge's is:
    // their refusal would hide it, and hold windows that other sends share until it is given back.
    if (block && !cooling && resendable && !refused) {
      if (withholdRefusals) refused = true;
      // Only the block is answered here; any other reason is left to the write, in its order.
      else rejectionUnlessBlocked(parsePhoneNumber(before.e164), method ?? before.method, { country: beforeCountry, block, allowVoip: settings.allowVoip, forAdmin });
    }
    if (beforeCountry && !cooling && resendable && !refused) {
      try {
        clearance = await this.clearSend({ e164: before.e164, country: beforeCountry, userId: before.userId, method: method ?? before.method, purpose: before.purpose });
      } catch (error) {
        if (!withholdRefusals || !isSendRefusal(error)) throw error;
        refused = true;
      }
    }
    // Withheld once inside (the number or method no longer fit), it was counted in windows it never used.
    const { challenge } = await refundedIfUnsent(
      clearance,
      () => this.resendWithin(challengeId, method, requester, { settings, country: beforeCountry, block, forAdmin }, clearance, withholdRefusals ? { refusedEarlier: refused } : null),
      (resent) => resent.sent,
    );
    return challenge;
  }

  private resendWithin(
    challengeId: string,
    method: PhoneMethod | null | undefined,
    requester: Requester,
    read: ResendSettings,
    clearance: SendClearance | null,
    withhold: { refusedEarlier: boolean } | null,
  ): Promise<{ challenge: Challenge; sent: boolean }> {
    const { db, clock, secrets } = this.deps;
    return db.transaction(async (tx) => {
      const { manager } = tx;
      const challenge = await manager.findOneBy(Challenge, { id: challengeId });
      if (!challenge) throw notFound("Challenge");
      requester.authorize(challenge);
      if (challenge.status === "FAILED") throw new AppError(ErrorCode.TOO_MANY_ATTEMPTS, "This challenge has no attempts left");
      if (challenge.status !== "PENDING" && challenge.status !== "EXPIRED") {
        throw new AppError(ErrorCode.CODE_EXPIRED, "This challenge is finished; start a new one", { reason: challenge.status });
      }
      const now = clock.now();
      refuseResend(challenge, now);
      const withheld = async () => ({ challenge: await this.withholdResend(tx, challenge, now, read.settings), sent: false });
      if (withhold?.refusedEarlier) return withheld();
      const nextMethod = method ?? challenge.method;
      const sendable = await this.sendableAgain(manager, challenge, nextMethod, read).catch((error: unknown) => {
        if (withhold && isSendRefusal(error)) return null;
        throw error;
      });
      if (!sendable) return withheld();
      const { settings, country } = sendable;

      const code = newPasscode(settings.codeLength);
      const changes = {
        codeHash: secrets.passcodeHash(challenge.id, code),
        resendsUsed: challenge.resendsUsed + 1,
        lastSentAt: now,
        expiresAt: new Date(now.getTime() + settings.codeTtlSeconds * 1000),
        method: nextMethod,
        status: "PENDING" as const,
      };
      // Guarded on what was read, so two resends at once send one code, not two.
      const updated = await manager.update(Challenge, { id: challenge.id, resendsUsed: challenge.resendsUsed, status: challenge.status }, changes);
      if (!updated.affected) {
        throw new AppError(ErrorCode.RESEND_TOO_SOON, "A code was just sent. Please wait before trying again.", {
          retryAfterSeconds: challenge.resendCooldownSeconds,
        });
      }
      // Not cleared above, yet due now (the cooldown ran out in between): the send rules were not
      // asked, so nothing goes out; the next try is cleared.
      if (!clearance) throw new AppError(ErrorCode.RESEND_TOO_SOON, "A code was just sent. Please wait before trying again.", { retryAfterSeconds: 1 });
      Object.assign(challenge, changes);
      const user = await manager.findOneByOrFail(User, { id: challenge.userId });
      await this.sendCode(tx, challenge, user, country, code, requester, clearance);
      return { challenge, sent: true };
    });
  }

  /** What a resend by `method` needs, checked again: the factor still there, the method allowed, the number able to take it. */
  private async sendableAgain(
    manager: EntityManager,
    challenge: Challenge,
    method: PhoneMethod,
    read: ResendSettings,
  ): Promise<{ settings: PhoneAuthenticatorSettings; country: CountrySettings }> {
    if (challenge.factorId && challenge.purpose !== "PHONE_VERIFICATION") {
      // A new code for a suspended or deleted factor would be sent to no purpose: it could not be verified.
      const factor = await manager.findOneBy(PhoneFactor, { id: challenge.factorId });
      const usable = factor && (factor.status === "ACTIVE" || (challenge.purpose !== "FACTOR_VERIFY" && factor.status === "INACTIVE"));
      if (!usable) throw factorNoLongerActive();
    }
    const use = isRecovery(challenge.purpose) ? "RECOVERY" : challenge.purpose === "FACTOR_VERIFY" ? "MFA" : "ENROLLMENT";
    const settings = requireMethodIn(read.settings, method, use);
    const { country } = read;
    const parsed = parsePhoneNumber(challenge.e164);
    const rejection = rejectionUnlessBlocked(parsed, method, { country, block: read.block, allowVoip: settings.allowVoip, forAdmin: read.forAdmin });
    if (rejection || !country) throw phoneNumberError(parsed, rejection ?? "UNSUPPORTED_COUNTRY", method);
    return { settings, country };
  }

  /** A resend answered as if it went, and not sent: what a decoy's resend does, on a real challenge. */
  private async withholdResend(tx: Transaction, challenge: Challenge, now: Date, { codeTtlSeconds }: PhoneAuthenticatorSettings): Promise<Challenge> {
    const changes = { resendsUsed: challenge.resendsUsed + 1, lastSentAt: now, expiresAt: new Date(now.getTime() + codeTtlSeconds * 1000), status: "PENDING" as const };
    const updated = await tx.manager.update(Challenge, { id: challenge.id, resendsUsed: challenge.resendsUsed, status: challenge.status }, changes);
    if (!updated.affected) {
      throw new AppError(ErrorCode.RESEND_TOO_SOON, "A code was just sent. Please wait before trying again.", { retryAfterSeconds: challenge.resendCooldownSeconds });
    }
    return Object.assign(challenge, changes);
  }

  /**
   * NIST 800-63B: consecutive failed passcodes are capped per user, across challenges. Past
   * the cap the user's phone factors are suspended (INACTIVE) until an admin reactivates
   * them or a recovery by phone resets them.
   *
   * A recovery's wrong codes are counted apart: anyone who knows the login can start one, and
   * must not be able to suspend the phone the user signs in with. Past the cap it is recovery
   * by phone that stops (recoveryHeld), until the phone is proven or an admin resets it.
   */
  private async countFailure(tx: Transaction, user: User, challenge: Challenge, requester: Requester, cap: number): Promise<void> {
    const { manager } = tx;
    const recovery = isRecovery(challenge.purpose);
    const [counter, column] = recovery ? (["failedRecoveryPasscodes", "failed_recovery_passcodes"] as const) : (["failedPasscodes", "failed_passcodes"] as const);
    await manager.createQueryBuilder().update(User).set({ [counter]: () => `${column} + 1` }).where("id = :id", { id: user.id }).execute();
    const failures = (await manager.findOneByOrFail(User, { id: user.id }))[counter];
    if (recovery) {
      // Told once, when the cap is reached.
      if (failures !== cap) return;
    } else {
      if (failures < cap) return;
      const suspended = await manager.update(PhoneFactor, { userId: user.id, status: "ACTIVE" }, { status: "INACTIVE" });
      if (!suspended.affected) return;
    }
    await this.deps.log.record(tx, {
      eventType: recovery ? EventType.RECOVERY_BY_PHONE_HELD : EventType.FACTOR_SUSPEND,
      displayMessage: recovery ? "Recovery by phone held after too many wrong recovery codes" : "Phone factors suspended after too many failed passcodes",
      severity: "WARN",
      actor: requester.actor,
      client: requester.client,
      target: [{ id: user.id, type: "User", alternateId: user.login }],
      outcome: { result: "SUCCESS", reason: "TOO_MANY_FAILED_PASSCODES" },
      debugContext: { [counter]: failures, cap },
    });
  }

  private async userOf(challenge: Challenge): Promise<User> {
    return this.deps.db.statements.findOneByOrFail(this.deps.db.manager, User, { id: challenge.userId });
  }

  /** Whether the user's wrong recovery codes reached the cap: recovery by phone then answers as a decoy. */
  async recoveryHeld(user: Pick<User, "failedRecoveryPasscodes">): Promise<boolean> {
    return recoveryHeldUnder(user, await this.deps.maxConsecutiveFailures());
  }

  /** The latest enrollment code of a factor, whatever became of it. */
  latestVerification(manager: EntityManager, factorId: string): Promise<Challenge | null> {
    return manager.findOne(Challenge, { where: { factorId, purpose: "PHONE_VERIFICATION" }, order: { created: "DESC" } });
  }

  /**
   * Before a number that waits for its enrollment code is enrolled again, which sends a new one:
   * RESEND_TOO_SOON inside the last code's cooldown, as a resend would be, so that enrolling
   * again and again is no way around it; otherwise the codes still open stop working. While the
   * last code is still good, enrolling again is its resend, maxResends included: what it
   * returns is the resends the new code carries on. A code past its lifetime is done with.
   */
  async supersedeVerification(tx: Transaction, factorId: string): Promise<number> {
    const last = await this.latestVerification(tx.manager, factorId);
    const now = this.deps.clock.now();
    if (last) refuseWhileCooling(last, now);
    const stillGood = last && last.status === "PENDING" && last.expiresAt.getTime() > now.getTime();
    if (stillGood) refuseResend(last, now);
    await this.cancelOpen(tx, { factorId });
    return stillGood ? last.resendsUsed + 1 : 0;
  }

  /**
   * `issued` takes over from `previous` (a flow's challenge asked for again): the earlier code
   * stops working, and the new challenge carries its resends on, one more, so that asking again
   * is no way around maxResends.
   */
  async supersede(tx: Transaction, previous: Challenge, issued: Challenge): Promise<void> {
    await this.cancelOpen(tx, { id: previous.id });
    const resendsUsed = previous.resendsUsed + 1;
    await tx.manager.update(Challenge, { id: issued.id }, { resendsUsed });
    issued.resendsUsed = resendsUsed;
  }

  /** On PostgreSQL, holds a factor's open challenges until the transaction ends; SQLite's writer is one at a time already. */
  async lockOpen(tx: Transaction, factorId: string): Promise<void> {
    if (this.deps.db.engine !== "postgres") return;
    await tx.manager.find(Challenge, {
      select: { id: true },
      where: { factorId, status: In(OPEN_STATUSES) },
      lock: { mode: "pessimistic_write" },
    });
  }

  /**
   * Cancels challenges that are still open (a factor was deleted or suspended, a flow
   * cancelled). EXPIRED ones too: a resend would bring them back to life.
   */
  async cancelOpen(tx: Transaction, where: { id?: string; factorId?: string; transactionId?: string }): Promise<void> {
    await tx.manager.update(Challenge, { ...where, status: In(OPEN_STATUSES) }, { status: "CANCELLED" });
  }

  private async sendCode(
    tx: Transaction,
    challenge: Challenge,
    user: User,
    country: CountrySettings,
    code: string,
    requester: Requester,
    clearance: SendClearance,
  ): Promise<Message> {
    const { composer, outbox, log, homeCountry, clock, pubsub, guard, db } = this.deps;
    const composed = await composer.compose(challenge.method, challenge.purpose, user.locale, code, tx.manager);
    const unitCost = challenge.method === "SMS" ? country.smsCostPerSegment : country.voiceCostPerMinute;
    const message = await outbox.enqueue(tx, {
      challengeId: challenge.id,
      userId: user.id,
      transactionId: challenge.transactionId,
      purpose: challenge.purpose,
      channel: challenge.method,
      toE164: challenge.e164,
      country: country.code,
      international: country.code !== homeCountry,
      body: composed.body,
      language: composed.language,
      encoding: composed.encoding,
      segments: composed.segments,
      estimatedCostMicros: Math.round(unitCost * 1_000_000) * composed.segments,
      senderId: null,
    });
    await log.record(tx, {
      eventType: sendEventType(challenge.method, challenge.purpose),
      displayMessage: challenge.method === "SMS" ? "Send SMS message" : "Send voice call",
      actor: requester.actor,
      client: requester.client,
      target: [
        { id: user.id, type: "User", alternateId: user.login },
        { id: message.id, type: "Message", alternateId: maskPhoneNumber(challenge.e164) },
      ],
      outcome: { result: "SUCCESS" },
      transactionId: challenge.transactionId,
      debugContext: {
        messageId: message.id,
        challengeId: challenge.id,
        purpose: challenge.purpose,
        channel: challenge.method,
        country: country.code,
        international: message.international,
        segments: message.segments,
        encoding: message.encoding,
        cost: message.estimatedCost,
        phoneNumber: maskPhoneNumber(challenge.e164),
      },
    });
    if (clearance.stopped) {
      // Recorded and failed at once, with its receive_status, so the log keeps one of each per send.
      await finalizeMessage(tx, message, { status: "FAILED", errorCode: "BLOCKED_SUSPICIOUS", providerStatus: clearance.reason }, { db, clock, pubsub, log });
    }
    await guard.recordSend(tx, { e164: challenge.e164, country: country.code, costMicros: message.estimatedCostMicros ?? 0, clearance });
    return message;
  }
}

/**
 * Runs a send's write. A send the limits counted and whose write then failed (a lost race, a
 * refusal inside it), or that the write withheld (`sent` says so of its result), went nowhere:
 * it is given back. A failure to give it back must not hide the first error.
 */
export async function refundedIfUnsent<T>(clearance: SendClearance | null, write: () => Promise<T>, sent: (result: T) => boolean = () => true): Promise<T> {
  const refund = () => clearance?.refund?.().catch(() => undefined);
  let result: T;
  try {
    result = await write();
  } catch (error) {
    await refund();
    throw error;
  }
  if (!sent(result)) await refund();
  return result;
}

const isRecovery = (purpose: ChallengePurpose) => purpose === "PASSWORD_RESET" || purpose === "ACCOUNT_UNLOCK";

const recoveryHeldUnder = (user: Pick<User, "failedRecoveryPasscodes">, cap: number) => user.failedRecoveryPasscodes >= cap;

/** A challenge whose code may still be asked for again: an EXPIRED one by a resend. */
const OPEN_STATUSES = ["PENDING", "EXPIRED"];

/** Why a send may be refused that says something about the account: what a recovery must not tell. */
export function isSendRefusal(error: unknown): boolean {
  if (!(error instanceof AppError)) return false;
  const refusals: readonly string[] = [ErrorCode.RATE_LIMITED, ErrorCode.METHOD_NOT_ALLOWED, ErrorCode.INVALID_PHONE_NUMBER, ErrorCode.NUMBER_BLOCKED];
  return refusals.includes(error.code) || (error.code === ErrorCode.CODE_EXPIRED && error.extensions?.reason === "FACTOR_NOT_ACTIVE");
}

/** A code sent for a factor that has since been suspended or deleted: it proves nothing any more. */
export function factorNoLongerActive(): AppError {
  return new AppError(ErrorCode.CODE_EXPIRED, "This code's phone factor was suspended or removed; start again", { reason: "FACTOR_NOT_ACTIVE" });
}

/** What a resend of `challenge` would be refused for now: its cooldown, then its resends spent. */
export function refuseResend(challenge: Pick<Challenge, "lastSentAt" | "resendCooldownSeconds" | "method" | "resendsUsed" | "maxResends">, now: Date): void {
  refuseWhileCooling(challenge, now);
  if (challenge.resendsUsed >= challenge.maxResends) {
    throw new AppError(ErrorCode.TOO_MANY_RESENDS, "No more codes can be sent for this challenge; start a new one");
  }
}

/** The authenticator's settings and the challenge's country, as a resend read them before its transaction. */
interface ResendSettings {
  settings: PhoneAuthenticatorSettings;
  country: CountrySettings | undefined;
  /** An admin's block on the number, put there since the last code went: the next one is refused. */
  block: BlockedNumber | null;
  forAdmin: boolean;
}

/** RESEND_TOO_SOON, with the seconds left, while the challenge's last code is inside its cooldown. */
export function refuseWhileCooling(challenge: Pick<Challenge, "lastSentAt" | "resendCooldownSeconds" | "method">, now: Date): void {
  const availableAt = challenge.lastSentAt.getTime() + challenge.resendCooldownSeconds * 1000;
  if (availableAt <= now.getTime()) return;
  const retryAfterSeconds = Math.ceil((availableAt - now.getTime()) / 1000);
  throw new AppError(
    ErrorCode.RESEND_TOO_SOON,
    `${challenge.method === "SMS" ? "An SMS message" : "A voice call"} was recently sent. Please wait ${retryAfterSeconds} seconds before trying again.`,
    { retryAfterSeconds },
  );
}

function terminalOutcome(challenge: Challenge, now: Date): VerifyOutcome | null {
  if (challenge.status === "VERIFIED") return { kind: "expired", reason: "ALREADY_USED" };
  if (challenge.status === "CANCELLED") return { kind: "expired", reason: "CANCELLED" };
  if (challenge.status === "FAILED") return { kind: "spent" };
  if (challenge.status === "EXPIRED" || challenge.expiresAt.getTime() <= now.getTime()) return { kind: "expired", reason: "EXPIRED" };
  if (challenge.attemptsUsed >= challenge.maxAttempts) return { kind: "spent" };
  return null;
}

/** Uniform over all codes of the length: crypto.randomInt, never Math.random. */
export function newPasscode(length: number): string {
  return randomInt(0, 10 ** length).toString().padStart(length, "0");
}

/** Codes are digits, typed as they come: spaced or dashed ("123 456"), or full-width from a CJK input method (NFKC makes them ASCII). */
function normaliseCode(code: string): string {
  return code.slice(0, 64).normalize("NFKC").replace(/[\s-]/g, "").slice(0, 32);
}
