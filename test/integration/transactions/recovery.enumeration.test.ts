/**
 * Threat: user enumeration through recovery. An attacker asks to recover many logins and
 * reads the answers (shape, status, timing, whether a text went out) to learn which exist
 * and which have a phone.
 */
import {
  AddUserToGroupDocument,
  BlockPhoneNumberDocument,
  CancelTransactionDocument,
  ChallengeFactorDocument,
  CreateGroupDocument,
  CreatePolicyDocument,
  DeletePolicyDocument,
  RecoverPasswordDocument,
  ResendFactorChallengeDocument,
  SignInDocument,
  UnblockPhoneNumberDocument,
  UpdateCountryDocument,
  UpdatePhoneAuthenticatorDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { Message } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, settleMessages } from "../../support/phone";
import { PASSWORD, requirePhone, setPasswordPolicy, userWithPhone } from "../../support/transactions";

/** A request's error code, or "OK" when it had none. */
const codeOf = (result: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => (result.errors?.[0]?.extensions?.code as string | undefined) ?? "OK";

describe("no user enumeration through recovery", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ RECOVERY_RESPONSE_FLOOR_MS: "800" });
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());

  const shape = (value: unknown): unknown =>
    value === null ? null : Array.isArray(value) ? value.map(shape) : typeof value === "object" ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shape(v)])) : typeof value;

  test("an unknown login, a user with no phone and a real one get the same shape and status, and only the real one gets a text", async () => {
    const { user: real } = await userWithPhone(gateway, "+447400900001");
    const noPhone = await createUser(gateway, { password: PASSWORD });
    await settleMessages(gateway);
    const sentBefore = await gateway.db.manager.count(Message);
    const answers = [];
    for (const login of [real.login, noPhone.login, "nobody-at-all@example.com"]) {
      answers.push(await gateway.anonymous.request(RecoverPasswordDocument, { input: { login, method: "SMS" } }));
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.errors)).toEqual([undefined, undefined, undefined]);
    const [first, ...rest] = answers.map((a) => shape(a.data));
    for (const other of rest) expect(other).toEqual(first);
    expect(answers.map((a) => a.data?.recoverPassword.status)).toEqual(["RECOVERY_CHALLENGE", "RECOVERY_CHALLENGE", "RECOVERY_CHALLENGE"]);
    await settleMessages(gateway);
    const sent = await gateway.db.manager.find(Message, { order: { created: "ASC" } });
    expect(sent.length - sentBefore).toBe(1);
    expect(sent.at(-1)?.toE164).toBe("+447400900001");
  });

  test("the answers take a similar time (median of repeated calls)", async () => {
    const { user: real } = await userWithPhone(gateway, "+447400900002");
    const median = async (login: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        gateway.clock.advance(60_000);
        const started = performance.now();
        await gateway.anonymous.request(RecoverPasswordDocument, { input: { login, method: "SMS" } });
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const realTime = await median(real.login);
    const unknownTime = await median("nobody-at-all@example.com");
    // Both are held to the response floor (set above the real path's cost even on a busy CI
    // machine); what is left is scheduling noise, not a signal per login.
    expect(realTime).toBeGreaterThanOrEqual(795);
    expect(unknownTime).toBeGreaterThanOrEqual(795);
    expect(Math.abs(realTime - unknownTime)).toBeLessThan(100);
  });

  test("a login whose own policy allows no recovery answers as an unknown one; a method no policy allows is refused for every login alike", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "no-recovery" });
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "PASSWORD", name: "No recovery for this group", priority: 1, groupIds: [createGroup.id], recoveryMethods: [] },
    });
    try {
      const { user: member } = await userWithPhone(gateway, "+447400900003");
      await gateway.admin.ok(AddUserToGroupDocument, { userId: member.id, groupId: createGroup.id });
      await settleMessages(gateway);
      const sentBefore = await gateway.db.manager.count(Message);
      const recover = (login: string, method: "SMS" | "VOICE") => gateway.anonymous.request(RecoverPasswordDocument, { input: { login, method } });

      const [asMember, asNobody] = [await recover(member.login, "SMS"), await recover("nobody-at-all@example.com", "SMS")];
      expect(shape(asMember.data)).toEqual(shape(asNobody.data));
      expect(asMember.data?.recoverPassword.status).toBe("RECOVERY_CHALLENGE");
      await settleMessages(gateway);
      expect(await gateway.db.manager.count(Message)).toBe(sentBefore);

      for (const login of [member.login, "nobody-at-all@example.com"]) {
        expect((await recover(login, "VOICE")).errors?.[0]?.extensions).toMatchObject({ code: "METHOD_NOT_ALLOWED", allowedMethods: ["SMS"] });
      }
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });

  test("a resend, another method and a late code get the same answers from a real recovery and from a decoy", async () => {
    const { user: real } = await userWithPhone(gateway, "+447400900004");
    const answersFor = async (login: string) => {
      gateway.clock.advance(600_000);
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login, method: "SMS" } });
      const stateHandle = recoverPassword.stateHandle;
      const outcome = async (request: Promise<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }>) => {
        const { errors } = await request;
        return errors ? { code: errors[0]?.extensions?.code, retryAfterSeconds: errors[0]?.extensions?.retryAfterSeconds, reason: errors[0]?.extensions?.reason } : "OK";
      };
      const resend = (method?: "SMS" | "VOICE") => outcome(gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle, method } }));
      const answers: unknown[] = [];
      answers.push(await resend());
      answers.push(await resend("VOICE"));
      gateway.clock.advance(30_000);
      answers.push(await resend());
      gateway.clock.advance(301_000);
      answers.push(await outcome(gateway.anonymous.request(VerifyFactorDocument, { input: { stateHandle, code: "000000" } })));
      for (let round = 0; round < 4; round += 1) {
        gateway.clock.advance(30_000);
        answers.push(await resend());
      }
      return answers;
    };
    const realAnswers = await answersFor(real.login);
    expect(realAnswers.slice(0, 4)).toEqual([
      { code: "RESEND_TOO_SOON", retryAfterSeconds: 30, reason: undefined },
      { code: "METHOD_NOT_ALLOWED", retryAfterSeconds: undefined, reason: undefined },
      "OK",
      { code: "CODE_EXPIRED", retryAfterSeconds: undefined, reason: "EXPIRED" },
    ]);
    expect(realAnswers).toContainEqual({ code: "TOO_MANY_RESENDS", retryAfterSeconds: undefined, reason: undefined });
    expect(await answersFor("nobody-at-all@example.com")).toEqual(realAnswers);
  });

  test("a resend to a number an admin blocked after the recovery's code went out answers as a decoy's does, and sends nothing", async () => {
    const number = "+447400900010";
    const { user: real } = await userWithPhone(gateway, number);
    const resendAfterBlock = async (login: string) => {
      gateway.clock.advance(600_000);
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login, method: "SMS" } });
      await settleMessages(gateway);
      await gateway.admin.ok(BlockPhoneNumberDocument, { number, reason: "reported stolen" });
      try {
        const sentBefore = await gateway.db.manager.count(Message);
        gateway.clock.advance(31_000);
        const answer = codeOf(await gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle: recoverPassword.stateHandle } }));
        await settleMessages(gateway);
        return { answer, sent: (await gateway.db.manager.count(Message)) - sentBefore };
      } finally {
        await gateway.admin.ok(UnblockPhoneNumberDocument, { number });
      }
    };
    const decoy = await resendAfterBlock("nobody-at-all@example.com");
    expect(decoy).toEqual({ answer: "OK", sent: 0 });
    expect(await resendAfterBlock(real.login)).toEqual(decoy);
  });
});

