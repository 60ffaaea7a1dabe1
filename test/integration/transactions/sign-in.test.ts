import {
  ActivatePhoneFactorDocument,
  ChallengeFactorDocument,
  ClearUserSessionsDocument,
  PhoneAuthenticatorDocument,
  CreateGroupDocument,
  CreatePolicyDocument,
  DeletePhoneFactorDocument,
  EnrollFactorDocument,
  MeDocument,
  MySessionsDocument,
  RevokeSessionDocument,
  UserSessionsDocument,
  ResendFactorChallengeDocument,
  SignInDocument,
  SignOutDocument,
  UpdatePolicyDocument,
  UserFactorsDocument,
  VerifyFactorDocument,
  VerifyChallengeDocument,
  AddUserToGroupDocument,
  CancelTransactionDocument,
  ChallengePhoneFactorDocument,
  DeletePolicyDocument,
  PoliciesDocument,
  ResetPasswordDocument,
  UpdatePhoneAuthenticatorDocument,
  SuspendUserDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { Challenge } from "../../../src/phone/challenge.entity";
import { Message } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, receivedCode, latestSimulated } from "../../support/phone";
import { PASSWORD, passwordOnly, requirePhone, setGlobalSessionRules, signedIn as signedInAs, userWithPhone } from "../../support/transactions";

