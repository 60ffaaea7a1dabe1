/**
 * An admin's lifecycle change and a user's flow at the same time. Threat: an account an admin
 * has suspended or deactivated comes back to life through a flow begun before, or through the
 * sessions it had; and a locked-out user with no phone has no way back but an admin.
 */
import {
  ActivatePhoneFactorDocument,
  ActivateUserDocument,
  AddUserToGroupDocument,
  ChallengeFactorDocument,
  CreateGroupDocument,
  CreateUserDocument,
  DeactivateUserDocument,
  MeDocument,
  RecoverPasswordDocument,
  ResendFactorChallengeDocument,
  ResetPasswordDocument,
  SignInDocument,
  SuspendUserDocument,
  UnlockAccountDocument,
  UnlockUserDocument,
  UnsuspendUserDocument,
  UserByIdDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { Message } from "../../../src/telephony/message.entity";
import { User } from "../../../src/users/user.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, receivedCode } from "../../support/phone";
import {
  PASSWORD,
  passwordOnly,
  requirePhone,
  setGlobalSessionRules,
  setPasswordPolicy,
  signedIn,
  userWithPhone,
} from "../../support/transactions";

describe("lifecycle changes during flows", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await setPasswordPolicy(gateway, { maxFailedAttempts: 3, recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());
  beforeEach(() => passwordOnly(gateway));

  const statusOf = async (id: string) => (await gateway.admin.ok(UserByIdDocument, { id })).user?.status;
  const wrongPassword = (login: string) => gateway.anonymous.fails(SignInDocument, { input: { login, password: "not the password" } });
  const lockOut = async (login: string) => {
    for (let attempt = 0; attempt < 3; attempt += 1) await wrongPassword(login);
  };

  test("unlockUser: a locked-out user is ACTIVE again with the failed passwords forgiven; any other status is CONFLICT", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    await lockOut(user.login);
    expect(await statusOf(user.id)).toBe("LOCKED_OUT");

    expect((await gateway.admin.ok(UnlockUserDocument, { id: user.id })).unlockUser.status).toBe("ACTIVE");
    expect(await gateway.db.manager.findOneByOrFail(User, { id: user.id })).toMatchObject({ failedLogins: 0, lockedAt: null });
    await wrongPassword(user.login);
    expect(await statusOf(user.id)).toBe("ACTIVE");
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe(
      "SUCCESS",
    );
    const [event] = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "user.account.unlock_by_admin" } });
    expect(event).toMatchObject({
      actorType: "ApiToken",
      outcomeResult: "SUCCESS",
      debugContext: expect.objectContaining({ previousStatus: "LOCKED_OUT", status: "ACTIVE" }),
    });

    const again = await gateway.admin.fails(UnlockUserDocument, { id: user.id });
    expect(again).toMatchObject({ code: "CONFLICT", extensions: expect.objectContaining({ reason: "INVALID_LIFECYCLE_TRANSITION" }) });
    const session = await signedIn(gateway, user.login);
    expect((await session.fails(UnlockUserDocument, { id: user.id })).code).toBe("FORBIDDEN");
  });

  test("a reactivation forgives the failed passwords too: the next typo does not lock the account again", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    await lockOut(user.login);
    await gateway.admin.ok(DeactivateUserDocument, { id: user.id });
    await gateway.admin.ok(ActivateUserDocument, { id: user.id });
    await wrongPassword(user.login);
    expect(await statusOf(user.id)).toBe("ACTIVE");
  });

  test("suspending or deactivating ends the user's sessions: an unsuspend or a reactivation does not bring them back", async () => {
    const roundTrips = [
      {
        away: (id: string) => gateway.admin.ok(SuspendUserDocument, { id }),
        back: (id: string) => gateway.admin.ok(UnsuspendUserDocument, { id }),
      },
      {
        away: (id: string) => gateway.admin.ok(DeactivateUserDocument, { id }),
        back: (id: string) => gateway.admin.ok(ActivateUserDocument, { id }),
      },
    ];
    for (const { away, back } of roundTrips) {
      const user = await createUser(gateway, { password: PASSWORD });
      const session = await signedIn(gateway, user.login);
      await away(user.id);
      await back(user.id);
      expect((await session.fails(MeDocument)).code).toBe("UNAUTHENTICATED");
    }
  });

  test("an account suspended between the password and the phone gets no session from the right code", async () => {
    await requirePhone(gateway);
    const phone = "+447400950001";
    const { user, factor } = await userWithPhone(gateway, phone);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    const code = await receivedCode(gateway, phone);
    await gateway.admin.ok(SuspendUserDocument, { id: user.id });

    expect((await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } })).code).toBe(
      "TRANSACTION_EXPIRED",
    );
    expect(await statusOf(user.id)).toBe("SUSPENDED");
  });

  test("an account deactivated during its unlock by phone stays deactivated", async () => {
    const phone = "+447400950002";
    const { user } = await userWithPhone(gateway, phone);
    await lockOut(user.login);
    const { unlockAccount } = await gateway.anonymous.ok(UnlockAccountDocument, { input: { login: user.login, method: "SMS" } });
    const code = await receivedCode(gateway, phone);
    await gateway.admin.ok(DeactivateUserDocument, { id: user.id });

    expect((await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: unlockAccount.stateHandle, code } })).code).toBe(
      "TRANSACTION_EXPIRED",
    );
    expect(await statusOf(user.id)).toBe("DEPROVISIONED");
  });

  test("failed passwords while suspended do not count: after the unsuspend the next typo does not lock the account", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    await gateway.admin.ok(SuspendUserDocument, { id: user.id });
    await lockOut(user.login);
    await gateway.admin.ok(UnsuspendUserDocument, { id: user.id });
    await wrongPassword(user.login);
    expect(await statusOf(user.id)).toBe("ACTIVE");
  });

  test("a lockout ends the user's sessions: an unlock does not bring back one a password guesser held", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(gateway, user.login);
    await lockOut(user.login);
    await gateway.admin.ok(UnlockUserDocument, { id: user.id });

    expect((await session.fails(MeDocument)).code).toBe("UNAUTHENTICATED");
    const [locked] = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "user.account.lock", actorId: user.id } });
    expect(locked?.debugContext).toMatchObject({ endedSessions: 1 });
  });

  test("a sign-in of an account suspended after its password sends no code: challenge and resend are TRANSACTION_EXPIRED", async () => {
    await requirePhone(gateway);
    const phone = "+447400950003";
    const { user, factor } = await userWithPhone(gateway, phone);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await gateway.admin.ok(SuspendUserDocument, { id: user.id });
    const sent = () => gateway.db.manager.countBy(Message, { userId: user.id });
    const before = await sent();

    const challenge = await gateway.anonymous.fails(ChallengeFactorDocument, {
      input: { stateHandle: signIn.stateHandle, factorId: factor.id },
    });
    expect(challenge.code).toBe("TRANSACTION_EXPIRED");
    expect(await sent()).toBe(before);

    const other = await userWithPhone(gateway, "+447400950004");
    const started = await gateway.anonymous.ok(SignInDocument, { input: { login: other.user.login, password: PASSWORD } });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: started.signIn.stateHandle, factorId: other.factor.id } });
    await gateway.admin.ok(DeactivateUserDocument, { id: other.user.id });
    const sentToOther = await gateway.db.manager.countBy(Message, { userId: other.user.id });
    const resend = await gateway.anonymous.fails(ResendFactorChallengeDocument, { input: { stateHandle: started.signIn.stateHandle } });
    expect(resend.code).toBe("TRANSACTION_EXPIRED");
    expect(await gateway.db.manager.countBy(Message, { userId: other.user.id })).toBe(sentToOther);
  });

  test("a recovery's new password is refused once the account is suspended, even where the sign-on policy denies a session", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "suspended-mid-recovery" });
    await setGlobalSessionRules(gateway, [
      { name: "Not this group", priority: 1, groupIds: [createGroup.id], access: "DENY" },
      { name: "Everyone else", priority: 2, access: "ALLOW", factorRequirement: "PASSWORD_ONLY" },
    ]);
    const phone = "+447400950005";
    const { user } = await userWithPhone(gateway, phone);
    await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });
    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
    const code = await receivedCode(gateway, phone);
    await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code } });
    await gateway.admin.ok(SuspendUserDocument, { id: user.id });
    const { passwordHash } = await gateway.db.manager.findOneByOrFail(User, { id: user.id });

    const reset = await gateway.anonymous.fails(ResetPasswordDocument, {
      input: { stateHandle: recoverPassword.stateHandle, newPassword: "a password set while suspended" },
    });
    expect(reset.code).toBe("TRANSACTION_EXPIRED");
    expect(await gateway.db.manager.findOneByOrFail(User, { id: user.id })).toMatchObject({ status: "SUSPENDED", passwordHash });
    expect(await gateway.db.manager.countBy(LogEventRecord, { eventType: "user.account.reset_password", actorId: user.id })).toBe(0);
  });

  test("a user created without a password sets one by recovering it with the phone an admin enrolled, and is ACTIVE", async () => {
    const phone = "+447400950006";
    const { createUser: provisioned } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: `provisioned-${Date.now()}@example.com` },
    });
    expect(provisioned.status).toBe("PROVISIONED");
    const { factor } = await enroll(gateway, provisioned.id, phone);
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phone) } });

    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: provisioned.login, method: "SMS" } });
    const code = await receivedCode(gateway, phone);
    await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code } });
    const { resetPassword } = await gateway.anonymous.ok(ResetPasswordDocument, {
      input: { stateHandle: recoverPassword.stateHandle, newPassword: "a first password of my own" },
    });

    expect(resetPassword.status).toBe("SUCCESS");
    expect(await statusOf(provisioned.id)).toBe("ACTIVE");
    const { signIn } = await gateway.anonymous.ok(SignInDocument, {
      input: { login: provisioned.login, password: "a first password of my own" },
    });
    expect(signIn.status).toBe("SUCCESS");
  });
});
