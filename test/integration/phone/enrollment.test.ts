import {
  ActivatePhoneFactorDocument,
  BlockPhoneNumberDocument,
  ChallengeByIdDocument,
  ChallengePhoneFactorDocument,
  DeletePhoneFactorDocument,
  EnrollPhoneFactorDocument,
  ResendChallengeDocument,
  SetSimulatorRulesDocument,
  SimulatorMessagesDocument,
  UnblockPhoneNumberDocument,
  UpdatePhoneAuthenticatorDocument,
  UserFactorsDocument,
  VerifyChallengeDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { FraudBlockRecord } from "../../../src/security/security-settings.entity";
import { Message } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { allFinal, createUser, enroll, latestSimulated, receivedCode, settleMessages } from "../../support/phone";

const GB_MOBILE = "+447400123456";
const FR_MOBILE = "+33612345678";
const DE_MOBILE = "+4915123456789";

describe("phone factors: enroll, activate, challenge, verify", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("by SMS: enroll, read the code from the simulator, activate, challenge, verify", async () => {
    const user = await createUser(gateway);
    const { factor, challenge } = await enroll(gateway, user.id, "07400 123456".replace(/^0/, "+44 "), "SMS");
    expect(factor).toMatchObject({ status: "PENDING_ACTIVATION", method: "SMS", phoneNumber: GB_MOBILE, country: "GB" });
    expect(challenge).toMatchObject({ purpose: "PHONE_VERIFICATION", method: "SMS", status: "PENDING", attemptsRemaining: 5 });
    expect(challenge.messages).toHaveLength(1);
    expect(challenge.messages[0]).toMatchObject({ channel: "SMS", encoding: "GSM_7", segments: 1, country: "GB", international: true });
    // The response is written after the commit, so the dispatcher may already have sent it.
    expect(["QUEUED", "SENT", "DELIVERED"]).toContain(challenge.messages[0]?.status);

    const code = await receivedCode(gateway, GB_MOBILE);
    const { activatePhoneFactor } = await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code } });
    expect(activatePhoneFactor.status).toBe("ACTIVE");
    expect(activatePhoneFactor.lastVerified).not.toBeNull();

    const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    expect(challengePhoneFactor).toMatchObject({ purpose: "FACTOR_VERIFY", method: "SMS", status: "PENDING" });
    const second = await receivedCode(gateway, GB_MOBILE);
    const { verifyChallenge } = await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code: second } });
    expect(verifyChallenge.status).toBe("VERIFIED");

    // The receipt arrives on its own schedule, independent of the verification.
    await settleMessages(gateway, (messages) => allFinal(messages.filter((m) => m.toE164 === GB_MOBILE)));
    const { challenge: delivered } = await gateway.admin.ok(ChallengeByIdDocument, { id: challengePhoneFactor.id });
    expect(delivered?.messages[0]).toMatchObject({ status: "DELIVERED", provider: "simulator" });
  });

  test("by VOICE: the call reads the digits one by one, twice, in the user's language", async () => {
    const user = await createUser(gateway, { locale: "fr-FR" });
    const { factor } = await enroll(gateway, user.id, FR_MOBILE, "VOICE");
    const code = await receivedCode(gateway, FR_MOBILE);
    const call = await latestSimulated(gateway, FR_MOBILE);
    expect(call?.channel).toBe("VOICE");
    const spoken = [...code].join(", ");
    expect(call?.body.split(spoken)).toHaveLength(3);
    expect(call?.body).toMatch(/code/i);
    expect(call?.body).not.toMatch(/Your .* verification code/);
    const { activatePhoneFactor } = await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code } });
    expect(activatePhoneFactor).toMatchObject({ status: "ACTIVE", method: "VOICE" });
    const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    expect(challengePhoneFactor.method).toBe("VOICE");
    const again = await receivedCode(gateway, FR_MOBILE);
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code: again } })).verifyChallenge.status).toBe("VERIFIED");
  });

  test("User.factors lists them; deletePhoneFactor removes one and cancels its open challenge", async () => {
    const user = await createUser(gateway);
    const { factor, challenge } = await enroll(gateway, user.id, DE_MOBILE, "SMS");
    const { user: listed } = await gateway.admin.ok(UserFactorsDocument, { id: user.id });
    expect(listed?.factors.map((f) => f.id)).toEqual([factor.id]);
    expect(await gateway.admin.ok(DeletePhoneFactorDocument, { id: factor.id })).toEqual({ deletePhoneFactor: true });
    const { challenge: cancelled } = await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id });
    expect(cancelled?.status).toBe("CANCELLED");
    expect((await gateway.admin.fails(DeletePhoneFactorDocument, { id: factor.id })).code).toBe("NOT_FOUND");
  });

  test("every message gets exactly one send_* event and exactly one receive_status event", async () => {
    const messages = await settleMessages(gateway);
    expect(messages.length).toBeGreaterThanOrEqual(5);
    const events = await gateway.db.manager.find(LogEventRecord);
    for (const message of messages) {
      const about = events.filter((event) => event.debugContext?.messageId === message.id);
      const sends = about.filter((event) => /^system\.(sms|voice)\.send_/.test(event.eventType));
      const receipts = about.filter((event) => /^system\.(sms|voice)\.receive_status$/.test(event.eventType));
      expect({ message: message.id, sends: sends.length, receipts: receipts.length }).toEqual({ message: message.id, sends: 1, receipts: 1 });
      expect(receipts[0]?.debugContext).toMatchObject({ provider: "simulator", messageId: message.id, country: message.country });
    }
    const types = new Set(events.map((event) => event.eventType));
    for (const type of [
      "system.sms.send_phone_verification_message",
      "system.sms.send_factor_verify_message",
      "system.voice.send_phone_verification_call",
      "system.voice.send_mfa_challenge_call",
      "system.sms.receive_status",
      "system.voice.receive_status",
      "user.mfa.factor.activate",
      "user.mfa.factor.deactivate",
      "user.authentication.auth_via_mfa",
    ]) {
      expect(types).toContain(type);
    }
  });
});

