import {
  ActivatePhoneFactorDocument,
  SignInDocument,
  UpdatePolicyDocument,
  type PolicyRuleInput,
} from "../../src/generated/graphql";
import type { TestGateway } from "./gateway";
import { createUser, enroll, receivedCode } from "./phone";

export const PASSWORD = "a long enough password";

/** A password sign-in's session (the global policy asking for no phone), as a client holding its token. */
export async function signedIn(gateway: TestGateway, login: string, password = PASSWORD) {
  const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login, password } });
  return gateway.client(`Bearer ${signIn.sessionToken}`);
}

/** Replaces the rules of the default global session policy. */
export async function setGlobalSessionRules(gateway: TestGateway, rules: PolicyRuleInput[]) {
  await gateway.admin.ok(UpdatePolicyDocument, {
    id: "pol_default_global_session",
    input: { type: "GLOBAL_SESSION", name: "Default global session policy", rules },
  });
}

export const requirePhone = (gateway: TestGateway, methods?: ("SMS" | "VOICE")[]) =>
  setGlobalSessionRules(gateway, [{ name: "Phone for everyone", access: "ALLOW", factorRequirement: "PASSWORD_AND_PHONE", methods }]);

export const passwordOnly = (gateway: TestGateway) =>
  setGlobalSessionRules(gateway, [{ name: "Catch-all rule", access: "ALLOW", factorRequirement: "PASSWORD_ONLY" }]);

export async function setPasswordPolicy(
  gateway: TestGateway,
  input: { recoveryMethods?: ("SMS" | "VOICE")[]; maxFailedAttempts?: number; autoUnlockMinutes?: number; minLength?: number; passwordHistoryCount?: number; passwordMaxAgeDays?: number; passwordExpireWarnDays?: number; passwordMinAgeMinutes?: number; showLockoutFailures?: boolean },
) {
  await gateway.admin.ok(UpdatePolicyDocument, {
    id: "pol_default_password",
    input: { type: "PASSWORD", name: "Default password policy", ...input },
  });
}

/** A user with an ACTIVE phone factor at `phoneNumber`. */
export async function userWithPhone(gateway: TestGateway, phoneNumber: string, method: "SMS" | "VOICE" = "SMS") {
  const user = await createUser(gateway, { password: PASSWORD });
  const { factor } = await enroll(gateway, user.id, phoneNumber, method);
  await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phoneNumber) } });
  return { user, factor };
}
