import { In } from "typeorm";
import { assertActsFor } from "../auth/access";
import type { Viewer } from "../auth/viewer";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService, LogTarget } from "../log/log.service";
import { userTarget } from "../log/targets";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { isUniqueViolation } from "../platform/database";
import { AppError, badInput, conflict, ErrorCode, notFound } from "../platform/errors";
import { newId } from "../platform/ids";
import { User } from "../users/user.entity";
import { Challenge } from "./challenge.entity";
import { factorNoLongerActive, refundedIfUnsent, refuseWhileCooling, type ChallengeService, type Requester } from "./challenge.service";
import { PhoneFactor } from "./phone-factor.entity";
import type { PhoneAuthenticatorService } from "./phone-authenticator.service";
import { maskPhoneNumber } from "./phone-number";
import type { PhoneNumberService } from "./phone-number.service";
import type { PhoneMethod } from "./phone.enums";
import type { SessionService } from "../sessions/session.service";
import { GroupMember } from "../groups/group.entity";
import { evaluateEnrollment } from "../policies/evaluate";
import type { PolicyService } from "../policies/policy.service";

export interface EnrollRequest {
  userId: string;
  phoneNumber: string;
  defaultCountry?: string | null;
  method: PhoneMethod;
  transactionId?: string | null;
  /** A sign-in's earlier choice, never verified: deleted with this enrollment when that is for another number. */
  replaces?: string | null;
}

