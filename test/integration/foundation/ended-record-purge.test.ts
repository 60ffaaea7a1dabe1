/**
 * Housekeeping: sessions, sign-in transactions and challenges are deleted a day after they end,
 * and the simulator's inbox a day after it received. Without it these tables grow with every
 * sign-in for as long as the gateway runs, and every user's session list with them.
 */
import { ChallengeFactorDocument, MeDocument, SignInDocument, SignOutDocument, VerifyFactorDocument } from "../../../src/generated/graphql";
import { Challenge } from "../../../src/phone/challenge.entity";
import { SessionRecord } from "../../../src/sessions/session.entity";
import { SimulatorMessageRecord } from "../../../src/telephony/providers/simulator.entity";
import { AuthTransactionRecord } from "../../../src/transactions/auth-transaction.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { enroll, settleMessages } from "../../support/phone";
import { PASSWORD, passwordOnly, requirePhone, setGlobalSessionRules, signedIn, userWithPhone } from "../../support/transactions";

const DAY_MS = 86_400_000;

describe("the ended record purge", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());
  beforeEach(() => passwordOnly(gateway));

  const rows = async () => ({
    sessions: await gateway.db.manager.count(SessionRecord),
    transactions: await gateway.db.manager.count(AuthTransactionRecord),
    challenges: await gateway.db.manager.count(Challenge),
    simulatorMessages: await gateway.db.manager.count(SimulatorMessageRecord),
  });
  const minus = (a: Awaited<ReturnType<typeof rows>>, b: Awaited<ReturnType<typeof rows>>) => ({
    sessions: a.sessions - b.sessions,
    transactions: a.transactions - b.transactions,
    challenges: a.challenges - b.challenges,
    simulatorMessages: a.simulatorMessages - b.simulatorMessages,
  });

  test("what ended over a day ago goes; what ended since, and what lives on, stays and still works", async () => {
    await gateway.services.endedRecordPurge.runOnce();
    const start = await rows();

    // All of this ends within the next two hours.
    const { user, factor } = await userWithPhone(gateway, "+447400820001");
    await (await signedIn(gateway, user.login)).ok(SignOutDocument);
    const idled = await signedIn(gateway, user.login);
    await requirePhone(gateway);
    const { signIn: abandoned } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(abandoned.status).toBe("MFA_REQUIRED");
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: abandoned.stateHandle, factorId: factor.id } });
    await settleMessages(gateway);
    const ending = minus(await rows(), start);
    expect(ending).toEqual({ sessions: 2, transactions: expect.any(Number), challenges: 2, simulatorMessages: 2 });

    // A session that may sit idle for the longest a policy allows, 30 days (more milliseconds than
    // PostgreSQL's integer holds): two days on, its last request is over a day old, and it lives.
    await setGlobalSessionRules(gateway, [
      {
        name: "Long idle",
        access: "ALLOW",
        factorRequirement: "PASSWORD_ONLY",
        sessionLifetimeMinutes: 43_200,
        sessionIdleMinutes: 43_200,
      },
    ]);
    const longIdle = await signedIn(gateway, user.login);
    // The session lives on, but the sign-in that opened it has ended with the rest.
    ending.transactions += 1;
    gateway.clock.advance(2 * DAY_MS);

    // Ended an hour ago, or live now.
    const signedOutLately = await signedIn(gateway, user.login);
    await signedOutLately.ok(SignOutDocument);
    gateway.clock.advance(3_600_000);
    const live = await signedIn(gateway, user.login);
    await enroll(gateway, user.id, "+447400820002");
    await settleMessages(gateway);
    const before = await rows();

    expect(await gateway.services.endedRecordPurge.runOnce()).toEqual(ending);
    expect(await rows()).toEqual(minus(before, ending));
    expect(await gateway.services.endedRecordPurge.runOnce()).toEqual({
      sessions: 0,
      transactions: 0,
      challenges: 0,
      simulatorMessages: 0,
    });

    expect((await longIdle.ok(MeDocument)).me?.id).toBe(user.id);
    expect((await live.ok(MeDocument)).me?.id).toBe(user.id);
    // Gone or not, what had ended is refused as before.
    expect((await idled.fails(MeDocument)).code).toBe("UNAUTHENTICATED");
    const { code } = await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: abandoned.stateHandle, code: "123456" } });
    expect(code).toBe("TRANSACTION_EXPIRED");
  });

  test("a backlog goes in batches, all of it", async () => {
    const longAgo = gateway.clock.now().getTime() - 3 * DAY_MS;
    const ended = Array.from({ length: 2_500 }, (_, index) => ({
      id: `ses_backlog_${index}`,
      tokenHash: `backlog-${String(index).padStart(8, "0")}`.padEnd(64, "0"),
      userId: "usr_backlog",
      created: new Date(longAgo),
      expiresAt: new Date(longAgo + 7_200_000),
      idleTimeoutMinutes: 60,
      lastSeen: new Date(longAgo),
      mfaAt: null,
      revoked: null,
    }));
    for (let index = 0; index < ended.length; index += 250) {
      await gateway.db.transaction(({ manager }) => manager.insert(SessionRecord, ended.slice(index, index + 250)));
    }
    expect((await gateway.services.endedRecordPurge.runOnce()).sessions).toBe(2_500);
    expect(await gateway.db.manager.countBy(SessionRecord, { userId: "usr_backlog" })).toBe(0);
  });
});
