import { Brackets, Not } from "typeorm";
import { GroupMember } from "../groups/group.entity";
import { recordMembership, requireGroups } from "../groups/group.service";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import { userTarget } from "../log/targets";
import type { Clock } from "../platform/clock";
import { foldedCase } from "../platform/data-source";
import { isUniqueViolation, type Database } from "../platform/database";
import { AppError, badInput, conflict, ErrorCode, notFound } from "../platform/errors";
import { codePoints } from "../platform/text-length";
import { newId } from "../platform/ids";
import { cursorScope, keysetConnection, pageSize } from "../platform/pagination";
import { Challenge } from "../phone/challenge.entity";
import { PhoneFactor } from "../phone/phone-factor.entity";
import { maskPhoneNumber, parsePhoneNumber } from "../phone/phone-number";
import type { MessageStatus } from "../phone/phone.enums";
import { Message } from "../telephony/message.entity";
import { SessionRecord } from "../sessions/session.entity";
import type { SessionService } from "../sessions/session.service";
import { checkPasswordAgainstPolicy, evaluatePassword, isPasswordExpired, passwordChangeAllowedAt, passwordExpiresAt } from "../policies/evaluate";
import type { PolicyModel } from "../policies/policy.model";
import type { PolicyService } from "../policies/policy.service";
import { AuthTransactionRecord } from "../transactions/auth-transaction.entity";
import { hashPassword } from "./password";
import { caseFolded, hasInvisibleCharacters } from "../platform/case-folding";
import { loginKey } from "./login";
import { PasswordHistoryRecord } from "./password-history";
import { User, UserStatus } from "./user.entity";
import { nextStatus } from "./user-lifecycle";
import type { CreateUserInput, UpdateUserInput, UserConnection, UsersArgs } from "./user.types";

/** What a locale column holds (BCP 47 advises room for 35). */
const MAX_LOCALE_LENGTH = 35;

export function canonicalLocale(locale: string, field = "locale"): string {
  let canonical: string | undefined;
  try {
    [canonical] = Intl.getCanonicalLocales(locale);
  } catch {
    // RangeError: not a well-formed BCP 47 tag
  }
  // und (undetermined) is well-formed, but its likely subtags are en-Latn-US (und-TW's zh-Hant-TW),
  // so a translation saved as und would be sent to those users before theirs.
  if (!canonical || canonical.split("-", 1)[0] === "und") {
    throw badInput(field, "must be a BCP 47 language tag such as en, fr-CA or zh-Hant-TW");
  }
  // The canonical form can be longer than the tag given (extension keys spelled out): it is what is stored.
  if (canonical.length > MAX_LOCALE_LENGTH) throw badInput(field, `must be at most ${MAX_LOCALE_LENGTH} characters in its canonical form (${canonical})`);
  return canonical;
}

/** The lifecycle changes an admin makes, and the event each writes. */
const ADMIN_TRANSITIONS = {
  activate: { eventType: EventType.USER_ACTIVATE, displayMessage: "Activate user" },
  suspend: { eventType: EventType.USER_SUSPEND, displayMessage: "Suspend user" },
  unsuspend: { eventType: EventType.USER_UNSUSPEND, displayMessage: "Unsuspend user" },
  deactivate: { eventType: EventType.USER_DEACTIVATE, displayMessage: "Deactivate user" },
  unlock: { eventType: EventType.ACCOUNT_UNLOCK_BY_ADMIN, displayMessage: "Unlock user account by admin" },
} as const;
export type AdminLifecycleAction = keyof typeof ADMIN_TRANSITIONS;

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

export interface PasswordState {
  expired: boolean;
  /** Null when the policy sets no maximum age, or the password's age is not known. */
  expiresAt: Date | null;
  /** Null when the user may change the password now. */
  changeAllowedAt: Date | null;
}