describe("no user enumeration through a recovery's concurrent requests", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());

  test("two guesses, then two resends, sent at once get the same answers from a real recovery and from a decoy", async () => {
    const { user } = await userWithPhone(gateway, "+447400900008");
    const answersFor = async (login: string) => {
      gateway.clock.advance(600_000);
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login, method: "SMS" } });
      const { stateHandle } = recoverPassword;
      const codes = async (requests: Promise<{ errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }>[]) =>
        (await Promise.all(requests)).map(codeOf).sort();
      const guesses = await codes([0, 1].map(() => gateway.anonymous.request(VerifyFactorDocument, { input: { stateHandle, code: "000000" } })));
      gateway.clock.advance(31_000);
      const resends = await codes([0, 1].map(() => gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle } })));
      return { guesses, resends };
    };
    const real = await answersFor(user.login);
    expect(real).toEqual({ guesses: ["INVALID_CODE", "INVALID_CODE"], resends: ["OK", "RESEND_TOO_SOON"] });
    expect(await answersFor("nobody-at-all@example.com")).toEqual(real);
  });

  test("a wrong guess landing inside a resend or a cancel, or a cancel inside a guess, gets the same answers from a real recovery and from a decoy", async () => {
    const { user } = await userWithPhone(gateway, "+447400900009");
    const transactions = gateway.services.transactions as unknown as { find(stateHandle: string): Promise<unknown> };
    const recovery = async (login: string) => {
      gateway.clock.advance(600_000);
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login, method: "SMS" } });
      const { stateHandle } = recoverPassword;
      gateway.clock.advance(31_000);
      return {
        guess: async () => codeOf(await gateway.anonymous.request(VerifyFactorDocument, { input: { stateHandle, code: "000000" } })),
        resend: async () => codeOf(await gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle } })),
        cancel: async () => codeOf(await gateway.anonymous.request(CancelTransactionDocument, { stateHandle })),
      };
    };
    const answersFor = async (login: string) => {
      // The outer request reads the flow, then the inner one is answered, then the outer goes on from what it read.
      const inside = async (outer: () => Promise<string>, inner: () => Promise<string>) => {
        const find = transactions.find.bind(transactions);
        let first = "";
        jest.spyOn(transactions, "find").mockImplementationOnce(async (handle) => {
          const read = await find(handle);
          first = await inner();
          return read;
        });
        try {
          const then = await outer();
          return `${first} then ${then}`;
        } finally {
          jest.restoreAllMocks();
        }
      };
      const first = await recovery(login);
      const guessInResend = await inside(first.resend, first.guess);
      const guessInCancel = await inside(first.cancel, first.guess);
      const second = await recovery(login);
      return { guessInResend, guessInCancel, cancelInGuess: await inside(second.guess, second.cancel) };
    };
    const real = await answersFor(user.login);
    expect(real).toEqual({ guessInResend: "INVALID_CODE then OK", guessInCancel: "INVALID_CODE then OK", cancelInGuess: "OK then TRANSACTION_EXPIRED" });
    expect(await answersFor("nobody-at-all@example.com")).toEqual(real);
  });
});