/** Users who may hold factors: not those an admin has switched off. */
const ENROLLABLE_STATUSES = new Set(["STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "LOCKED_OUT"]);

/**
 * How lately a signed-in user must have proven themself to change their own phones: their phone
 * in this session, or, with no phone yet, their password at sign-in. A stolen session token must
 * not be a way to add a phone (a password recovery then sends its code there) or remove theirs.
 */
export const RECENT_PROOF_MS = 15 * 60_000;

/** A caller's own writes, made in the transaction that issues a code: both commit, or neither. */
export type Alongside<T> = (tx: Transaction, issued: T) => Promise<void>;

export interface ChallengeOptions {
  /** The sign-in or recovery transaction the code belongs to. */
  transactionId?: string | null;
  purpose?: "FACTOR_VERIFY" | "PASSWORD_RESET" | "ACCOUNT_UNLOCK";
  alongside?: Alongside<Challenge>;
}

export class FactorService {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      log: LogService;
      authenticator: PhoneAuthenticatorService;
      numbers: PhoneNumberService;
      challenges: ChallengeService;
      sessions: Pick<SessionService, "proofTimes" | "phoneProven">;
      policies: Pick<PolicyService, "list">;
    },
  ) {}

  findById(id: string): Promise<PhoneFactor | null> {
    return this.deps.db.statements.findOneBy(this.deps.db.manager, PhoneFactor, { id });
  }

  /**
   * A PENDING_ACTIVATION factor and the PHONE_VERIFICATION challenge that proves the number.
   * `alongside` runs in the same transaction: a caller's step that fails (a sign-in's lost race)
   * takes the factor and its challenge, message and events back with it, so no code goes out.
   *
   * A number the user enrolled before and never verified (the code lost, the page closed, the
   * sign-in abandoned) is enrolled again as the same factor, with a new code, as a resend would
   * be, cooldown included. Refusing it would leave the number stuck: a sign-in has no session to
   * delete the factor with. A number already verified is CONFLICT.
   */
  async enroll(request: EnrollRequest, requester: Requester, alongside?: Alongside<{ factor: PhoneFactor; challenge: Challenge }>): Promise<{ factor: PhoneFactor; challenge: Challenge }> {
    const { db, clock, authenticator, numbers, challenges } = this.deps;
    await this.requireRecentProof(requester, request.userId);
    await this.requireSelfEnrollmentAllowed(requester, request.userId);
    const settings = await authenticator.requireMethod(request.method, "ENROLLMENT");
    const { parsed, country } = await numbers.requireReachable(request.phoneNumber, request.defaultCountry, request.method, { forAdmin: requester.admin === true });
    // Refused before the send limits count it: a verified number (a send limit's refusal would
    // hide the CONFLICT the client needs, for a code never sent), or one inside its cooldown.
    await this.refuseIfEnrolledOrCooling(request.userId, parsed.e164);
    const clearance = await challenges.clearSend({ e164: parsed.e164, country, userId: request.userId, method: request.method, purpose: "PHONE_VERIFICATION" });
    try {
      return await refundedIfUnsent(clearance, () =>
        db.transaction(async (tx) => {
          // Held until commit: a deleteUser that comes meanwhile waits, and then takes this factor too.
          const [user] = await db.findForKeyShare(tx, User, [request.userId]);
          if (!user) throw notFound("User");
          if (!ENROLLABLE_STATUSES.has(user.status)) {
            throw conflict("USER_NOT_ENROLLABLE", `A user in status ${user.status} cannot enroll a phone factor`);
          }
          if (request.replaces) await this.dropUnverified(tx, request.replaces, parsed.e164, user, requester);
          const enrolled = await tx.manager.findOneBy(PhoneFactor, { userId: user.id, e164: parsed.e164 });
          let factor: PhoneFactor;
          let resendsUsed = 0;
          if (enrolled) {
            ({ factor, resendsUsed } = await this.enrollAgain(tx, enrolled, request.method));
          } else {
            factor = tx.manager.create(PhoneFactor, {
              id: newId("fac"),
              userId: user.id,
              method: request.method,
              e164: parsed.e164,
              country: parsed.country,
              status: "PENDING_ACTIVATION",
              created: clock.now(),
              lastVerified: null,
            });
            await tx.manager.insert(PhoneFactor, factor);
          }
          const challenge = await challenges.issue(
            tx,
            {
              user,
              factorId: factor.id,
              purpose: "PHONE_VERIFICATION",
              method: request.method,
              e164: parsed.e164,
              country,
              transactionId: request.transactionId ?? null,
            },
            settings,
            requester,
            clearance,
          );
          if (resendsUsed > 0) {
            await tx.manager.update(Challenge, { id: challenge.id }, { resendsUsed });
            challenge.resendsUsed = resendsUsed;
          }
          await alongside?.(tx, { factor, challenge });
          return { factor, challenge };
        }),
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another enrollment of this new number committed first. Still waiting for its code, it
      // was just sent one: this is a resend inside the cooldown, as it is when it came after.
      await this.refuseIfEnrolledOrCooling(request.userId, parsed.e164);
      throw conflict("NUMBER_ALREADY_ENROLLED", "This phone number is already enrolled for the user");
    }
  }

  /** CONFLICT for a number the user has verified; RESEND_TOO_SOON while it waits for a code inside its cooldown. */
  private async refuseIfEnrolledOrCooling(userId: string, e164: string): Promise<void> {
    const { db, challenges, clock } = this.deps;
    const enrolled = await db.manager.findOneBy(PhoneFactor, { userId, e164 });
    if (!enrolled) return;
    if (enrolled.status !== "PENDING_ACTIVATION") throw conflict("NUMBER_ALREADY_ENROLLED", "This phone number is already enrolled for the user");
    const lastCode = await challenges.latestVerification(db.manager, enrolled.id);
    if (lastCode) refuseWhileCooling(lastCode, clock.now());
  }

  /** A never verified factor takes the method now asked for; its earlier codes stop working. */
  /** The factor, and the resends its new code carries on from the last (supersedeVerification). */
  private async enrollAgain(tx: Transaction, factor: PhoneFactor, method: PhoneMethod): Promise<{ factor: PhoneFactor; resendsUsed: number }> {
    // On PostgreSQL the factor's open codes are locked before the factor, in the order a
    // verification of one takes them (the code, then its factor): the other order deadlocked
    // with a verification of the old code at the same moment. An enrollment of the same number
    // at the same moment waits here for this one, then finds its code inside the cooldown.
    await this.deps.challenges.lockOpen(tx, factor.id);
    const { affected } = await tx.manager.update(PhoneFactor, { id: factor.id, status: "PENDING_ACTIVATION" }, { method });
    if (!affected) throw conflict("NUMBER_ALREADY_ENROLLED", "This phone number is already enrolled for the user");
    const resendsUsed = await this.deps.challenges.supersedeVerification(tx, factor.id);
    return { factor: Object.assign(factor, { method }), resendsUsed };
  }

  /** The factor a sign-in enrolled and never verified, when the user now enrolls another number instead. */
  private async dropUnverified(tx: Transaction, factorId: string, nextE164: string, user: User, requester: Requester): Promise<void> {
    const factor = await tx.manager.findOneBy(PhoneFactor, { id: factorId, userId: user.id, status: "PENDING_ACTIVATION" });
    if (factor && factor.e164 !== nextE164) await this.deleteWithin(tx, factor, user, requester);
  }

  /** Verifies the enrollment code; the factor becomes ACTIVE in the same transaction. */
  async activate(viewer: Viewer, factorId: string, code: string, requester: Requester): Promise<PhoneFactor> {
    const factor = await this.findById(factorId);
    if (!factor) throw notFound("Phone factor");
    assertActsFor(viewer, factor.userId);
    if (factor.status === "ACTIVE") throw conflict("FACTOR_ALREADY_ACTIVE", "This phone factor is already active");
    const challenge = await this.deps.db.manager.findOne(Challenge, {
      where: { factorId: factor.id, purpose: "PHONE_VERIFICATION" },
      order: { created: "DESC" },
    });
    if (!challenge) throw new AppError(ErrorCode.CODE_EXPIRED, "This factor has no verification code; enroll it again", { reason: "NO_CHALLENGE" });
    await this.verifyChallenge(challenge.id, code, requester);
    return (await this.findById(factor.id))!;
  }

  /** Verifies any challenge; what a verified code means for its factor happens in the same transaction. */
  verifyChallenge(challengeId: string, code: string, requester: Requester): Promise<Challenge> {
    return this.deps.challenges.verify(challengeId, code, requester, {
      afterVerified: (tx, verified) => this.afterVerified(tx, verified, requester),
    });
  }

  /**
   * RECENT_PROOF_MS, for a user changing their own phones from a session: admins, and sign-in
   * and recovery flows (which prove their user in their own steps), are not asked.
   */
  private async requireRecentProof(requester: Requester, userId: string): Promise<void> {
    if (!requester.sessionId) return;
    const [proof, phones] = await Promise.all([
      this.deps.sessions.proofTimes(requester.sessionId),
      this.deps.db.manager.countBy(PhoneFactor, { userId, status: In(["ACTIVE", "INACTIVE"]) }),
    ]);
    const now = this.deps.clock.now().getTime();
    const recent = (at: Date | null | undefined) => !!at && now - at.getTime() <= RECENT_PROOF_MS;
    if (recent(proof?.phoneProven) || (phones === 0 && recent(proof?.signedIn))) return;
    throw new AppError(
      ErrorCode.FORBIDDEN,
      phones > 0
        ? "Prove your phone first (challengePhoneFactor, then verifyChallenge): changing your phones needs it within the last 15 minutes"
        : "Sign in again: adding your first phone needs a sign-in within the last 15 minutes",
      { reason: "REAUTHENTICATION_REQUIRED" },
    );
  }

  /**
   * A user enrolling from their own session is held to their enrollment policy, as a sign-in
   * offering enrollment is: NOT_ALLOWED is METHOD_NOT_ALLOWED. Admins enroll whoever they choose.
   */
  private async requireSelfEnrollmentAllowed(requester: Requester, userId: string): Promise<void> {
    if (!requester.sessionId) return;
    const [policies, memberships] = await Promise.all([this.deps.policies.list(), this.deps.db.manager.find(GroupMember, { where: { userId } })]);
    const { phone } = evaluateEnrollment(policies, { userGroupIds: memberships.map((membership) => membership.groupId) });
    if (phone === "NOT_ALLOWED") {
      throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, "Your enrollment policy does not let you enroll a phone; an admin can", { allowedMethods: [] });
    }
  }

  async afterVerified(tx: Transaction, challenge: Challenge, requester: Requester): Promise<void> {
    if (challenge.purpose === "PASSWORD_RESET" || challenge.purpose === "ACCOUNT_UNLOCK") {
      // A recovery proven by phone lifts a suspension for failed passcodes.
      await tx.manager.update(PhoneFactor, { userId: challenge.userId, status: "INACTIVE" }, { status: "ACTIVE" });
    }
    if (challenge.purpose === "FACTOR_VERIFY" && requester.sessionId) {
      await this.deps.sessions.phoneProven(tx, requester.sessionId, this.deps.clock.now());
    }
    if (!challenge.factorId) return;
    const stampVerified = (factorId: string) =>
      this.deps.db.statements.update(tx.manager, PhoneFactor, { id: factorId, status: "ACTIVE" }, { lastVerified: this.deps.clock.now() });
    // Only a verification can change the factor's status; any other code just stamps it, and
    // proves nothing once its factor is suspended or deleted (the code was sent before): the
    // whole verification is undone, so no sign-in passes on it.
    if (challenge.purpose !== "PHONE_VERIFICATION") {
      if (!(await stampVerified(challenge.factorId))) throw factorNoLongerActive();
      return;
    }
    const factor = await this.deps.db.statements.findOneBy(tx.manager, PhoneFactor, { id: challenge.factorId });
    if (!factor) return;
    if (factor.status !== "ACTIVE") await this.markActive(tx, factor, challenge, requester);
    else await stampVerified(factor.id);
  }

  /** Runs when a PHONE_VERIFICATION challenge is verified (directly or through a sign-in flow). */
  async markActive(tx: Transaction, factor: PhoneFactor, challenge: Challenge, requester: Requester): Promise<void> {
    const now = this.deps.clock.now();
    // Held to the commit: a sign-in that may enroll only a first phone (refuseIfPhoneVerifiedSince)
    // counts the user's phones under the same lock, so it sees this one or is seen by it.
    const user = await this.deps.db.findForUpdate(tx, User, factor.userId);
    if (!user) throw notFound("User");
    await tx.manager.update(PhoneFactor, { id: factor.id }, { status: "ACTIVE", lastVerified: now, method: challenge.method });
    await this.deps.log.record(tx, {
      eventType: EventType.FACTOR_ACTIVATE,
      displayMessage: "Activate factor or authenticator",
      actor: requester.actor,
      client: requester.client,
      target: [
        { id: user.id, type: "User", alternateId: user.login },
        { id: factor.id, type: "PhoneFactor", alternateId: maskPhoneNumber(factor.e164), displayName: challenge.method },
      ],
      outcome: { result: "SUCCESS" },
      transactionId: challenge.transactionId,
      debugContext: { factorId: factor.id, method: challenge.method, country: factor.country },
    });
  }

  /** A FACTOR_VERIFY challenge for an active factor, by its method or the one asked for. */
  async challenge(
    viewer: Viewer,
    factorId: string,
    method: PhoneMethod | null | undefined,
    requester: Requester,
    { transactionId = null, purpose = "FACTOR_VERIFY", alongside }: ChallengeOptions = {},
  ): Promise<Challenge> {
    const { db, authenticator, numbers, challenges } = this.deps;
    const factor = await this.findById(factorId);
    if (!factor) throw notFound("Phone factor");
    assertActsFor(viewer, factor.userId);
    // A factor suspended for failed passcodes still serves recovery, which is how it is reset.
    const usable = factor.status === "ACTIVE" || (purpose !== "FACTOR_VERIFY" && factor.status === "INACTIVE");
    if (!usable) throw conflict("FACTOR_NOT_ACTIVE", "This phone factor is not active; activate it first");
    const chosen = method ?? factor.method;
    const settings = await authenticator.requireMethod(chosen, purpose === "FACTOR_VERIFY" ? "MFA" : "RECOVERY");
    const { country } = await numbers.requireReachable(factor.e164, null, chosen, { forAdmin: viewer.kind === "admin" });
    const clearance = await challenges.clearSend({ e164: factor.e164, country, userId: factor.userId, method: chosen, purpose });
    return refundedIfUnsent(clearance, () =>
      db.transaction(async (tx) => {
        const user = await db.statements.findOneByOrFail(tx.manager, User, { id: factor.userId });
        const challenge = await challenges.issue(
          tx,
          { user, factorId: factor.id, purpose, method: chosen, e164: factor.e164, country, transactionId },
          settings,
          requester,
          clearance,
        );
        await alongside?.(tx, challenge);
        return challenge;
      }),
    );
  }

  /** An admin's reset of a suspension for failed passcodes. */
  async reactivate(userId: string, initiator: Initiator): Promise<PhoneFactor[]> {
    const { db, log } = this.deps;
    return db.transaction(async (tx) => {
      const { manager } = tx;
      const user = await manager.findOneBy(User, { id: userId });
      if (!user) throw notFound("User");
      await manager.update(User, { id: userId }, { failedPasscodes: 0, failedRecoveryPasscodes: 0 });
      const suspended = await manager.findBy(PhoneFactor, { userId, status: "INACTIVE" });
      for (const factor of suspended) {
        // Guarded on the status read: a factor deleted or reactivated meanwhile is neither touched nor logged.
        const { affected } = await manager.update(PhoneFactor, { id: factor.id, status: "INACTIVE" }, { status: "ACTIVE" });
        if (!affected) continue;
        await log.recordChange(tx, initiator, {
          eventType: EventType.FACTOR_UNSUSPEND,
          displayMessage: "Unsuspend factor or authenticator",
          target: [userTarget(user), factorTarget(factor)],
          debugContext: { factorId: factor.id, method: factor.method, country: factor.country, failedPasscodes: user.failedPasscodes },
        });
      }
      return manager.find(PhoneFactor, { where: { userId }, order: { created: "ASC" } });
    });
  }

  async delete(viewer: Viewer, factorId: string, requester: Requester): Promise<boolean> {
    const { db } = this.deps;
    if (!factorId) throw badInput("id", "must not be empty");
    const found = await this.findById(factorId);
    if (found) {
      assertActsFor(viewer, found.userId);
      await this.requireRecentProof(requester, found.userId);
    }
    return db.transaction(async (tx) => {
      const factor = await tx.manager.findOneBy(PhoneFactor, { id: factorId });
      if (!factor) throw notFound("Phone factor");
      assertActsFor(viewer, factor.userId);
      if (!(await this.deleteWithin(tx, factor, await tx.manager.findOneByOrFail(User, { id: factor.userId }), requester))) throw notFound("Phone factor");
      return true;
    });
  }

  /** False when another request deleted it first. */
  private async deleteWithin(tx: Transaction, factor: PhoneFactor, user: User, requester: Requester): Promise<boolean> {
    await this.deps.challenges.cancelOpen(tx, { factorId: factor.id });
    // Deleted meanwhile by another request (PostgreSQL): that one logged it.
    if (!(await tx.manager.delete(PhoneFactor, { id: factor.id })).affected) return false;
    await this.deps.log.record(tx, {
      eventType: EventType.FACTOR_DEACTIVATE,
      displayMessage: "Deactivate factor or authenticator",
      actor: requester.actor,
      client: requester.client,
      target: [
        { id: user.id, type: "User", alternateId: user.login },
        factorTarget(factor),
      ],
      outcome: { result: "SUCCESS" },
      debugContext: { factorId: factor.id, method: factor.method, country: factor.country },
    });
    return true;
  }
}

/** Masked: the factor's id finds it, and a message's log events mask the number too. */
const factorTarget = (factor: PhoneFactor): LogTarget => ({
  id: factor.id,
  type: "PhoneFactor",
  alternateId: maskPhoneNumber(factor.e164),
  displayName: factor.method,
});