export class UserService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
    private readonly sessions: SessionService,
    private readonly policies: Pick<PolicyService, "list">,
  ) {}

  async createUser(input: CreateUserInput, initiator: Initiator): Promise<User> {
    const login = input.login.trim();
    if (!login) throw badInput("input.login", "must not be blank");
    if (hasInvisibleCharacters(login)) throw badInput("input.login", "must not contain invisible or control characters (zero-width spaces, joiners, soft hyphens, direction marks)");
    // Stored as its key too (loginKey), for uniqueness, and that can be longer ("İ" is "i̇").
    if (codePoints(loginKey(login)) > 256) throw badInput("input.login", "must be at most 256 characters long");
    const locale = input.locale != null ? canonicalLocale(input.locale, "input.locale") : "en";
    const password = input.password ?? null;
    const groupIds = [...new Set(input.groupIds ?? [])];
    const passwordExpired = input.expirePassword === true;
    if (passwordExpired && password === null) throw badInput("input.expirePassword", "needs a password to expire");
    if (password !== null) {
      // The policy of the groups the user is created in, as a reset or a change would apply later.
      const policy = evaluatePassword(await this.policies.list("PASSWORD"), { userGroupIds: groupIds });
      const violation = checkPasswordAgainstPolicy(password, policy, { login, firstName: input.firstName, lastName: input.lastName });
      if (violation) throw new AppError(ErrorCode.PASSWORD_POLICY, `The password breaks the password policy (${violation})`, { reason: violation });
    }
    // Hashing is slow on purpose: do it before the transaction so it holds no lock.
    const passwordHash = password === null ? null : await hashPassword(password);
    const now = this.clock.now();
    const status =
      input.activate === false ? UserStatus.STAGED : passwordHash ? UserStatus.ACTIVE : UserStatus.PROVISIONED;

    try {
      return await this.db.transaction(async (tx) => {
        const { manager } = tx;
        const groups = await requireGroups(this.db, tx, groupIds);
        const user = manager.create(User, {
          id: newId("usr"),
          login,
          loginNormalized: loginKey(login),
          email: input.email ?? null,
          firstName: input.firstName ?? null,
          lastName: input.lastName ?? null,
          mobilePhone: input.mobilePhone ?? null,
          locale,
          status,
          passwordHash,
          created: now,
          lastLogin: null,
          statusChanged: now,
          failedLogins: 0,
          lockedAt: null,
          failedPasscodes: 0,
          failedRecoveryPasscodes: 0,
          passwordChanged: passwordHash ? now : null,
          passwordExpired,
        });
        await manager.insert(User, user);
        if (groupIds.length) {
          await manager.insert(
            GroupMember,
            groupIds.map((groupId) => ({ groupId, userId: user.id, added: now })),
          );
        }
        await this.log.recordChange(tx, initiator, {
          eventType: EventType.USER_CREATE,
          displayMessage: "Create user",
          target: [userTarget(user)],
          debugContext: { status, hasPassword: passwordHash !== null, passwordExpired },
        });
        // Memberships given at creation are recorded as any other, so one filter finds every way into a group.
        for (const group of groups) await recordMembership(this.log, tx, initiator, "add", user, group);
        return user;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict("LOGIN_TAKEN", `The login ${login} is already taken`);
      throw error;
    }
  }

  async updateUser(input: UpdateUserInput, initiator: Initiator): Promise<User> {
    const locale = input.locale != null ? canonicalLocale(input.locale, "input.locale") : undefined;
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const user = await manager.findOneBy(User, { id: input.id });
      if (!user) throw notFound("User");
      const changes: Partial<User> = {};
      if (input.email !== undefined) changes.email = input.email;
      if (input.firstName !== undefined) changes.firstName = input.firstName;
      if (input.lastName !== undefined) changes.lastName = input.lastName;
      if (input.mobilePhone !== undefined) changes.mobilePhone = input.mobilePhone;
      if (locale !== undefined) changes.locale = locale;
      const changed = Object.keys(changes).filter((field) => changes[field as keyof User] !== user[field as keyof User]);
      if (!changed.length) return user;
      // Deleted meanwhile (PostgreSQL): nothing was changed, and nothing is logged.
      if (!(await manager.update(User, { id: user.id }, changes)).affected) throw notFound("User");
      Object.assign(user, changes);
      // The fields' names only: the values are personal data, and the profile holds them already.
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.USER_UPDATE_PROFILE,
        displayMessage: "Update user profile",
        target: [userTarget(user)],
        debugContext: { changedFields: changed.join(",") },
      });
      return user;
    });
  }

  async transition(userId: string, action: AdminLifecycleAction, initiator: Initiator): Promise<User> {
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const user = await manager.findOneBy(User, { id: userId });
      if (!user) throw notFound("User");
      const status = nextStatus(user.status, action, user.passwordHash !== null);
      const statusChanged = this.clock.now();
      // An unlock, or a fresh start after deactivation, forgives the failed passwords that locked
      // the account: kept, the next wrong one would lock it again at once.
      const forgiven = action === "unlock" || action === "activate" ? { failedLogins: 0, lockedAt: null } : {};
      // Guarded on the status read, so two concurrent transitions cannot both apply.
      const result = await manager.update(User, { id: user.id, status: user.status }, { status, statusChanged, ...forgiven });
      if (!result.affected) throw conflict("CONCURRENT_CHANGE", "The user changed while this request ran; try again");
      // Signed out everywhere, as in Okta: the sessions must not work again after an unsuspend or a reactivation.
      const endedSessions = action === "suspend" || action === "deactivate" ? await this.sessions.revokeAllOf(tx, user.id) : 0;
      await this.log.recordChange(tx, initiator, {
        ...ADMIN_TRANSITIONS[action],
        target: [userTarget(user)],
        debugContext: { previousStatus: user.status, status, ...(endedSessions ? { endedSessions } : {}) },
      });
      return Object.assign(user, { status, statusChanged, ...forgiven });
    });
  }

  /**
   * Deletes a deactivated user for good, as Okta does: its profile, password and the ones before it, phone factors,
   * sessions, memberships, challenges and sign-in transactions. A user in any other status is
   * refused (deactivate first), so a deletion is always two deliberate steps. Messages and
   * System Log events stay: they are the organisation's record of what was sent and done. They
   * keep the number masked from here on, as the events have it all along; only a message still
   * queued needs it, to be handed over.
   */
  async deleteUser(userId: string, initiator: Initiator): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const user = await manager.findOneBy(User, { id: userId });
      if (!user) throw notFound("User");
      if (user.status !== UserStatus.DEPROVISIONED) {
        throw conflict("INVALID_LIFECYCLE_TRANSITION", `A user in status ${user.status} cannot be deleted; deactivate it first`);
      }
      // Its codes before the user: a verification holds its code, then writes the user, and
      // taking them the other way round deadlocks with it on PostgreSQL.
      await manager.delete(Challenge, { userId });
      // Guarded on the status, so a reactivation that commits first keeps the user.
      const deleted = await manager.delete(User, { id: userId, status: UserStatus.DEPROVISIONED });
      if (!deleted.affected) throw conflict("CONCURRENT_CHANGE", "The user changed while this request ran; try again");
      const factors = await manager.countBy(PhoneFactor, { userId });
      for (const owned of [GroupMember, PhoneFactor, SessionRecord, AuthTransactionRecord, PasswordHistoryRecord]) await manager.delete(owned, { userId });
      // Receipts find a sent message by its provider's id, never by its number.
      const handedOver = { userId, status: Not<MessageStatus>("QUEUED") };
      const numbers = await manager.find(Message, { where: handedOver, select: { toE164: true } });
      for (const toE164 of new Set(numbers.map((message) => message.toE164))) {
        await manager.update(Message, { ...handedOver, toE164 }, { toE164: maskPhoneNumber(toE164) });
      }
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.USER_DELETE,
        displayMessage: "Delete user",
        target: [userTarget(user)],
        debugContext: { phoneFactors: factors },
      });
      return true;
    });
  }

  /**
   * Okta's expire_password: the password still signs in, but the sign-in asks for a new one
   * before it gives a session. Sessions already open stay, as in Okta. A user without a password
   * has none to expire; a deactivated one cannot sign in. Expiring an expired password writes nothing.
   */
  async expirePassword(userId: string, initiator: Initiator): Promise<User> {
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const user = await manager.findOneBy(User, { id: userId });
      if (!user) throw notFound("User");
      if (user.status === UserStatus.DEPROVISIONED) throw conflict("INVALID_LIFECYCLE_TRANSITION", "A deactivated user's password cannot be expired");
      if (!user.passwordHash) throw conflict("NO_PASSWORD", "This user has no password to expire");
      if (user.passwordExpired) return user;
      // Deleted or deactivated meanwhile (PostgreSQL): as if it had been so when read.
      const { affected } = await manager.update(User, { id: user.id, status: Not(UserStatus.DEPROVISIONED) }, { passwordExpired: true });
      if (!affected) {
        if (!(await manager.findOneBy(User, { id: user.id }))) throw notFound("User");
        throw conflict("INVALID_LIFECYCLE_TRANSITION", "A deactivated user's password cannot be expired");
      }
      await this.log.recordChange(tx, initiator, { eventType: EventType.USER_EXPIRE_PASSWORD, displayMessage: "Expire user password", target: [userTarget(user)] });
      return Object.assign(user, { passwordExpired: true });
    });
  }

  /**
   * The user's password under `policies` and the user's groups: whether the next sign-in must
   * choose a new one, when the policy's maximum age expires it, and when its minimum age lets
   * the user change it.
   */
  passwordState(user: Pick<User, "passwordExpired" | "passwordChanged">, groupIds: string[], policies: readonly PolicyModel[]): PasswordState {
    const policy = evaluatePassword(policies, { userGroupIds: groupIds });
    const password = { expired: user.passwordExpired, changed: user.passwordChanged };
    const now = this.clock.now();
    return {
      expired: isPasswordExpired(policy, password, now),
      expiresAt: passwordExpiresAt(policy, user.passwordChanged),
      changeAllowedAt: passwordChangeAllowedAt(policy, password, now),
    };
  }

  /**
   * Ends every session of a user, as Okta's "clear user sessions": their tokens stop working and
   * their running subscriptions end. For a lost or stolen phone, where suspending would be too much.
   */
  async clearSessions(userId: string, initiator: Initiator): Promise<number> {
    return this.db.transaction(async (tx) => {
      const user = await tx.manager.findOneBy(User, { id: userId });
      if (!user) throw notFound("User");
      const ended = await this.sessions.revokeAllOf(tx, userId);
      if (ended) {
        await this.log.recordChange(tx, initiator, {
          eventType: EventType.USER_SESSION_CLEAR,
          displayMessage: "Clear user session",
          target: [userTarget(user)],
          debugContext: { sessions: ended },
        });
      }
      return ended;
    });
  }

  findById(id: string): Promise<User | null> {
    return this.db.manager.findOneBy(User, { id });
  }

  async list(args: UsersArgs): Promise<UserConnection> {
    const limit = pageSize(args.first);
    const filtered = this.db.manager.createQueryBuilder(User, "u");
    if (args.status) filtered.andWhere("u.status = :status", { status: args.status });
    if (args.phoneNumber != null) {
      const { e164 } = parsePhoneNumber(args.phoneNumber);
      if (!e164) throw badInput("phoneNumber", "must be a valid phone number in international format, starting with +");
      filtered.andWhere("u.id IN (SELECT pf.user_id FROM phone_factors pf WHERE pf.e164 = :e164)", { e164 });
    }
    const search = args.search == null ? undefined : caseFolded(args.search);
    if (search) {
      const prefix = `${escapeLike(search)}%`;
      filtered.andWhere(
        new Brackets((where) =>
          where
            .where("u.login_normalized LIKE :prefix ESCAPE '\\'", { prefix })
            .orWhere(`${foldedCase(this.db.engine, "u.email")} LIKE :prefix ESCAPE '\\'`)
            .orWhere(`${foldedCase(this.db.engine, "u.first_name")} LIKE :prefix ESCAPE '\\'`)
            .orWhere(`${foldedCase(this.db.engine, "u.last_name")} LIKE :prefix ESCAPE '\\'`),
        ),
      );
    }
    return keysetConnection(
      filtered,
      { limit, after: args.after, scope: cursorScope(args.status, search, args.phoneNumber?.trim()) },
      { at: "u.created", id: "u.id", direction: "ASC", cursorOf: (user) => ({ at: user.created.getTime(), id: user.id }) },
      (user) => user,
    );
  }

}