describe("no user enumeration through a change of the phone authenticator", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());

  test("switched off while recoveries are open, a real one and a decoy answer a guess and a resend alike", async () => {
    const { user } = await userWithPhone(gateway, "+447400900010");
    gateway.clock.advance(600_000);
    const open = async (login: string) => (await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login, method: "SMS" } })).recoverPassword.stateHandle;
    const handles = { real: await open(user.login), decoy: await open("nobody-at-all@example.com") };
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { status: "INACTIVE" } });
    try {
      gateway.clock.advance(31_000);
      const answers = async (stateHandle: string) => ({
        guess: codeOf(await gateway.anonymous.request(VerifyFactorDocument, { input: { stateHandle, code: "000000" } })),
        resend: codeOf(await gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle } })),
      });
      const real = await answers(handles.real);
      expect(real).toEqual({ guess: "INVALID_CODE", resend: "OK" });
      expect(await answers(handles.decoy)).toEqual(real);
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { status: "ACTIVE" } });
    }
  });
});

describe("no user enumeration through the send limits of recovery", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ LIMIT_SENDS_PER_NUMBER_PER30S: "1" });
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());

  test("a real login past its number's send limit answers as an unknown login does, and sends nothing", async () => {
    const { user } = await userWithPhone(gateway, "+447400900005");
    gateway.clock.advance(30_000);
    const recover = (login: string) => gateway.anonymous.request(RecoverPasswordDocument, { input: { login, method: "SMS" } });
    expect((await recover(user.login)).data?.recoverPassword.status).toBe("RECOVERY_CHALLENGE");
    await settleMessages(gateway);
    const sentBefore = await gateway.db.manager.count(Message);

    const limited = await recover(user.login);
    expect(limited.errors).toBeUndefined();
    expect(limited.data?.recoverPassword.status).toBe("RECOVERY_CHALLENGE");
    expect((await recover("nobody-at-all@example.com")).data?.recoverPassword.status).toBe("RECOVERY_CHALLENGE");
    await settleMessages(gateway);
    expect(await gateway.db.manager.count(Message)).toBe(sentBefore);
  });
});