describe("sign-in transactions", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());
  afterEach(() => passwordOnly(gateway));

  test("password only: SUCCESS with a session token that works as Bearer for me, until signOut", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login.toUpperCase(), password: PASSWORD } });
    expect(signIn).toMatchObject({ status: "SUCCESS", user: { id: user.id, login: user.login } });
    expect(signIn.sessionToken).toMatch(/^rfs_/);
    const session = gateway.client(`Bearer ${signIn.sessionToken}`);
    expect((await session.ok(MeDocument)).me?.id).toBe(user.id);
    expect(await session.ok(SignOutDocument)).toEqual({ signOut: true });
    const after = await session.request(MeDocument);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const events = await gateway.db.manager.find(LogEventRecord, { where: { actorId: user.id } });
    expect(events.map((e) => e.eventType)).toEqual(expect.arrayContaining(["policy.evaluate_sign_on", "user.session.start", "user.session.end"]));
  });

  const signedIn = (login: string) => signedInAs(gateway, login);

  test("a long password set with composed accents signs in typed decomposed, as the policy counts it after NFKC", async () => {
    const composed = `${"\u00e9t\u00e9 ".repeat(50)}!`; // 201 code points; 301 with each é as e and U+0301
    const user = await createUser(gateway, { password: composed });
    const decomposed = composed.normalize("NFD");
    expect([...decomposed].length).toBeGreaterThan(256);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: decomposed } });
    expect(signIn.status).toBe("SUCCESS");
  });

  test("a signOut whose session another request ended meanwhile answers false and logs no logout of its own", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(user.login);
    const { sessions } = gateway.services;
    const revoke = sessions.revoke.bind(sessions);
    // Ended by a second signOut or an admin's revokeSession between this one's check and its write.
    jest.spyOn(sessions, "revoke").mockImplementationOnce(async (tx, sessionId) => (await revoke(tx, sessionId)) && revoke(tx, sessionId));
    try {
      expect(await session.ok(SignOutDocument)).toEqual({ signOut: false });
    } finally {
      jest.restoreAllMocks();
    }
    expect(await gateway.db.manager.countBy(LogEventRecord, { actorId: user.id, eventType: "user.session.end" })).toBe(0);
  });

  test("clearUserSessions ends every session of that user and no other's, and logs how many it ended", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const other = await createUser(gateway, { password: PASSWORD });
    const [laptop, phone, bystander] = [await signedIn(user.login), await signedIn(user.login), await signedIn(other.login)];

    expect(await gateway.admin.ok(ClearUserSessionsDocument, { userId: user.id })).toEqual({ clearUserSessions: 2 });
    for (const session of [laptop, phone]) expect((await session.request(MeDocument)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await bystander.ok(MeDocument)).me?.id).toBe(other.id);
    expect(await gateway.admin.ok(ClearUserSessionsDocument, { userId: user.id })).toEqual({ clearUserSessions: 0 });
    // The user may sign in again: clearing sessions is not a suspension.
    expect((await (await signedIn(user.login)).ok(MeDocument)).me?.id).toBe(user.id);

    const cleared = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "user.session.clear" } });
    expect(cleared.map((event) => event.debugContext)).toEqual([{ sessions: 2 }]);
    expect((await gateway.admin.fails(ClearUserSessionsDocument, { userId: "usr_nobody" })).code).toBe("NOT_FOUND");
    expect((await laptop.fails(ClearUserSessionsDocument, { userId: other.id })).code).toBe("UNAUTHENTICATED");
    expect((await bystander.fails(ClearUserSessionsDocument, { userId: user.id })).code).toBe("FORBIDDEN");
  });

  test("a user sees their live sessions and signs another device out; an admin sees and ends anyone's; no one else may", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const other = await createUser(gateway, { password: PASSWORD });
    const laptop = await signedIn(user.login);
    gateway.clock.advance(60_000);
    const phone = await signedIn(user.login);
    const stranger = await signedIn(other.login);

    const seen = (await phone.ok(MySessionsDocument)).me!.sessions;
    expect(seen.map((session) => session.current)).toEqual([false, true]);
    const [laptopSession, phoneSession] = seen;
    expect(Date.parse(phoneSession!.created) - Date.parse(laptopSession!.created)).toBe(60_000);
    expect(Date.parse(phoneSession!.idleExpiresAt)).toBeLessThanOrEqual(Date.parse(phoneSession!.expiresAt));
    expect((await gateway.admin.ok(UserSessionsDocument, { id: user.id })).user!.sessions.map((session) => [session.id, session.current])).toEqual([
      [laptopSession!.id, false],
      [phoneSession!.id, false],
    ]);

    // Another's session is as unknown to a user as a made-up id.
    expect((await stranger.fails(RevokeSessionDocument, { id: laptopSession!.id })).code).toBe("NOT_FOUND");
    expect((await stranger.fails(UserSessionsDocument, { id: user.id })).code).toBe("FORBIDDEN");
    expect((await gateway.anonymous.fails(RevokeSessionDocument, { id: laptopSession!.id })).code).toBe("UNAUTHENTICATED");

    expect(await phone.ok(RevokeSessionDocument, { id: laptopSession!.id })).toEqual({ revokeSession: true });
    expect((await laptop.request(MeDocument)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await phone.ok(RevokeSessionDocument, { id: laptopSession!.id })).toEqual({ revokeSession: false });
    expect(await gateway.admin.ok(RevokeSessionDocument, { id: phoneSession!.id })).toEqual({ revokeSession: true });
    expect((await phone.request(MeDocument)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await gateway.admin.ok(UserSessionsDocument, { id: user.id })).user!.sessions).toEqual([]);
    expect((await stranger.ok(MeDocument)).me?.id).toBe(other.id);

    const ended = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "user.session.end", actorId: user.id } });
    expect(ended.filter((event) => event.displayMessage === "End user session")).toHaveLength(1);
    expect((await gateway.admin.fails(RevokeSessionDocument, { id: "ses_nothing" })).code).toBe("NOT_FOUND");
  });

  test("a session token stops working when it sits idle too long, when it outlives its lifetime, or when its user is suspended", async () => {
    await setGlobalSessionRules(gateway, [{ name: "Short sessions", access: "ALLOW", factorRequirement: "PASSWORD_ONLY", sessionIdleMinutes: 10, sessionLifetimeMinutes: 25 }]);
    const signedIn = async () => {
      const user = await createUser(gateway, { password: PASSWORD });
      return { user, session: await signedInAs(gateway, user.login) };
    };
    const refused = async (session: ReturnType<typeof gateway.client>) => (await session.request(MeDocument)).errors?.[0]?.extensions?.code;
    const minutes = (count: number) => gateway.clock.advance(count * 60_000);

    // Used every 9 minutes, a session stays alive past its idle limit, until its lifetime ends.
    const busy = await signedIn();
    const idle = await signedIn();
    for (let step = 0; step < 2; step++) {
      minutes(9);
      expect((await busy.session.ok(MeDocument)).me?.id).toBe(busy.user.id);
    }
    expect(await refused(idle.session)).toBe("UNAUTHENTICATED");
    minutes(8);
    expect(await refused(busy.session)).toBe("UNAUTHENTICATED");

    const suspended = await signedIn();
    expect((await suspended.session.ok(MeDocument)).me?.id).toBe(suspended.user.id);
    await gateway.admin.ok(SuspendUserDocument, { id: suspended.user.id });
    expect(await refused(suspended.session)).toBe("UNAUTHENTICATED");
  });

  test("a wrong password and an unknown login get the same INVALID_CREDENTIALS", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const wrong = await gateway.anonymous.fails(SignInDocument, { input: { login: user.login, password: "not the password" } });
    const unknown = await gateway.anonymous.fails(SignInDocument, { input: { login: "nobody@example.com", password: "not the password" } });
    expect([wrong.code, unknown.code]).toEqual(["INVALID_CREDENTIALS", "INVALID_CREDENTIALS"]);
    expect(wrong.message).toBe(unknown.message);
    expect(wrong.status).toBe(unknown.status);
  });

  test.each([
    ["SMS", "+447400700001"],
    ["VOICE", "+447400700002"],
  ] as const)("password + %s: MFA_REQUIRED, challengeFactor, verifyFactor, SUCCESS", async (method, phone) => {
    const { user, factor } = await userWithPhone(gateway, phone, method);
    await requirePhone(gateway);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(signIn.status).toBe("MFA_REQUIRED");
    expect(signIn.sessionToken).toBeNull();
    expect(signIn.factors).toEqual([{ factorId: factor.id, method, phoneNumber: expect.stringMatching(/^\+44 X+/) }]);
    const { challengeFactor } = await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    expect(challengeFactor).toMatchObject({ status: "MFA_CHALLENGE", challenge: { purpose: "FACTOR_VERIFY", method } });
    expect(challengeFactor.challenge?.messages[0]?.to).toMatch(/X/);
    const code = await receivedCode(gateway, phone);
    expect((await latestSimulated(gateway, phone))?.channel).toBe(method);
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } });
    expect(verifyFactor.status).toBe("SUCCESS");
    expect((await gateway.client(`Bearer ${verifyFactor.sessionToken}`).ok(MeDocument)).me?.id).toBe(user.id);
  });

  test("challengeFactor sent at once on one handle: the requests that lose the race send no code", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700061");
    await requirePhone(gateway);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const attempts = await Promise.all(
      Array.from({ length: 4 }, () => gateway.anonymous.request(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } })),
    );
    const succeeded = attempts.filter((attempt) => attempt.data?.challengeFactor);
    const lost = attempts.filter((attempt) => attempt.errors?.length);
    expect(succeeded.length + lost.length).toBe(4);
    // Lost the race to the step, or came after another's code went out, inside its cooldown.
    for (const attempt of lost) expect(["INVALID_TRANSITION", "RESEND_TOO_SOON"]).toContain(attempt.errors![0]!.extensions?.code);
    // Each code that went out belongs to a step that was taken: a lost request left no challenge, message or send event.
    const challenges = await gateway.db.manager.findBy(Challenge, { userId: user.id, purpose: "FACTOR_VERIFY" });
    expect(challenges.map((challenge) => challenge.id).sort()).toEqual(succeeded.map((attempt) => attempt.data!.challengeFactor.challenge!.id).sort());
    expect(await gateway.db.manager.countBy(Message, { userId: user.id, purpose: "FACTOR_VERIFY" })).toBe(succeeded.length);
    expect(await gateway.db.manager.countBy(LogEventRecord, { eventType: "system.sms.send_factor_verify_message", actorId: user.id })).toBe(succeeded.length);
  });

  test("challengeFactor asked again is a resend: RESEND_TOO_SOON inside the cooldown, and after it the earlier code stops working", async () => {
    const phone = "+447400700062";
    const { user, factor } = await userWithPhone(gateway, phone);
    await requirePhone(gateway);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const challengeAgain = () => gateway.anonymous.request(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    const first = (await challengeAgain()).data!.challengeFactor.challenge!;
    const firstCode = await receivedCode(gateway, phone);

    const tooSoon = await challengeAgain();
    expect(tooSoon.errors?.[0]?.extensions).toMatchObject({ code: "RESEND_TOO_SOON", retryAfterSeconds: expect.any(Number) });
    expect(await gateway.db.manager.countBy(Message, { userId: user.id, purpose: "FACTOR_VERIFY" })).toBe(1);

    gateway.clock.advance(61_000);
    const second = (await challengeAgain()).data!.challengeFactor.challenge!;
    expect(second.id).not.toBe(first.id);
    expect(await gateway.db.manager.findOneByOrFail(Challenge, { id: first.id })).toMatchObject({ status: "CANCELLED" });
    const secondCode = await receivedCode(gateway, phone);
    if (firstCode !== secondCode) {
      expect((await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code: firstCode } })).code).toBe("INVALID_CODE");
    }
    expect((await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code: secondCode } })).verifyFactor.status).toBe("SUCCESS");
  });

  test("challengeFactor asked again carries the resends on: past maxResends it is TOO_MANY_RESENDS, as resendFactorChallenge is", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700063");
    await requirePhone(gateway);
    const { phoneAuthenticator } = await gateway.admin.ok(PhoneAuthenticatorDocument);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const challengeAgain = () => gateway.anonymous.request(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    const answers: string[] = [];
    for (let round = 0; round <= phoneAuthenticator.maxResends + 1; round += 1) {
      gateway.clock.advance(61_000);
      const result = await challengeAgain();
      answers.push((result.errors?.[0]?.extensions?.code as string | undefined) ?? "SENT");
    }
    // The first code, then one per resend allowed; then no more.
    expect(answers).toEqual([...Array(phoneAuthenticator.maxResends + 1).fill("SENT"), "TOO_MANY_RESENDS"]);
  });

  test("a wrong code in the flow is INVALID_CODE and the transaction can go on", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700003");
    await requirePhone(gateway);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    const code = await receivedCode(gateway, "+447400700003");
    const wrong = await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code: code === "000000" ? "111111" : "000000" } });
    expect(wrong.code).toBe("INVALID_CODE");
    expect(wrong.extensions?.attemptsRemaining).toBe(4);
    expect((await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } })).verifyFactor.status).toBe("SUCCESS");
  });

  test("resendFactorChallenge falls back from SMS to a voice call", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700004");
    await requirePhone(gateway);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    await receivedCode(gateway, "+447400700004");
    const early = await gateway.anonymous.fails(ResendFactorChallengeDocument, { input: { stateHandle: signIn.stateHandle, method: "VOICE" } });
    expect(early.code).toBe("RESEND_TOO_SOON");
    gateway.clock.advance(30_000);
    const { resendFactorChallenge } = await gateway.anonymous.ok(ResendFactorChallengeDocument, { input: { stateHandle: signIn.stateHandle, method: "VOICE" } });
    expect(resendFactorChallenge.challenge?.method).toBe("VOICE");
    const code = await receivedCode(gateway, "+447400700004");
    expect((await latestSimulated(gateway, "+447400700004"))?.channel).toBe("VOICE");
    expect((await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } })).verifyFactor.status).toBe("SUCCESS");
  });

  test("enrollment required at first sign-in: MFA_ENROLL, enrollFactor, verifyFactor, SUCCESS with an active factor", async () => {
    await requirePhone(gateway, ["SMS"]);
    const user = await createUser(gateway, { password: PASSWORD });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(signIn).toMatchObject({ status: "MFA_ENROLL", enrollMethods: ["SMS"] });
    const voice = await gateway.anonymous.fails(EnrollFactorDocument, { input: { stateHandle: signIn.stateHandle, phoneNumber: "+447400700005", method: "VOICE" } });
    expect(voice.code).toBe("METHOD_NOT_ALLOWED");
    const tollFree = await gateway.anonymous.fails(EnrollFactorDocument, { input: { stateHandle: signIn.stateHandle, phoneNumber: "+18005550199", method: "SMS" } });
    expect(tollFree.code).toBe("INVALID_PHONE_NUMBER");
    const { enrollFactor } = await gateway.anonymous.ok(EnrollFactorDocument, { input: { stateHandle: signIn.stateHandle, phoneNumber: "07400 700005", defaultCountry: "GB", method: "SMS" } });
    expect(enrollFactor).toMatchObject({ status: "MFA_ENROLL_ACTIVATE", challenge: { purpose: "PHONE_VERIFICATION" } });
    const code = await receivedCode(gateway, "+447400700005");
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } });
    expect(verifyFactor.status).toBe("SUCCESS");
    const { user: after } = await gateway.admin.ok(UserFactorsDocument, { id: user.id });
    expect(after?.factors.map((f) => f.status)).toEqual(["ACTIVE"]);
  });

  test("a sign-in sent to enroll may not once the account has a phone: a fresh sign-in would ask for that phone", async () => {
    await requirePhone(gateway, ["SMS"]);
    const user = await createUser(gateway, { password: PASSWORD });
    const signInOnce = async () => (await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn;
    const beforeEnrolling = await signInOnce();
    const enrolledFirst = await signInOnce();
    expect([beforeEnrolling.status, enrolledFirst.status]).toEqual(["MFA_ENROLL", "MFA_ENROLL"]);
    await gateway.anonymous.ok(EnrollFactorDocument, { input: { stateHandle: enrolledFirst.stateHandle, phoneNumber: "+447400700031", method: "SMS" } });
    const strayCode = await receivedCode(gateway, "+447400700031");

    // Meanwhile the owner enrolls their own phone.
    const { factor } = await enroll(gateway, user.id, "+447400700030", "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, "+447400700030") } });

    const late = await gateway.anonymous.fails(EnrollFactorDocument, { input: { stateHandle: beforeEnrolling.stateHandle, phoneNumber: "+447400700032", method: "SMS" } });
    expect(late.code).toBe("TRANSACTION_EXPIRED");
    expect(await gateway.db.manager.countBy(Message, { toE164: "+447400700032" })).toBe(0);
    gateway.clock.advance(31_000);
    const resent = await gateway.anonymous.fails(ResendFactorChallengeDocument, { input: { stateHandle: enrolledFirst.stateHandle } });
    expect(resent.code).toBe("TRANSACTION_EXPIRED");
    expect(await gateway.db.manager.countBy(Message, { toE164: "+447400700031" })).toBe(1);
    const stray = await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: enrolledFirst.stateHandle, code: strayCode } });
    expect(stray.code).toBe("TRANSACTION_EXPIRED");
    const { user: after } = await gateway.admin.ok(UserFactorsDocument, { id: user.id });
    expect(after?.factors.filter((f) => f.status === "ACTIVE").map((f) => f.phoneNumber)).toEqual(["+447400700030"]);
    expect((await signInOnce()).status).toBe("MFA_REQUIRED");
  });

  test("an enrollment abandoned before its code: the next sign-in enrolls the same number again, as the same factor", async () => {
    await requirePhone(gateway, ["SMS"]);
    const user = await createUser(gateway, { password: PASSWORD });
    const number = "+447400700021";
    const signInOnce = async () => (await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn;
    const enrollIn = (stateHandle: string, phoneNumber: string) => gateway.anonymous.request(EnrollFactorDocument, { input: { stateHandle, phoneNumber, method: "SMS" } });

    const first = await signInOnce();
    expect((await enrollIn(first.stateHandle, number)).data?.enrollFactor.status).toBe("MFA_ENROLL_ACTIVATE");
    await receivedCode(gateway, number);
    await gateway.anonymous.ok(CancelTransactionDocument, { stateHandle: first.stateHandle });

    const second = await signInOnce();
    expect(second).toMatchObject({ status: "MFA_ENROLL", factors: [] });
    expect((await enrollIn(second.stateHandle, number)).errors?.[0]?.extensions?.code).toBe("RESEND_TOO_SOON");
    gateway.clock.advance(30_000);
    expect((await enrollIn(second.stateHandle, number)).data?.enrollFactor.status).toBe("MFA_ENROLL_ACTIVATE");
    const code = await receivedCode(gateway, number);
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: second.stateHandle, code } });
    expect(verifyFactor.status).toBe("SUCCESS");
    const { user: after } = await gateway.admin.ok(UserFactorsDocument, { id: user.id });
    expect(after?.factors).toEqual([expect.objectContaining({ status: "ACTIVE", phoneNumber: number })]);
  });

  test("enrolling another number in the same sign-in replaces the unverified one, in the same write: a refused number keeps it", async () => {
    await requirePhone(gateway, ["SMS"]);
    const user = await createUser(gateway, { password: PASSWORD });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const enrollIn = (phoneNumber: string) => gateway.anonymous.request(EnrollFactorDocument, { input: { stateHandle: signIn.stateHandle, phoneNumber, method: "SMS" } });
    const factorsOf = async () => (await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors.map((factor) => factor.phoneNumber);

    await enrollIn("+447400700022");
    expect((await enrollIn("+18005550199")).errors?.[0]?.extensions?.code).toBe("INVALID_PHONE_NUMBER");
    expect(await factorsOf()).toEqual(["+447400700022"]);
    expect((await enrollIn("+447400700023")).data?.enrollFactor.status).toBe("MFA_ENROLL_ACTIVATE");
    expect(await factorsOf()).toEqual(["+447400700023"]);
    const code = await receivedCode(gateway, "+447400700023");
    expect((await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } })).verifyFactor.status).toBe("SUCCESS");
  });

  test("an AUTHENTICATOR_ENROLLMENT policy with REQUIRED sends its group through MFA_ENROLL even when sign-on needs only a password", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "must-enroll" });
    await gateway.admin.ok(CreatePolicyDocument, { input: { type: "AUTHENTICATOR_ENROLLMENT", name: "Enroll phones", groupIds: [createGroup.id], phoneEnrollment: "REQUIRED" } });
    const member = await createUser(gateway, { password: PASSWORD });
    await gateway.admin.ok(AddUserToGroupDocument, { userId: member.id, groupId: createGroup.id });
    const outsider = await createUser(gateway, { password: PASSWORD });
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: member.login, password: PASSWORD } })).signIn.status).toBe("MFA_ENROLL");
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: outsider.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
  });

  test("a DENY rule by network zone refuses sign-in from that zone", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "zoned" });
    const user = await createUser(gateway, { password: PASSWORD });
    await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });
    await setGlobalSessionRules(gateway, [
      { name: "No loopback for zoned", priority: 1, groupIds: [createGroup.id], networkZones: ["127.0.0.0/8", "::1/128"], access: "DENY" },
      { name: "Catch-all rule", priority: 2, access: "ALLOW", factorRequirement: "PASSWORD_ONLY" },
    ]);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(signIn).toMatchObject({ status: "DENIED", sessionToken: null });
    const other = await createUser(gateway, { password: PASSWORD });
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: other.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
    const evaluation = await gateway.db.manager.findOne(LogEventRecord, { where: { actorId: user.id, eventType: "policy.evaluate_sign_on" } });
    expect(evaluation?.outcomeResult).toBe("DENY");
  });

  test("an application whose authentication policy demands the phone, while the global one does not", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700006");
    await gateway.admin.ok(CreatePolicyDocument, {
      input: {
        type: "AUTHENTICATION",
        name: "Payroll app",
        rules: [{ name: "Phone for payroll", clientIds: ["payroll"], access: "ALLOW", factorRequirement: "PASSWORD_AND_PHONE" }],
      },
    });
    expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD, clientId: "payroll" } });
    expect(signIn.status).toBe("MFA_REQUIRED");
    expect(signIn.factors[0]?.factorId).toBe(factor.id);
  });

  test("a group's policy none of whose rules match leaves the sign-in to the next policy: the default's phone and DENY rules still hold", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "finance" });
    const { user } = await userWithPhone(gateway, "+447400700016");
    await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: {
        type: "GLOBAL_SESSION",
        name: "Finance, from the office",
        groupIds: [createGroup.id],
        rules: [{ name: "Office only", networkZones: ["10.0.0.0/8"], access: "ALLOW", factorRequirement: "PASSWORD_AND_PHONE" }],
      },
    });
    try {
      await requirePhone(gateway);
      const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
      expect(signIn).toMatchObject({ status: "MFA_REQUIRED", sessionToken: null });
      await setGlobalSessionRules(gateway, [{ name: "No loopback", networkZones: ["127.0.0.0/8", "::1/128"], access: "DENY" }]);
      expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("DENIED");
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });

  test("RECOVERY_ONLY phone authenticator: a rule that needs the phone denies sign-in", async () => {
    const { user } = await userWithPhone(gateway, "+447400700007");
    await requirePhone(gateway);
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { usage: "RECOVERY_ONLY" } });
    try {
      const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
      expect(signIn.status).toBe("DENIED");
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { usage: "MFA_AND_RECOVERY" } });
    }
  });

  test("MFA is remembered within the session for reauthenticateAfterMinutes", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700008");
    await setGlobalSessionRules(gateway, [{ name: "Phone, remembered", access: "ALLOW", factorRequirement: "PASSWORD_AND_PHONE", reauthenticateAfterMinutes: 60 }]);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code: await receivedCode(gateway, "+447400700008") } });
    const session = gateway.client(`Bearer ${verifyFactor.sessionToken}`);
    expect((await session.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("SUCCESS");
    gateway.clock.advance(61 * 60_000);
    const later = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(later.signIn.status).toBe("MFA_REQUIRED");
  });

  test("a remembered phone does not renew itself: the new session keeps the time the phone was proven", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700024");
    await setGlobalSessionRules(gateway, [{ name: "Phone, remembered", access: "ALLOW", factorRequirement: "PASSWORD_AND_PHONE", reauthenticateAfterMinutes: 60 }]);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    const code = await receivedCode(gateway, "+447400700024");
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } });
    const proven = gateway.clock.now().toISOString();
    const first = gateway.client(`Bearer ${verifyFactor.sessionToken}`);

    gateway.clock.advance(50 * 60_000);
    const renewed = (await first.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn;
    expect(renewed.status).toBe("SUCCESS");
    const second = gateway.client(`Bearer ${renewed.sessionToken}`);
    const { me } = await second.ok(MySessionsDocument);
    expect(me?.sessions.find((session) => session.current)?.mfaVerifiedAt).toBe(proven);

    // An hour after the phone was proven, not after the second sign-in, it is asked for again.
    gateway.clock.advance(15 * 60_000);
    expect((await second.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } })).signIn.status).toBe("MFA_REQUIRED");
  });

  test("a signed-in user sees masked numbers and may not touch another user's factor", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700009");
    const { factor: otherFactor } = await userWithPhone(gateway, "+447400700010");
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const session = gateway.client(`Bearer ${signIn.sessionToken}`);
    const own = await session.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    expect(own.challengePhoneFactor.messages[0]?.to).toMatch(/^\+44 [X ]+0009$/);
    expect(own.challengePhoneFactor.messages[0]?.to).not.toContain("7400700009");
    expect((await session.fails(ChallengePhoneFactorDocument, { input: { factorId: otherFactor.id } })).code).toBe("FORBIDDEN");
    expect((await session.fails(DeletePhoneFactorDocument, { id: otherFactor.id })).code).toBe("FORBIDDEN");
    expect((await session.fails(UserFactorsDocument, { id: user.id })).code).toBe("FORBIDDEN");
  });

  test("a signed-in user who verifies another user's challenge is refused and spends none of its attempts", async () => {
    const { user } = await userWithPhone(gateway, "+447400700011");
    const { factor: otherFactor } = await userWithPhone(gateway, "+447400700012");
    const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: otherFactor.id } });
    const code = await receivedCode(gateway, "+447400700012");
    const session = await signedInAs(gateway, user.login);

    for (const guess of [code, "000000", "111111"]) {
      expect((await session.fails(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code: guess } })).code).toBe("FORBIDDEN");
    }
    expect(await gateway.db.manager.findOneByOrFail(Challenge, { id: challengePhoneFactor.id })).toMatchObject({ status: "PENDING", attemptsUsed: 0 });
    const { verifyChallenge } = await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code } });
    expect(verifyChallenge.status).toBe("VERIFIED");
  });
});

