/**
 * A signed-in user changing their own phones. Threat: a stolen session token. Were it enough, it
 * could add the thief's phone, and a password recovery (which anyone may start with the login)
 * would send its code there; or remove the user's phone. So the session must have proven the
 * phone lately, or, for a first phone, signed in lately. Admins are not asked.
 */
import {
  AddUserToGroupDocument,
  ChallengePhoneFactorDocument,
  CreateGroupDocument,
  CreatePolicyDocument,
  DeletePolicyDocument,
  DeletePhoneFactorDocument,
  EnrollPhoneFactorDocument,
  MySessionsDocument,
  VerifyChallengeDocument,
} from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, receivedCode } from "../../support/phone";
import { PASSWORD, signedIn, userWithPhone } from "../../support/transactions";

const MINUTE = 60_000;

describe("a user's own phone changes need a recent proof", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("with a phone: refused until the session proves it, then allowed for 15 minutes", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400610001");
    const session = await signedIn(gateway, user.login, PASSWORD);
    const enrollThief = () => session.request(EnrollPhoneFactorDocument, { input: { phoneNumber: "+447400610002", method: "SMS" } });

    expect((await enrollThief()).errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", reason: "REAUTHENTICATION_REQUIRED" });
    expect((await session.fails(DeletePhoneFactorDocument, { id: factor.id })).extensions).toMatchObject({
      code: "FORBIDDEN",
      reason: "REAUTHENTICATION_REQUIRED",
    });
    expect(await gateway.db.manager.query("SELECT 1 FROM messages WHERE to_e164 = '+447400610002'")).toEqual([]);

    const { challengePhoneFactor } = await session.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await session.ok(VerifyChallengeDocument, {
      input: { challengeId: challengePhoneFactor.id, code: await receivedCode(gateway, "+447400610001") },
    });
    const { me } = await session.ok(MySessionsDocument);
    expect(me?.sessions.map((one) => one.mfaVerifiedAt)).toEqual([gateway.clock.now().toISOString()]);

    expect((await enrollThief()).errors).toBeUndefined();
    gateway.clock.advance(16 * MINUTE);
    expect((await session.fails(DeletePhoneFactorDocument, { id: factor.id })).extensions).toMatchObject({
      code: "FORBIDDEN",
      reason: "REAUTHENTICATION_REQUIRED",
    });
  });

  test("without a phone: a first one may be added within 15 minutes of signing in, not after", async () => {
    const first = await createUser(gateway, { password: PASSWORD });
    const fresh = await signedIn(gateway, first.login, PASSWORD);
    expect(
      (await fresh.request(EnrollPhoneFactorDocument, { input: { phoneNumber: "+447400610003", method: "SMS" } })).errors,
    ).toBeUndefined();

    const later = await createUser(gateway, { password: PASSWORD });
    const old = await signedIn(gateway, later.login, PASSWORD);
    gateway.clock.advance(16 * MINUTE);
    expect(
      (await old.fails(EnrollPhoneFactorDocument, { input: { phoneNumber: "+447400610004", method: "SMS" } })).extensions,
    ).toMatchObject({
      code: "FORBIDDEN",
      reason: "REAUTHENTICATION_REQUIRED",
    });
  });

  test("an admin token changes any user's phones without a proof of its own", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400610005");
    gateway.clock.advance(16 * MINUTE);
    expect(await gateway.admin.ok(DeletePhoneFactorDocument, { id: factor.id })).toEqual({ deletePhoneFactor: true });
    await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400610006", method: "SMS" } });
  });

  test("a user whose enrollment policy does not allow a phone cannot enroll one from their session; an admin can", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "no-phones" });
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: {
        type: "AUTHENTICATOR_ENROLLMENT",
        name: "No phones",
        priority: 1,
        groupIds: [createGroup.id],
        phoneEnrollment: "NOT_ALLOWED",
      },
    });
    try {
      const user = await createUser(gateway, { password: PASSWORD });
      await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });
      const session = await signedIn(gateway, user.login, PASSWORD);
      expect(
        (await session.fails(EnrollPhoneFactorDocument, { input: { phoneNumber: "+447400610007", method: "SMS" } })).extensions,
      ).toMatchObject({
        code: "METHOD_NOT_ALLOWED",
        allowedMethods: [],
      });
      await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400610007", method: "SMS" } });
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });
});