describe("receive_status: whether a provider took the message", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("is in the event, whatever the failure code: a provider may refuse after taking a message, with the code it could refuse before", async () => {
    await gateway.admin.ok(SetSimulatorRulesDocument, {
      rules: [
        { prefix: "+447400555001", outcome: "UNDELIVERED", errorCode: "BLOCKED_SUSPICIOUS" },
        { prefix: "+447400555002", outcome: "FAILED", errorCode: "BLOCKED_SUSPICIOUS" },
      ],
    });
    try {
      for (const number of ["+447400555000", "+447400555001", "+447400555002"]) await enroll(gateway, (await createUser(gateway)).id, number, "SMS");
      const messages = await settleMessages(gateway);
      const events = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "system.sms.receive_status" } });
      const handedOver = Object.fromEntries(
        messages.map((message) => [message.toE164, events.find((event) => event.debugContext?.messageId === message.id)?.debugContext?.handedOver]),
      );
      expect(handedOver).toEqual({ "+447400555000": true, "+447400555001": true, "+447400555002": false });
    } finally {
      await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [] });
    }
  });
});

describe("phone factors: refusals", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test.each([
    ["a toll-free number", "+18005550199", "SMS", "TOLL_FREE"],
    ["a UK freephone number", "+448001234567", "VOICE", "TOLL_FREE"],
    ["a premium-rate number", "+449011234567", "SMS", "PREMIUM_RATE"],
    ["a fixed line for SMS", "+442071234567", "SMS", "NOT_REACHABLE_BY_METHOD"],
    ["garbage", "not a number", "SMS", "INVALID"],
    ["a number too short", "+44 7400", "SMS", "INVALID"],
  ])("%s is INVALID_PHONE_NUMBER with rejection %s", async (_name, phoneNumber, method, rejection) => {
    const user = await createUser(gateway);
    const error = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber, method: method as "SMS" } });
    expect(error.code).toBe("INVALID_PHONE_NUMBER");
    expect(error.extensions?.rejection).toBe(rejection);
    const { user: after } = await gateway.admin.ok(UserFactorsDocument, { id: user.id });
    expect(after?.factors).toEqual([]);
  });

  test("a fixed line may be enrolled for VOICE", async () => {
    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, "+442071234567", "VOICE");
    expect(factor.status).toBe("PENDING_ACTIVATION");
  });

  test("the same number again while it waits for its code: the same factor, a new code after the cooldown, the old one void", async () => {
    const user = await createUser(gateway);
    const number = "+447400111222";
    const first = await enroll(gateway, user.id, number, "SMS");
    const firstCode = await receivedCode(gateway, number);
    const again = () => gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "VOICE" } });

    expect((await again()).errors?.[0]?.extensions).toMatchObject({ code: "RESEND_TOO_SOON", retryAfterSeconds: 30 });
    gateway.clock.advance(30_000);
    const second = (await again()).data!.enrollPhoneFactor;
    expect(second.factor).toMatchObject({ id: first.factor.id, method: "VOICE", status: "PENDING_ACTIVATION" });
    expect(second.challenge).toMatchObject({ purpose: "PHONE_VERIFICATION", method: "VOICE", status: "PENDING" });
    expect(second.challenge.id).not.toBe(first.challenge.id);
    expect((await gateway.admin.ok(ChallengeByIdDocument, { id: first.challenge.id })).challenge?.status).toBe("CANCELLED");
    const secondCode = await receivedCode(gateway, number);
    expect((await latestSimulated(gateway, number))?.channel).toBe("VOICE");

    const stale = await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: first.challenge.id, code: firstCode } });
    expect(stale).toMatchObject({ code: "CODE_EXPIRED", extensions: expect.objectContaining({ reason: "CANCELLED" }) });
    const { activatePhoneFactor } = await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: first.factor.id, code: secondCode } });
    expect(activatePhoneFactor).toMatchObject({ id: first.factor.id, status: "ACTIVE", method: "VOICE" });
    const { user: after } = await gateway.admin.ok(UserFactorsDocument, { id: user.id });
    expect(after?.factors.map((factor) => factor.id)).toEqual([first.factor.id]);
  });

  test("enrolling a waiting number again is a resend of its code: past maxResends, TOO_MANY_RESENDS, until that code has lapsed", async () => {
    const user = await createUser(gateway);
    const number = "+447400111223";
    const { challenge } = await enroll(gateway, user.id, number, "SMS");
    const again = () => gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } });
    for (let resend = 1; resend <= 2; resend += 1) {
      gateway.clock.advance(30_000);
      await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id } });
    }
    gateway.clock.advance(30_000);
    expect((await again()).data?.enrollPhoneFactor.challenge.id).toBeDefined();
    const sent = await gateway.db.manager.count(Message, { where: { toE164: number } });
    expect(sent).toBe(4);
    gateway.clock.advance(30_000);
    expect((await again()).errors?.[0]?.extensions).toMatchObject({ code: "TOO_MANY_RESENDS" });
    expect(await gateway.db.manager.count(Message, { where: { toE164: number } })).toBe(4);
    // The last code's lifetime over, the number may be sent a new one.
    gateway.clock.advance(300_000);
    expect((await again()).errors).toBeUndefined();
  });

  test("the same waiting number enrolled again twice at once: one new code goes out, the other is RESEND_TOO_SOON", async () => {
    const user = await createUser(gateway);
    const number = "+447400111224";
    await enroll(gateway, user.id, number, "SMS");
    await receivedCode(gateway, number);
    gateway.clock.advance(30_000);
    const results = await Promise.all(
      [0, 1].map(() => gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } })),
    );
    expect(results.map((result) => result.errors?.[0]?.extensions?.code ?? "ENROLLED").sort()).toEqual(["ENROLLED", "RESEND_TOO_SOON"]);
    await settleMessages(gateway);
    expect((await gateway.admin.ok(SimulatorMessagesDocument, { to: number, first: 10 })).simulatorMessages).toHaveLength(2);
  });

  test("a new number enrolled twice at once: one code goes out, the other is RESEND_TOO_SOON, not CONFLICT", async () => {
    const user = await createUser(gateway);
    const number = "+447400111225";
    const results = await Promise.all(
      [0, 1, 2].map(() => gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } })),
    );
    expect(results.map((result) => result.errors?.[0]?.extensions?.code ?? "ENROLLED").sort()).toEqual(["ENROLLED", "RESEND_TOO_SOON", "RESEND_TOO_SOON"]);
    await settleMessages(gateway);
    expect((await gateway.admin.ok(SimulatorMessagesDocument, { to: number, first: 10 })).simulatorMessages).toHaveLength(1);
  });

  test("a number already verified for the user is CONFLICT, and sends nothing", async () => {
    const user = await createUser(gateway);
    const number = "+447400111223";
    const { factor } = await enroll(gateway, user.id, number, "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, number) } });
    gateway.clock.advance(30_000);
    const sent = (await gateway.admin.ok(SimulatorMessagesDocument, { to: number, first: 10 })).simulatorMessages.length;
    const error = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "VOICE" } });
    expect(error).toMatchObject({ code: "CONFLICT", extensions: expect.objectContaining({ reason: "NUMBER_ALREADY_ENROLLED" }) });
    await settleMessages(gateway);
    expect((await gateway.admin.ok(SimulatorMessagesDocument, { to: number, first: 10 })).simulatorMessages).toHaveLength(sent);
  });

  test("a blocked number is NUMBER_BLOCKED", async () => {
    await gateway.admin.ok(BlockPhoneNumberDocument, { number: "+447400999888", reason: "reported stolen" });
    const user = await createUser(gateway);
    const error = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400999888", method: "SMS" } });
    expect(error.code).toBe("NUMBER_BLOCKED");
    expect(error.extensions?.reason).toBe("reported stolen");
  });

  test("a blocked toll-free number is refused as toll-free, as validatePhoneNumber says: the number type outranks the block list", async () => {
    await gateway.admin.ok(BlockPhoneNumberDocument, { number: "+1 800 555 0199", reason: "never a phone" });
    const user = await createUser(gateway);
    const error = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+1 800 555 0199", method: "SMS" } });
    expect(error).toMatchObject({ code: "INVALID_PHONE_NUMBER", extensions: expect.objectContaining({ rejection: "TOLL_FREE" }) });
  });

  test("a method the authenticator does not allow is METHOD_NOT_ALLOWED with the allowed methods", async () => {
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { methods: ["SMS"] } });
    try {
      const user = await createUser(gateway);
      const error = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400222333", method: "VOICE" } });
      expect(error.code).toBe("METHOD_NOT_ALLOWED");
      expect(error.extensions?.allowedMethods).toEqual(["SMS"]);
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { methods: ["SMS", "VOICE"] } });
    }
  });

  test("RECOVERY_ONLY: phone factors satisfy no MFA challenge", async () => {
    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, "+447400333444", "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, "+447400333444") } });
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { usage: "RECOVERY_ONLY" } });
    try {
      const error = await gateway.admin.fails(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
      expect(error.code).toBe("METHOD_NOT_ALLOWED");
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { usage: "MFA_AND_RECOVERY" } });
    }
  });

  test("codes already sent stop working when the authenticator stops allowing them: off, recovery only, or their method removed", async () => {
    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, "+447400333445", "SMS");
    const { challenge: enrollment } = await enroll(gateway, (await createUser(gateway)).id, "+447400333446", "VOICE");
    const enrollmentCode = await receivedCode(gateway, "+447400333446");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, "+447400333445") } });
    const challengeAndCode = async () => {
      const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
      return { id: challengePhoneFactor.id, code: await receivedCode(gateway, "+447400333445") };
    };
    const expectCancelled = async (sent: { id: string; code: string }) => {
      const error = await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: sent.id, code: sent.code } });
      expect(error).toMatchObject({ code: "CODE_EXPIRED", extensions: expect.objectContaining({ reason: "CANCELLED" }) });
    };
    try {
      const beforeRecoveryOnly = await challengeAndCode();
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { usage: "RECOVERY_ONLY" } });
      await expectCancelled(beforeRecoveryOnly);
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { usage: "MFA_AND_RECOVERY" } });

      const beforeSmsRemoved = await challengeAndCode();
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { methods: ["VOICE"] } });
      await expectCancelled(beforeSmsRemoved);
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { methods: ["SMS", "VOICE"] } });

      const beforeInactive = await challengeAndCode();
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { status: "INACTIVE" } });
      await expectCancelled(beforeInactive);
      await expectCancelled({ id: enrollment.id, code: enrollmentCode });
      // The test's clock stands still: the events are told apart by what they changed, not by when.
      const updates = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "security.authenticator.lifecycle.update" } });
      expect(updates.find((event) => event.debugContext?.status === "INACTIVE")?.debugContext).toMatchObject({ cancelledChallenges: 2 });
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { status: "ACTIVE", usage: "MFA_AND_RECOVERY", methods: ["SMS", "VOICE"] } });
    }
  });

  test("an unknown user or factor is NOT_FOUND", async () => {
    expect((await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: "usr_nobody", phoneNumber: "+447400444555", method: "SMS" } })).code).toBe("NOT_FOUND");
    expect((await gateway.admin.fails(ChallengePhoneFactorDocument, { input: { factorId: "fac_nothing" } })).code).toBe("NOT_FOUND");
  });
});

