/**
 * The password policy's passwordMinAgeMinutes (Okta's minAgeMinutes). Threat: a user who must
 * change their password changes it again and again until the history has forgotten the old one,
 * and then takes the old one back. Recovery and an expired password are not held to it: the
 * first is for someone who no longer knows their password, the second must change.
 */
import {
  ChangePasswordDocument,
  ExpirePasswordDocument,
  MeDocument,
  MyPasswordDocument,
  RecoverPasswordDocument,
  ResetPasswordDocument,
  SignInDocument,
  UpdatePolicyDocument,
  UserPasswordDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { User } from "../../../src/users/user.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, receivedCode } from "../../support/phone";
import { PASSWORD, passwordOnly, setPasswordPolicy, signedIn, userWithPhone } from "../../support/transactions";

const MINUTE_MS = 60_000;

describe("passwordMinAgeMinutes", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await passwordOnly(gateway);
  });
  afterAll(() => gateway.stop());
  beforeEach(() => setPasswordPolicy(gateway, { passwordMinAgeMinutes: 60, recoveryMethods: ["SMS"] }));
  afterEach(() => setPasswordPolicy(gateway, {}));

  const change = async (login: string, currentPassword: string, newPassword: string) => {
    const session = await signedIn(gateway, login, currentPassword);
    return session.request(ChangePasswordDocument, { input: { currentPassword, newPassword } });
  };

  test("a change before the password is that old is PASSWORD_POLICY MIN_AGE with the wait, and changes nothing; from then on it goes through", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    // The password an admin set counts from its creation, as any other.
    expect((await change(user.login, PASSWORD, "the second long password")).errors?.[0]?.extensions).toMatchObject({
      code: "PASSWORD_POLICY",
      reason: "MIN_AGE:60",
      retryAfterSeconds: 3_600,
    });

    gateway.clock.advance(60 * MINUTE_MS);
    expect((await change(user.login, PASSWORD, "the second long password")).data).toEqual({ changePassword: true });
    const changed = await gateway.db.manager.findOneByOrFail(User, { id: user.id });

    gateway.clock.advance(59 * MINUTE_MS);
    const early = await change(user.login, "the second long password", "the third long password");
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: "PASSWORD_POLICY", reason: "MIN_AGE:60", retryAfterSeconds: 60 });
    expect(early.errors?.[0]?.message).toContain(new Date(changed.passwordChanged!.getTime() + 60 * MINUTE_MS).toISOString());
    expect(await gateway.db.manager.findOneByOrFail(User, { id: user.id })).toMatchObject({
      passwordHash: changed.passwordHash,
      failedLogins: 0,
    });
    const updates = await gateway.db.manager.find(LogEventRecord, {
      where: { actorId: user.id, eventType: "user.account.update_password" },
    });
    expect(updates.map((event) => event.outcomeResult)).toEqual(["SUCCESS"]);

    gateway.clock.advance(MINUTE_MS);
    expect((await change(user.login, "the second long password", "the third long password")).data).toEqual({ changePassword: true });
    expect(
      (await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: "the third long password" } })).signIn.status,
    ).toBe("SUCCESS");
  });

  test("a wrong current password is still INVALID_CREDENTIALS and counts, whatever the password's age", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(gateway, user.login);
    const { code } = await session.fails(ChangePasswordDocument, {
      input: { currentPassword: "not the password", newPassword: "the second long password" },
    });
    expect(code).toBe("INVALID_CREDENTIALS");
    expect((await gateway.db.manager.findOneByOrFail(User, { id: user.id })).failedLogins).toBe(1);
  });

  test("an expired password changes at once, from a session or from the sign-in that found it expired", async () => {
    const fromSession = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(gateway, fromSession.login);
    await gateway.admin.ok(ExpirePasswordDocument, { userId: fromSession.id });
    expect(
      await session.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: "the second long password" } }),
    ).toEqual({
      changePassword: true,
    });
    // The new password is young, and no longer expired: the minimum holds again.
    expect(
      (
        await session.fails(ChangePasswordDocument, {
          input: { currentPassword: "the second long password", newPassword: "the third long password" },
        })
      ).extensions,
    ).toMatchObject({
      reason: "MIN_AGE:60",
    });

    const fromSignIn = await createUser(gateway, { password: PASSWORD });
    await gateway.admin.ok(ExpirePasswordDocument, { userId: fromSignIn.id });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: fromSignIn.login, password: PASSWORD } });
    expect(signIn.status).toBe("PASSWORD_EXPIRED");
    const { resetPassword } = await gateway.anonymous.ok(ResetPasswordDocument, {
      input: { stateHandle: signIn.stateHandle, newPassword: "the second long password" },
    });
    expect(resetPassword.status).toBe("SUCCESS");
  });

  test("User.passwordChangeAllowedAt says when changePassword will take a new password, to the user and to admins", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const { passwordChanged } = (await gateway.admin.ok(UserPasswordDocument, { id: user.id })).user!;
    const allowedAt = new Date(new Date(passwordChanged!).getTime() + 60 * MINUTE_MS).toISOString();
    const session = await signedIn(gateway, user.login);
    expect((await session.ok(MyPasswordDocument)).me).toMatchObject({ id: user.id, passwordChangeAllowedAt: allowedAt });
    expect((await gateway.admin.ok(UserPasswordDocument, { id: user.id })).user).toMatchObject({ passwordChangeAllowedAt: allowedAt });

    gateway.clock.advance(60 * MINUTE_MS);
    expect((await gateway.admin.ok(UserPasswordDocument, { id: user.id })).user).toMatchObject({ passwordChangeAllowedAt: null });

    const expired = await createUser(gateway, { password: PASSWORD });
    await gateway.admin.ok(ExpirePasswordDocument, { userId: expired.id });
    expect((await gateway.admin.ok(UserPasswordDocument, { id: expired.id })).user).toMatchObject({
      passwordExpired: true,
      passwordChangeAllowedAt: null,
    });
  });

  test("a recovery by phone sets a new password however young the old one is", async () => {
    const phone = "+447400810001";
    const { user } = await userWithPhone(gateway, phone);
    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, {
      input: { stateHandle: recoverPassword.stateHandle, code: await receivedCode(gateway, phone) },
    });
    expect(verifyFactor.status).toBe("PASSWORD_RESET");
    const { resetPassword } = await gateway.anonymous.ok(ResetPasswordDocument, {
      input: { stateHandle: recoverPassword.stateHandle, newPassword: "the second long password" },
    });
    expect(resetPassword.status).toBe("SUCCESS");
    expect((await gateway.client(`Bearer ${resetPassword.sessionToken}`).ok(MeDocument)).me?.id).toBe(user.id);
  });

  test("the setting: 0 to 9999, PASSWORD policies only, and shown on the policy", async () => {
    const update = async (input: Record<string, unknown>) =>
      gateway.admin.request(UpdatePolicyDocument, {
        id: "pol_default_password",
        input: { type: "PASSWORD", name: "Default password policy", ...input },
      });
    for (const minutes of [-1, 10_000]) {
      expect((await update({ passwordMinAgeMinutes: minutes })).errors?.[0]?.extensions).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "input.passwordMinAgeMinutes",
      });
    }
    expect((await update({ passwordMinAgeMinutes: 9_999 })).data?.updatePolicy.passwordMinAgeMinutes).toBe(9_999);
    expect((await update({})).data?.updatePolicy.passwordMinAgeMinutes).toBe(0);
    const onSession = await gateway.admin.request(UpdatePolicyDocument, {
      id: "pol_default_global_session",
      input: { type: "GLOBAL_SESSION", name: "Default global session policy", passwordMinAgeMinutes: 60 },
    });
    expect(onSession.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.passwordMinAgeMinutes" });
  });
});
