/**
 * Expired passwords: an admin expires one (Okta's expire_password), or the password policy's
 * passwordMaxAgeDays does. The password still proves who signs in, but the sign-in gives no
 * session until it is replaced, and only after every other step (the phone) has passed.
 */
import {
  ChallengeFactorDocument,
  ChangePasswordDocument,
  CreateUserDocument,
  DeactivateUserDocument,
  ExpirePasswordDocument,
  MeDocument,
  MySessionsDocument,
  ResetPasswordDocument,
  SignInDocument,
  UpdatePolicyDocument,
  UserPasswordDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { SessionRecord } from "../../../src/sessions/session.entity";
import { User } from "../../../src/users/user.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, receivedCode } from "../../support/phone";
import { PASSWORD, passwordOnly, requirePhone, setPasswordPolicy, signedIn, userWithPhone } from "../../support/transactions";

const NEW_PASSWORD = "a brand new long password";
const DAY_MS = 86_400_000;

describe("expired passwords", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());
  beforeEach(() => passwordOnly(gateway));

  const signIn = async (login: string, password = PASSWORD) =>
    (await gateway.anonymous.ok(SignInDocument, { input: { login, password } })).signIn;
  const reset = (stateHandle: string, newPassword: string) =>
    gateway.anonymous.request(ResetPasswordDocument, { input: { stateHandle, newPassword } });
  const passwordOf = async (id: string) => (await gateway.admin.ok(UserPasswordDocument, { id })).user!;
  const eventsOf = (userId: string, eventType: string) =>
    gateway.db.manager
      .createQueryBuilder(LogEventRecord, "e")
      .innerJoin("log_event_targets", "t", "t.event_uuid = e.uuid")
      .where("t.id = :userId AND e.event_type = :eventType", { userId, eventType })
      .orderBy("e.published", "ASC")
      .getMany();

  test("expirePassword: the sign-in stops at PASSWORD_EXPIRED with no session, and the new password ends it signed in", async () => {
    const user = await createUser(gateway);
    const earlier = await signedIn(gateway, user.login);
    const { expirePassword } = await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
    expect(expirePassword).toMatchObject({ id: user.id, status: "ACTIVE", passwordExpired: true, passwordChanged: expect.any(String) });
    // Sessions already open stay, as in Okta.
    expect((await earlier.ok(MeDocument)).me?.id).toBe(user.id);

    const sessionsBefore = await gateway.db.manager.countBy(SessionRecord, { userId: user.id });
    const expired = await signIn(user.login);
    expect(expired).toMatchObject({ status: "PASSWORD_EXPIRED", sessionToken: null, user: { id: user.id } });
    expect(await gateway.db.manager.countBy(SessionRecord, { userId: user.id })).toBe(sessionsBefore);
    // A wrong password is still wrong: expiry tells nothing to someone who does not know it.
    expect((await gateway.anonymous.fails(SignInDocument, { input: { login: user.login, password: "not the password" } })).code).toBe(
      "INVALID_CREDENTIALS",
    );

    const again = await reset(expired.stateHandle, PASSWORD);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: "PASSWORD_POLICY", reason: "SAME_AS_CURRENT" });
    expect((await reset(expired.stateHandle, "short")).errors?.[0]?.extensions).toMatchObject({
      code: "PASSWORD_POLICY",
      reason: "MIN_LENGTH:8",
    });

    const replaced = await reset(expired.stateHandle, NEW_PASSWORD);
    expect(replaced.errors).toBeUndefined();
    expect(replaced.data?.resetPassword).toMatchObject({ status: "SUCCESS", sessionToken: expect.any(String) });
    expect((await gateway.client(`Bearer ${replaced.data!.resetPassword.sessionToken}`).ok(MeDocument)).me?.id).toBe(user.id);
    // The session the old password opened ends with it, as a changePassword's would.
    expect((await earlier.fails(MeDocument)).code).toBe("UNAUTHENTICATED");
    expect((await reset(expired.stateHandle, "yet another long password")).errors?.[0]?.extensions?.code).toBe("TRANSACTION_EXPIRED");

    expect(await passwordOf(user.id)).toMatchObject({ passwordExpired: false, passwordExpiresAt: null });
    expect((await gateway.anonymous.fails(SignInDocument, { input: { login: user.login, password: PASSWORD } })).code).toBe(
      "INVALID_CREDENTIALS",
    );
    expect((await signIn(user.login, NEW_PASSWORD)).status).toBe("SUCCESS");

    const [expiredEvent] = await eventsOf(user.id, "user.account.expire_password");
    expect(expiredEvent).toMatchObject({ actorType: "ApiToken", outcomeResult: "SUCCESS" });
    const [updated] = await eventsOf(user.id, "user.account.update_password");
    expect(updated).toMatchObject({
      actorId: user.id,
      outcomeResult: "SUCCESS",
      outcomeReason: "PASSWORD_EXPIRED",
      debugContext: expect.objectContaining({ endedSessions: 1 }),
    });
    expect(JSON.stringify(updated)).not.toContain(NEW_PASSWORD);
    expect(await eventsOf(user.id, "user.account.reset_password")).toHaveLength(0);
  });

  test("createUser with expirePassword: a temporary password, replaced at the first sign-in; none to expire is BAD_USER_INPUT", async () => {
    const login = `temporary-${Date.now()}@example.com`;
    const { createUser: user } = await gateway.admin.ok(CreateUserDocument, { input: { login, password: PASSWORD, expirePassword: true } });
    expect(await passwordOf(user.id)).toMatchObject({ passwordExpired: true });
    const [created] = await eventsOf(user.id, "user.lifecycle.create");
    expect(created?.debugContext).toMatchObject({ hasPassword: true, passwordExpired: true });
    const first = await signIn(login);
    expect(first.status).toBe("PASSWORD_EXPIRED");
    expect((await reset(first.stateHandle, NEW_PASSWORD)).data?.resetPassword.status).toBe("SUCCESS");
    expect((await signIn(login, NEW_PASSWORD)).status).toBe("SUCCESS");

    const nothing = `nothing-to-expire-${Date.now()}@example.com`;
    expect(await gateway.admin.fails(CreateUserDocument, { input: { login: nothing, expirePassword: true } })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: expect.objectContaining({ field: "input.expirePassword" }),
    });
    expect(await gateway.db.manager.countBy(User, { loginNormalized: nothing })).toBe(0);
  });

  test("a PASSWORD_EXPIRED transaction takes no other step", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400790001");
    await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
    const expired = await signIn(user.login);
    expect(expired.status).toBe("PASSWORD_EXPIRED");
    const step = await gateway.anonymous.fails(ChallengeFactorDocument, {
      input: { stateHandle: expired.stateHandle, factorId: factor.id },
    });
    expect(step).toMatchObject({ code: "INVALID_TRANSITION", extensions: expect.objectContaining({ status: "PASSWORD_EXPIRED" }) });
  });

  test("with a phone required, the phone comes first and the session remembers it", async () => {
    const phone = "+447400790002";
    const { user, factor } = await userWithPhone(gateway, phone);
    await requirePhone(gateway);
    await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });

    const first = await signIn(user.login);
    expect(first.status).toBe("MFA_REQUIRED");
    expect((await reset(first.stateHandle, NEW_PASSWORD)).errors?.[0]?.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      status: "MFA_REQUIRED",
    });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: first.stateHandle, factorId: factor.id } });
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, {
      input: { stateHandle: first.stateHandle, code: await receivedCode(gateway, phone) },
    });
    expect(verifyFactor).toMatchObject({ status: "PASSWORD_EXPIRED", sessionToken: null, challenge: null });

    const replaced = await reset(first.stateHandle, NEW_PASSWORD);
    expect(replaced.data?.resetPassword.status).toBe("SUCCESS");
    const { me } = await gateway.client(`Bearer ${replaced.data!.resetPassword.sessionToken}`).ok(MySessionsDocument);
    expect(me?.sessions).toEqual([expect.objectContaining({ current: true, mfaVerifiedAt: expect.any(String) })]);
  });

  test("the password policy's passwordMaxAgeDays expires a password on the day it comes of age", async () => {
    await setPasswordPolicy(gateway, { passwordMaxAgeDays: 30 });
    try {
      const user = await createUser(gateway);
      const { passwordChanged } = await passwordOf(user.id);
      const expiresAt = new Date(new Date(passwordChanged!).getTime() + 30 * DAY_MS).toISOString();
      expect(await passwordOf(user.id)).toMatchObject({ passwordExpired: false, passwordExpiresAt: expiresAt });
      gateway.clock.advance(30 * DAY_MS - 60_000);
      expect(await passwordOf(user.id)).toMatchObject({ passwordExpired: false });
      expect((await signIn(user.login)).status).toBe("SUCCESS");

      gateway.clock.advance(60_000);
      expect(await passwordOf(user.id)).toMatchObject({ passwordExpired: true, passwordExpiresAt: expiresAt });
      const expired = await signIn(user.login);
      expect(expired.status).toBe("PASSWORD_EXPIRED");
      expect((await reset(expired.stateHandle, NEW_PASSWORD)).data?.resetPassword.status).toBe("SUCCESS");
      // The new password starts its own 30 days.
      const renewed = await passwordOf(user.id);
      expect(renewed).toMatchObject({
        passwordExpired: false,
        passwordExpiresAt: new Date(new Date(renewed.passwordChanged!).getTime() + 30 * DAY_MS).toISOString(),
      });
      gateway.clock.advance(29 * DAY_MS);
      expect((await signIn(user.login, NEW_PASSWORD)).status).toBe("SUCCESS");
    } finally {
      await setPasswordPolicy(gateway, {});
    }
  });

  test("passwordExpireWarnDays: a sign-in within the warning says when the password expires, after the phone step too", async () => {
    await setPasswordPolicy(gateway, { passwordMaxAgeDays: 30, passwordExpireWarnDays: 5 });
    try {
      const phone = "+447400790003";
      const { user, factor } = await userWithPhone(gateway, phone);
      const expiresAt = new Date(gateway.clock.now().getTime() + 30 * DAY_MS).toISOString();
      gateway.clock.advance(25 * DAY_MS - 60_000);
      expect(await signIn(user.login)).toMatchObject({ status: "SUCCESS", passwordExpiresAt: null });

      gateway.clock.advance(60_000);
      expect(await signIn(user.login)).toMatchObject({ status: "SUCCESS", sessionToken: expect.any(String), passwordExpiresAt: expiresAt });
      await requirePhone(gateway);
      const first = await signIn(user.login);
      expect(first).toMatchObject({ status: "MFA_REQUIRED", passwordExpiresAt: null });
      await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: first.stateHandle, factorId: factor.id } });
      const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, {
        input: { stateHandle: first.stateHandle, code: await receivedCode(gateway, phone) },
      });
      expect(verifyFactor).toMatchObject({ status: "SUCCESS", passwordExpiresAt: expiresAt });

      // Changing it in time starts a new age, and the warning stops.
      const session = gateway.client(`Bearer ${verifyFactor.sessionToken}`);
      await session.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });
      await passwordOnly(gateway);
      expect(await signIn(user.login, NEW_PASSWORD)).toMatchObject({ status: "SUCCESS", passwordExpiresAt: null });
    } finally {
      await setPasswordPolicy(gateway, {});
    }
  });

  test("the policy's history applies to the replacement as to any new password", async () => {
    await setPasswordPolicy(gateway, { passwordHistoryCount: 3 });
    try {
      const user = await createUser(gateway);
      for (const [from, to] of [
        [PASSWORD, NEW_PASSWORD],
        [NEW_PASSWORD, "the third long password"],
      ] as const) {
        await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
        const expired = await signIn(user.login, from);
        expect((await reset(expired.stateHandle, to)).data?.resetPassword.status).toBe("SUCCESS");
      }
      await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
      const expired = await signIn(user.login, "the third long password");
      expect((await reset(expired.stateHandle, PASSWORD)).errors?.[0]?.extensions).toMatchObject({
        code: "PASSWORD_POLICY",
        reason: "HISTORY:3",
      });
    } finally {
      await setPasswordPolicy(gateway, {});
    }
  });

  test("expirePassword: idempotent, and refused for a user with no password, a deactivated user, an unknown id and a non-admin", async () => {
    const user = await createUser(gateway);
    await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
    await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
    expect(await eventsOf(user.id, "user.account.expire_password")).toHaveLength(1);

    const { createUser: passwordless } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: `nopassword-${Date.now()}@example.com` },
    });
    expect(await gateway.admin.fails(ExpirePasswordDocument, { userId: passwordless.id })).toMatchObject({
      code: "CONFLICT",
      extensions: expect.objectContaining({ reason: "NO_PASSWORD" }),
    });
    const leaving = await createUser(gateway);
    await gateway.admin.ok(DeactivateUserDocument, { id: leaving.id });
    expect(await gateway.admin.fails(ExpirePasswordDocument, { userId: leaving.id })).toMatchObject({
      code: "CONFLICT",
      extensions: expect.objectContaining({ reason: "INVALID_LIFECYCLE_TRANSITION" }),
    });
    expect(await passwordOf(leaving.id)).toMatchObject({ passwordExpired: false });
    expect((await gateway.admin.fails(ExpirePasswordDocument, { userId: "usr_nobody" })).code).toBe("NOT_FOUND");

    const other = await createUser(gateway);
    const asUser = await signedIn(gateway, other.login);
    expect((await asUser.fails(ExpirePasswordDocument, { userId: other.id })).code).toBe("FORBIDDEN");
    expect((await passwordOf(other.id)).passwordExpired).toBe(false);
  });

  test("passwordMaxAgeDays and passwordExpireWarnDays: 0 to 999, PASSWORD policies only", async () => {
    const update = (input: Record<string, unknown>) =>
      gateway.admin.fails(UpdatePolicyDocument, {
        id: "pol_default_password",
        input: { type: "PASSWORD", name: "Default password policy", ...input },
      });
    expect(await update({ passwordMaxAgeDays: 1000 })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: expect.objectContaining({ field: "input.passwordMaxAgeDays" }),
    });
    expect((await update({ passwordMaxAgeDays: -1 })).code).toBe("BAD_USER_INPUT");
    expect(await update({ passwordExpireWarnDays: 1000 })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: expect.objectContaining({ field: "input.passwordExpireWarnDays" }),
    });
    const onSession = await gateway.admin.fails(UpdatePolicyDocument, {
      id: "pol_default_global_session",
      input: { type: "GLOBAL_SESSION", name: "Default global session policy", passwordMaxAgeDays: 30 },
    });
    expect(onSession).toMatchObject({ code: "BAD_USER_INPUT", extensions: expect.objectContaining({ field: "input.passwordMaxAgeDays" }) });
  });

  test("an expired password's sign-in cannot replace the password its owner set meanwhile: TRANSACTION_EXPIRED", async () => {
    const user = await createUser(gateway);
    await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
    // Whoever holds the leaked password stops at PASSWORD_EXPIRED; so does the owner, who replaces it.
    const intruder = await signIn(user.login);
    const owner = await signIn(user.login);
    expect([intruder.status, owner.status]).toEqual(["PASSWORD_EXPIRED", "PASSWORD_EXPIRED"]);
    await gateway.anonymous.ok(ResetPasswordDocument, { input: { stateHandle: owner.stateHandle, newPassword: NEW_PASSWORD } });

    const takeover = await gateway.anonymous.fails(ResetPasswordDocument, { input: { stateHandle: intruder.stateHandle, newPassword: "the intruder's own password" } });
    expect(takeover.code).toBe("TRANSACTION_EXPIRED");
    expect(await signIn(user.login, NEW_PASSWORD)).toMatchObject({ status: "SUCCESS" });
  });

  test("a sign-in waiting for its phone step goes no further once the password changed: TRANSACTION_EXPIRED", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400800901");
    await requirePhone(gateway);
    const intruder = await signIn(user.login);
    expect(intruder.status).toBe("MFA_REQUIRED");
    await passwordOnly(gateway);
    const owner = await signedIn(gateway, user.login);
    await owner.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });

    const challenge = await gateway.anonymous.fails(ChallengeFactorDocument, { input: { stateHandle: intruder.stateHandle, factorId: factor.id } });
    expect(challenge.code).toBe("TRANSACTION_EXPIRED");
  });
});