describe("phone factors: refusals under the production send limits", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    // The 10-minute window, which the test clock's moves past the cooldowns leave full: a
    // number's enrollment code and one more code are all it takes.
    gateway = await startTestGateway({ LIMIT_SENDS_PER_NUMBER_PER10M: "2" });
  });
  afterAll(() => gateway.stop());

  test("a resend to a number an admin blocked is NUMBER_BLOCKED even once the number's send window is spent", async () => {
    const user = await createUser(gateway);
    const number = "+447400111225";
    const { factor } = await enroll(gateway, user.id, number, "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, number) } });
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await gateway.admin.ok(BlockPhoneNumberDocument, { number, reason: "reported stolen" });
    try {
      gateway.clock.advance(31_000);
      const refusal = await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: challenge.id } });
      expect(refusal.extensions).toMatchObject({ code: "NUMBER_BLOCKED", reason: "reported stolen" });
    } finally {
      await gateway.admin.ok(UnblockPhoneNumberDocument, { number });
    }
  });

  test("a number already verified is CONFLICT even inside its send window: no code would be sent, so no send limit is met", async () => {
    const user = await createUser(gateway);
    const number = "+447400111224";
    const { factor } = await enroll(gateway, user.id, number, "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, number) } });
    await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const error = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } });
    expect(error.extensions).toMatchObject({ code: "CONFLICT", reason: "NUMBER_ALREADY_ENROLLED" });
  });
});

