import {
  AddUserToGroupDocument,
  CreateGroupDocument,
  MeDocument,
  MySessionsDocument,
  RecoverPasswordDocument,
  ResetPasswordDocument,
  SignInDocument,
  UnlockAccountDocument,
  UserByIdDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, latestSimulated, receivedCode } from "../../support/phone";
import { PASSWORD, passwordOnly, setGlobalSessionRules, setPasswordPolicy, userWithPhone } from "../../support/transactions";

describe("recovery: account unlock and password reset by phone", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"], maxFailedAttempts: 3 });
  });
  afterAll(() => gateway.stop());

  test("locked out after the configured failures, then unlocked by SMS", async () => {
    const { user } = await userWithPhone(gateway, "+447400800001");
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await gateway.anonymous.fails(SignInDocument, { input: { login: user.login, password: "wrong password!" } })).code).toBe("INVALID_CREDENTIALS");
    }
    expect((await gateway.admin.ok(UserByIdDocument, { id: user.id })).user?.status).toBe("LOCKED_OUT");
    const locked = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(locked.signIn).toMatchObject({ status: "LOCKED_OUT", sessionToken: null });

    const { unlockAccount } = await gateway.anonymous.ok(UnlockAccountDocument, { input: { login: user.login, method: "SMS" } });
    expect(unlockAccount).toMatchObject({ status: "RECOVERY_CHALLENGE", user: null, challenge: null, factors: [] });
    const code = await receivedCode(gateway, "+447400800001");
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: unlockAccount.stateHandle, code } });
    expect(verifyFactor.status).toBe("SUCCESS");
    expect((await gateway.admin.ok(UserByIdDocument, { id: user.id })).user?.status).toBe("ACTIVE");
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
    const types = (await gateway.db.manager.find(LogEventRecord, { where: { actorId: user.id } })).map((e) => e.eventType);
    expect(types).toEqual(expect.arrayContaining(["user.account.lock", "user.account.unlock", "system.sms.send_account_unlock_message"]));
  });

  test("password reset by voice: the old sessions end, the old password stops working, the new one works", async () => {
    const { user } = await userWithPhone(gateway, "+447400800002");
    const before = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const oldSession = gateway.client(`Bearer ${before.signIn.sessionToken}`);
    expect((await oldSession.ok(MeDocument)).me?.id).toBe(user.id);

    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "VOICE" } });
    expect(recoverPassword.status).toBe("RECOVERY_CHALLENGE");
    const code = await receivedCode(gateway, "+447400800002");
    expect((await latestSimulated(gateway, "+447400800002"))?.channel).toBe("VOICE");
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code } });
    expect(verifyFactor.status).toBe("PASSWORD_RESET");
    const refusal = async (newPassword: string) =>
      (await gateway.anonymous.fails(ResetPasswordDocument, { input: { stateHandle: recoverPassword.stateHandle, newPassword } })).extensions;
    expect(await refusal("short")).toMatchObject({ code: "PASSWORD_POLICY", reason: "MIN_LENGTH:8" });
    expect(await refusal("iloveyou123")).toMatchObject({ code: "PASSWORD_POLICY", reason: "COMMON_PASSWORD" });
    // The default policy remembers 4 passwords, the current one among them.
    expect(await refusal(PASSWORD)).toMatchObject({ code: "PASSWORD_POLICY", reason: "HISTORY:4" });
    expect(await refusal(`${user.login.split("@")[0]} and a long tail`)).toMatchObject({ code: "PASSWORD_POLICY", reason: "CONTAINS_USERNAME" });
    const { resetPassword } = await gateway.anonymous.ok(ResetPasswordDocument, { input: { stateHandle: recoverPassword.stateHandle, newPassword: "a brand new passphrase" } });
    expect(resetPassword.status).toBe("SUCCESS");
    expect(resetPassword.sessionToken).toMatch(/^rfs_/);
    expect((await oldSession.request(MeDocument)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await gateway.anonymous.fails(SignInDocument, { input: { login: user.login, password: PASSWORD } })).code).toBe("INVALID_CREDENTIALS");
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: "a brand new passphrase" } })).signIn.status).toBe("SUCCESS");
    const types = (await gateway.db.manager.find(LogEventRecord, { where: { actorId: user.id } })).map((e) => e.eventType);
    expect(types).toEqual(expect.arrayContaining(["user.account.reset_password", "system.voice.send_password_reset_call"]));
  });

  test("a password reset's session follows the sign-on policy: its lifetime, and none where a rule denies one", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "no-sessions-here" });
    await setGlobalSessionRules(gateway, [
      { name: "Not this group", priority: 1, groupIds: [createGroup.id], access: "DENY" },
      { name: "Short sessions", priority: 2, access: "ALLOW", factorRequirement: "PASSWORD_ONLY", sessionLifetimeMinutes: 15 },
    ]);
    try {
      const reset = async (phone: string, newPassword: string, inGroup: boolean) => {
        const { user } = await userWithPhone(gateway, phone);
        if (inGroup) await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });
        const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
        const code = await receivedCode(gateway, phone);
        await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code } });
        const { resetPassword } = await gateway.anonymous.ok(ResetPasswordDocument, { input: { stateHandle: recoverPassword.stateHandle, newPassword } });
        return { user, resetPassword };
      };

      const allowed = await reset("+447400800011", "a brand new passphrase", false);
      expect(allowed.resetPassword.status).toBe("SUCCESS");
      const { me } = await gateway.client(`Bearer ${allowed.resetPassword.sessionToken}`).ok(MySessionsDocument);
      const session = me!.sessions.find((candidate) => candidate.current)!;
      expect(new Date(session.expiresAt).getTime() - new Date(session.created).getTime()).toBe(15 * 60_000);

      const denied = await reset("+447400800012", "another brand new passphrase", true);
      expect(denied.resetPassword).toMatchObject({ status: "DENIED", sessionToken: null });
      // The new password stands: the phone proved the recovery.
      const signIn = await gateway.anonymous.ok(SignInDocument, { input: { login: denied.user.login, password: "another brand new passphrase" } });
      expect(signIn.signIn.status).toBe("DENIED");
      const refusals = await gateway.db.manager.find(LogEventRecord, { where: { actorId: denied.user.id, eventType: "user.session.start", outcomeResult: "FAILURE" } });
      expect(refusals.map((event) => event.outcomeReason)).toContain("DENIED_BY_GLOBAL_SESSION_RULE");
    } finally {
      await passwordOnly(gateway);
    }
  });

  test("a policy that hides lockouts refuses a locked account as a wrong password, the right one included", async () => {
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"], maxFailedAttempts: 3, showLockoutFailures: false });
    try {
      const { user } = await userWithPhone(gateway, "+447400800004");
      const answer = async (login: string, password: string) => {
        const error = await gateway.anonymous.fails(SignInDocument, { input: { login, password } });
        return { code: error.code, message: error.message };
      };
      const unknownLogin = await answer("nobody-at-all@example.com", "wrong password!");
      expect(unknownLogin.code).toBe("INVALID_CREDENTIALS");
      for (let attempt = 0; attempt < 3; attempt += 1) expect(await answer(user.login, "wrong password!")).toEqual(unknownLogin);
      expect((await gateway.admin.ok(UserByIdDocument, { id: user.id })).user?.status).toBe("LOCKED_OUT");

      expect(await answer(user.login, PASSWORD)).toEqual(unknownLogin);
      expect(await answer(user.login, "wrong password!")).toEqual(unknownLogin);
      const refusals = await gateway.db.manager.find(LogEventRecord, { where: { actorId: user.id, eventType: "user.session.start", outcomeReason: "LOCKED_OUT" } });
      expect(refusals).toHaveLength(2);

      const { unlockAccount } = await gateway.anonymous.ok(UnlockAccountDocument, { input: { login: user.login, method: "SMS" } });
      const code = await receivedCode(gateway, "+447400800004");
      expect((await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: unlockAccount.stateHandle, code } })).verifyFactor.status).toBe("SUCCESS");
      expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
    } finally {
      await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"], maxFailedAttempts: 3 });
    }
  });

  test("recovery by a method the password policy does not allow is METHOD_NOT_ALLOWED", async () => {
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"], maxFailedAttempts: 3 });
    try {
      const { user } = await userWithPhone(gateway, "+447400800003");
      const error = await gateway.anonymous.fails(RecoverPasswordDocument, { input: { login: user.login, method: "VOICE" } });
      expect(error.code).toBe("METHOD_NOT_ALLOWED");
      expect(error.extensions?.allowedMethods).toEqual(["SMS"]);
    } finally {
      await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"], maxFailedAttempts: 3 });
    }
  });

  test("a decoy recovery refuses every code and runs out of attempts like a real one", async () => {
    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: "ghost@example.com", method: "SMS" } });
    for (let remaining = 4; remaining >= 0; remaining -= 1) {
      const error = await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code: "123456" } });
      expect(error.code).toBe("INVALID_CODE");
      expect(error.extensions?.attemptsRemaining).toBe(remaining);
    }
    expect((await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code: "123456" } })).code).toBe("TOO_MANY_ATTEMPTS");
  });

  test("a user with no phone can still sign in normally after a recovery attempt", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
  });
});