describe("no user enumeration through a recovery's resend", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    // A number's enrollment code and its recovery code are all a recovery may take of its 10
    // minutes: 3, one held back for the user's own sign-in.
    gateway = await startTestGateway({ LIMIT_SENDS_PER_NUMBER_PER10M: "3" });
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"] });
  });
  afterAll(() => gateway.stop());

  /** Starts a recovery by SMS, then, past the cooldown, resends (by `method`) twice in a row. */
  const resendAnswers = async (login: string, method?: "SMS" | "VOICE") => {
    const before = await gateway.db.manager.count(Message);
    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login, method: "SMS" } });
    await settleMessages(gateway);
    const sentBefore = await gateway.db.manager.count(Message);
    recovered.push(sentBefore - before);
    gateway.clock.advance(31_000);
    const answers: unknown[] = [];
    for (let i = 0; i < 2; i += 1) {
      const { errors } = await gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle: recoverPassword.stateHandle, method } });
      answers.push(errors ? errors[0]?.extensions?.code : "OK");
    }
    await settleMessages(gateway);
    return { answers, sent: (await gateway.db.manager.count(Message)) - sentBefore };
  };

  /** Codes each recovery sent: 1 for a real one, 0 for a decoy. */
  let recovered: number[] = [];
  beforeEach(() => {
    recovered = [];
  });

  test("a resend its number's send limit refuses answers as a decoy's does, and sends nothing", async () => {
    const { user } = await userWithPhone(gateway, "+447400900006");
    const decoy = await resendAnswers("nobody-at-all@example.com");
    expect(decoy).toEqual({ answers: ["OK", "RESEND_TOO_SOON"], sent: 0 });
    expect(await resendAnswers(user.login)).toEqual(decoy);
    expect(recovered).toEqual([0, 1]);
  });

  test("a method the user's own password policy does not allow, though another policy does, answers as a decoy's does", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "sms-recovery-only" });
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "PASSWORD", name: "SMS recovery only", priority: 1, groupIds: [createGroup.id], recoveryMethods: ["SMS"] },
    });
    try {
      const { user } = await userWithPhone(gateway, "+447400900007");
      await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });
      const decoy = await resendAnswers("nobody-at-all@example.com", "VOICE");
      expect(decoy).toEqual({ answers: ["OK", "RESEND_TOO_SOON"], sent: 0 });
      expect(await resendAnswers(user.login, "VOICE")).toEqual(decoy);
      expect(recovered).toEqual([0, 1]);
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });
});

describe("a recovery's resend withheld once inside its write", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    // The enrollment's code, the recovery's and one resend: all a recovery may take of the
    // number's 10 minutes (4, one held back for the user's own sign-in).
    gateway = await startTestGateway({ LIMIT_SENDS_PER_NUMBER_PER10M: "4" });
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"] });
  });
  afterAll(() => gateway.stop());

  test("gives back the send windows it was counted in: a resend that can go out still goes", async () => {
    const number = "+447400900008";
    const { user } = await userWithPhone(gateway, number);
    await gateway.admin.ok(UpdateCountryDocument, { code: "GB", input: { voiceEnabled: false } });
    try {
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
      const resend = async (method: "SMS" | "VOICE") => {
        gateway.clock.advance(31_000);
        const { errors } = await gateway.anonymous.request(ResendFactorChallengeDocument, { input: { stateHandle: recoverPassword.stateHandle, method } });
        expect(errors).toBeUndefined();
        return (await settleMessages(gateway)).filter((message) => message.toE164 === number).map((message) => message.channel);
      };
      // Calls are off in the number's country: answered as sent, and withheld.
      expect(await resend("VOICE")).toEqual(["SMS", "SMS"]);
      expect(await resend("SMS")).toEqual(["SMS", "SMS", "SMS"]);
    } finally {
      await gateway.admin.ok(UpdateCountryDocument, { code: "GB", input: { voiceEnabled: true } });
    }
  });
});

describe("recoveries started by someone else", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ LIMIT_SENDS_PER_NUMBER_PER10M: "3" });
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
    await requirePhone(gateway, ["SMS"]);
  });
  afterAll(() => gateway.stop());

  test("cannot take the last send of the number's window: the user still gets a code to sign in with", async () => {
    const number = "+447400900009";
    const { user, factor } = await userWithPhone(gateway, number);
    const sentTo = async () => (await settleMessages(gateway)).filter((message) => message.toE164 === number).length;
    // The enrollment took one; recoveries, 30 s apart, may take one more, and are withheld after.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      gateway.clock.advance(31_000);
      await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
    }
    expect(await sentTo()).toBe(2);
    gateway.clock.advance(31_000);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const { challengeFactor } = await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    expect(challengeFactor.status).toBe("MFA_CHALLENGE");
    expect(await sentTo()).toBe(3);
  });
});

