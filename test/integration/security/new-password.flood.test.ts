/**
 * Threat: a recovery's state handle, or a session and its password, used to keep the
 * password-hashing pool busy. Every new password tried is checked against the password history,
 * one scrypt hash per remembered password, and a refusal leaves the handle or session usable.
 * New passwords tried are limited per user, whatever becomes of them.
 */
import { ChangePasswordDocument, RecoverPasswordDocument, ResetPasswordDocument, VerifyFactorDocument } from "../../../src/generated/graphql";
import { NEW_PASSWORDS_PER_USER_PER_10M } from "../../../src/security/rate-limits";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, receivedCode } from "../../support/phone";
import { PASSWORD, setPasswordPolicy, signedIn, userWithPhone } from "../../support/transactions";

describe("new passwords tried per user", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());

  test("past the limit a change is RATE_LIMITED (limit user), even a valid one, and another user's is not", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(gateway, user.login, PASSWORD);
    const change = async (newPassword: string) =>
      (await session.request(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword } })).errors?.[0]?.extensions;
    for (let i = 0; i < NEW_PASSWORDS_PER_USER_PER_10M; i += 1) {
      expect(await change("short")).toMatchObject({ code: "PASSWORD_POLICY", reason: "MIN_LENGTH:8" });
    }
    expect(await change("a perfectly good new password")).toMatchObject({ code: "RATE_LIMITED", limit: "user", retryAfterSeconds: expect.any(Number) });

    const other = await createUser(gateway, { password: PASSWORD });
    const otherSession = await signedIn(gateway, other.login, PASSWORD);
    await otherSession.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: "a perfectly good new password" } });
  });

  test("past the limit a recovery's reset is RATE_LIMITED too, even with a valid password", async () => {
    const { user } = await userWithPhone(gateway, "+447400800061");
    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
    const code = await receivedCode(gateway, "+447400800061");
    await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code } });
    const reset = async (newPassword: string) =>
      (await gateway.anonymous.request(ResetPasswordDocument, { input: { stateHandle: recoverPassword.stateHandle, newPassword } })).errors?.[0]?.extensions;
    for (let i = 0; i < NEW_PASSWORDS_PER_USER_PER_10M; i += 1) {
      expect(await reset(PASSWORD)).toMatchObject({ code: "PASSWORD_POLICY", reason: "HISTORY:4" });
    }
    expect(await reset("a perfectly good new password")).toMatchObject({ code: "RATE_LIMITED", limit: "user" });
  });
});