describe("passcodes: wrong, expired, spent, resent", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const activeFactor = async (phoneNumber: string) => {
    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, phoneNumber, "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phoneNumber) } });
    return factor;
  };
  /** A pumping rule's block on a range, as the send guard would have written it. */
  const blockRange = async (range: string, id: string) => {
    const block = Object.assign(new FraudBlockRecord(), {
      id,
      scope: "RANGE",
      key: range,
      rule: "SEQUENTIAL_NUMBERS",
      figures: {},
      created: gateway.clock.now(),
      until: new Date(gateway.clock.now().getTime() + 86_400_000),
    });
    await gateway.db.transaction((tx) => tx.manager.insert(FraudBlockRecord, block));
    return block;
  };
  const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

  test("a wrong code is INVALID_CODE with the attempts left; when they are spent even the right code is refused", async () => {
    const factor = await activeFactor("+447400500001");
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const code = await receivedCode(gateway, "+447400500001");
    for (let remaining = 4; remaining >= 0; remaining -= 1) {
      const error = await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: wrongCode(code) } });
      expect(error.code).toBe("INVALID_CODE");
      expect(error.extensions?.attemptsRemaining).toBe(remaining);
    }
    expect((await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } })).code).toBe("TOO_MANY_ATTEMPTS");
    expect((await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id })).challenge?.status).toBe("FAILED");
  });

  test("a code typed with full-width digits (a Japanese or Chinese input method) is the code", async () => {
    const factor = await activeFactor("+447400500009");
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const code = await receivedCode(gateway, "+447400500009");
    const fullWidth = [...code].map((digit) => String.fromCharCode(0xff10 + Number(digit))).join("");
    const typed = `${fullWidth.slice(0, 3)}\uFF0D${fullWidth.slice(3)}`;
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: typed } })).verifyChallenge.status).toBe("VERIFIED");
  });

  test("an expired code is CODE_EXPIRED (the clock moves, nobody waits)", async () => {
    const factor = await activeFactor("+447400500002");
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const code = await receivedCode(gateway, "+447400500002");
    gateway.clock.advance(301_000);
    expect((await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id })).challenge?.status).toBe("EXPIRED");
    expect((await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } })).code).toBe("CODE_EXPIRED");
  });

  test("a resend inside the cooldown is RESEND_TOO_SOON; after it, a new code voids the old one; past maxResends, TOO_MANY_RESENDS", async () => {
    const factor = await activeFactor("+447400500003");
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const first = await receivedCode(gateway, "+447400500003");
    gateway.clock.advance(10_000);
    const early = await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: challenge.id } });
    expect(early.code).toBe("RESEND_TOO_SOON");
    expect(early.extensions?.retryAfterSeconds).toBe(20);
    expect(early.message).toBe("An SMS message was recently sent. Please wait 20 seconds before trying again.");

    let latest = first;
    for (let resend = 1; resend <= 3; resend += 1) {
      gateway.clock.advance(30_000);
      const { resendChallenge } = await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id } });
      expect(resendChallenge.messages).toHaveLength(1 + resend);
      latest = await receivedCode(gateway, "+447400500003");
    }
    gateway.clock.advance(30_000);
    expect((await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: challenge.id } })).code).toBe("TOO_MANY_RESENDS");
    if (latest !== first) {
      expect((await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: first } })).code).toBe("INVALID_CODE");
    }
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: latest } })).verifyChallenge.status).toBe("VERIFIED");
  });

  test("an expired challenge's resend is held to the send rules as an open one's: a blocked range's code is stopped", async () => {
    const phoneNumber = "+447400500178";
    const factor = await activeFactor(phoneNumber);
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await receivedCode(gateway, phoneNumber);
    gateway.clock.advance(600_000);
    const expired = await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: "000000" } });
    expect(expired.code).toBe("CODE_EXPIRED");
    expect((await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id })).challenge?.status).toBe("EXPIRED");
    const rangeBlock = await blockRange("+4474005001", "rul_expired_resend_test");
    try {
      await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id } });
      const latest = (await settleMessages(gateway)).filter((message) => message.challengeId === challenge.id).at(-1)!;
      expect(latest).toMatchObject({ status: "FAILED", errorCode: "BLOCKED_SUSPICIOUS", providerStatus: "RANGE:SEQUENTIAL_NUMBERS" });
    } finally {
      await gateway.db.transaction((tx) => tx.manager.delete(FraudBlockRecord, { id: rangeBlock.id }));
    }
  });

  test("a number an admin blocked after its code went out: the resend is NUMBER_BLOCKED, as a new challenge is, and sends nothing", async () => {
    const phoneNumber = "+447400500077";
    const factor = await activeFactor(phoneNumber);
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await receivedCode(gateway, phoneNumber);
    await gateway.admin.ok(BlockPhoneNumberDocument, { number: phoneNumber, reason: "reported stolen" });
    const messagesOf = async () => (await settleMessages(gateway)).filter((message) => message.challengeId === challenge.id);
    const sentBefore = (await messagesOf()).length;
    gateway.clock.advance(30_000);
    try {
      const refusal = await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: challenge.id } });
      expect(refusal.extensions).toMatchObject({ code: "NUMBER_BLOCKED", reason: "reported stolen" });
      expect(await messagesOf()).toHaveLength(sentBefore);
      expect((await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id })).challenge?.status).toBe("PENDING");
    } finally {
      await gateway.admin.ok(UnblockPhoneNumberDocument, { number: phoneNumber });
    }
    await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id } });
    expect((await messagesOf()).at(-1)).toMatchObject({ status: "DELIVERED" });
  });

  test("a fraud rule's block met on a resend: the resend is recorded but stopped, and goes once the block is lifted", async () => {
    const phoneNumber = "+447400500079";
    const factor = await activeFactor(phoneNumber);
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await receivedCode(gateway, phoneNumber);
    const rangeBlock = await blockRange("+4474005000", "rul_enrollment_test");
    const stoppedBy = async () => {
      gateway.clock.advance(30_000);
      await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id } });
      const messages = await settleMessages(gateway);
      const latest = messages.filter((message) => message.challengeId === challenge.id).at(-1)!;
      return latest.errorCode === "BLOCKED_SUSPICIOUS" ? latest.providerStatus : latest.status;
    };
    try {
      expect(await stoppedBy()).toBe("RANGE:SEQUENTIAL_NUMBERS");
    } finally {
      await gateway.db.transaction((tx) => tx.manager.delete(FraudBlockRecord, { id: rangeBlock.id }));
    }
    expect(await stoppedBy()).toBe("DELIVERED");
  });

  test("a text that does not arrive falls back to a voice call on resend", async () => {
    const factor = await activeFactor("+447400500004");
    const { challengePhoneFactor: challenge } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await receivedCode(gateway, "+447400500004");
    gateway.clock.advance(30_000);
    const { resendChallenge } = await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id, method: "VOICE" } });
    expect(resendChallenge.method).toBe("VOICE");
    expect(resendChallenge.messages.map((m) => m.channel)).toEqual(["SMS", "VOICE"]);
    const spoken = await receivedCode(gateway, "+447400500004");
    expect((await latestSimulated(gateway, "+447400500004"))?.channel).toBe("VOICE");
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: spoken } })).verifyChallenge.status).toBe("VERIFIED");
  });
});