describe("transaction state", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("every mutation that does not fit the status is INVALID_TRANSITION with the current status", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400710001");
    await requirePhone(gateway);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const stateHandle = signIn.stateHandle;
    const checks = [
      gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle, code: "123456" } }),
      gateway.anonymous.fails(EnrollFactorDocument, { input: { stateHandle, phoneNumber: "+447400710002", method: "SMS" } }),
      gateway.anonymous.fails(ResendFactorChallengeDocument, { input: { stateHandle } }),
      gateway.anonymous.fails(ResetPasswordDocument, { input: { stateHandle, newPassword: "another long password" } }),
    ];
    for (const error of await Promise.all(checks)) {
      expect(error.code).toBe("INVALID_TRANSITION");
      expect(error.extensions?.status).toBe("MFA_REQUIRED");
    }
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle, factorId: factor.id } });
    const enroll = await gateway.anonymous.fails(EnrollFactorDocument, { input: { stateHandle, phoneNumber: "+447400710002", method: "SMS" } });
    expect(enroll.extensions?.status).toBe("MFA_CHALLENGE");
    await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle, code: await receivedCode(gateway, "+447400710001") } });
    expect((await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle, code: "123456" } })).code).toBe("TRANSACTION_EXPIRED");
    await passwordOnly(gateway);
  });

  test("an unknown, cancelled or expired handle is TRANSACTION_EXPIRED", async () => {
    expect((await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: "sh_made_up", code: "123456" } })).code).toBe("TRANSACTION_EXPIRED");
    const { user } = await userWithPhone(gateway, "+447400710003");
    await requirePhone(gateway);
    const first = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(await gateway.anonymous.ok(CancelTransactionDocument, { stateHandle: first.signIn.stateHandle })).toEqual({ cancelTransaction: true });
    expect((await gateway.anonymous.fails(CancelTransactionDocument, { stateHandle: first.signIn.stateHandle })).code).toBe("TRANSACTION_EXPIRED");
    const second = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    gateway.clock.advance(10 * 60_000 + 1);
    const late = await gateway.anonymous.fails(ChallengeFactorDocument, { input: { stateHandle: second.signIn.stateHandle, factorId: second.signIn.factors[0]!.factorId } });
    expect(late.code).toBe("TRANSACTION_EXPIRED");
    await passwordOnly(gateway);
  });

  test("policies: defaults exist and cannot be deleted; a bad zone is BAD_USER_INPUT", async () => {
    const { policies } = await gateway.admin.ok(PoliciesDocument, {});
    expect(policies.filter((p) => p.isDefault).map((p) => p.type).sort()).toEqual(["AUTHENTICATION", "AUTHENTICATOR_ENROLLMENT", "GLOBAL_SESSION", "PASSWORD"]);
    expect((await gateway.admin.fails(DeletePolicyDocument, { id: "pol_default_password" })).code).toBe("CONFLICT");
    const bad = await gateway.admin.fails(UpdatePolicyDocument, {
      id: "pol_default_global_session",
      input: { type: "GLOBAL_SESSION", name: "x", rules: [{ name: "bad", networkZones: ["10.0.0.0/33"] }] },
    });
    expect(bad.code).toBe("BAD_USER_INPUT");
    expect((await gateway.anonymous.fails(PoliciesDocument, {})).code).toBe("UNAUTHENTICATED");
  });
});
