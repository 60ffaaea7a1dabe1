/**
 * Threat: an attacker who knows the password cannot pass the phone step, so they fail its codes
 * until the user's phone factors are suspended, hoping the next sign-in lets them enroll a phone
 * of their own. A suspended phone is still the user's phone: the sign-in is DENIED, and the
 * suspension ends only by recovery through that phone or by an admin.
 */
import {
  ChallengeFactorDocument,
  CreatePolicyDocument,
  DeletePolicyDocument,
  EnrollFactorDocument,
  ReactivatePhoneFactorsDocument,
  SignInDocument,
  UpdateSecuritySettingsDocument,
  UserFactorsDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { receivedCode, wrongCodeFor } from "../../support/phone";
import { PASSWORD, passwordOnly, requirePhone, userWithPhone } from "../../support/transactions";

describe("sign-in with a suspended phone", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { maxConsecutiveFailedPasscodes: 5 } });
  });
  afterAll(() => gateway.stop());

  const signIn = async (login: string) => (await gateway.anonymous.ok(SignInDocument, { input: { login, password: PASSWORD } })).signIn;

  /** What the attacker does: the password, then wrong codes until the phone is suspended. */
  async function suspendByWrongCodes(login: string, factorId: string, phone: string) {
    const started = await signIn(login);
    expect(started.status).toBe("MFA_REQUIRED");
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: started.stateHandle, factorId } });
    const code = await receivedCode(gateway, phone);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await gateway.anonymous.fails(VerifyFactorDocument, {
        input: { stateHandle: started.stateHandle, code: wrongCodeFor(code, attempt) },
      });
    }
  }

  test("a sign-in that needs the phone is DENIED, with no enrollment offered, until an admin reactivates the phone", async () => {
    await requirePhone(gateway);
    const phone = "+447400940001";
    const { user, factor } = await userWithPhone(gateway, phone);
    await suspendByWrongCodes(user.login, factor.id, phone);
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors.map((f) => f.status)).toEqual(["INACTIVE"]);

    const denied = await signIn(user.login);
    expect(denied).toMatchObject({ status: "DENIED", sessionToken: null });
    const enroll = await gateway.anonymous.fails(EnrollFactorDocument, {
      input: { stateHandle: denied.stateHandle, phoneNumber: "+447400940099", method: "SMS" },
    });
    expect(enroll.code).toBe("TRANSACTION_EXPIRED");
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors).toHaveLength(1);
    const [refusal] = await gateway.db.manager.find(LogEventRecord, {
      where: { actorId: user.id, eventType: "user.session.start", outcomeReason: "PHONE_SUSPENDED" },
    });
    expect(refusal).toMatchObject({ outcomeResult: "FAILURE" });

    await gateway.admin.ok(ReactivatePhoneFactorsDocument, { userId: user.id });
    expect((await signIn(user.login)).status).toBe("MFA_REQUIRED");
  });

  test("an enrollment policy counts a suspended phone as enrolled: no other phone is asked for", async () => {
    await requirePhone(gateway);
    const phone = "+447400940002";
    const { user, factor } = await userWithPhone(gateway, phone);
    await suspendByWrongCodes(user.login, factor.id, phone);
    await passwordOnly(gateway);
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "AUTHENTICATOR_ENROLLMENT", name: "Everyone enrolls a phone", phoneEnrollment: "REQUIRED" },
    });
    try {
      expect((await signIn(user.login)).status).toBe("SUCCESS");
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });
});
