/**
 * A PostgreSQL transaction holds a pooled connection until it ends. A read made meanwhile
 * through the pool, rather than through the transaction, waits for a second one: under a burst
 * that fills the pool, every transaction waits on another's connection until the pool's timeout
 * and fails INTERNAL. Here the pool has one connection free, so such a read times out at once.
 */
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver";
import {
  RecoverPasswordDocument,
  ResendChallengeDocument,
  ResendFactorChallengeDocument,
  SignInDocument,
  ChallengeFactorDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, receivedCode } from "../../support/phone";
import { PASSWORD, requirePhone, setPasswordPolicy, userWithPhone } from "../../support/transactions";

const describeOnPostgres = process.env.DATABASE_URL?.startsWith("postgres") ? describe : describe.skip;

/** Past every once-a-second cache (settings, countries, tokens), so that each step reads them again. */
const CACHES_LAPSE_MS = 31_000;

describeOnPostgres("a transaction reads through its own connection (a pool of two, one held elsewhere)", () => {
  let gateway: TestGateway;
  let held: { release(): void } | null = null;
  beforeAll(async () => {
    // Two, the fewest a pool may have: one is held below, so every step has the other alone.
    gateway = await startTestGateway({ DATABASE_POOL_SIZE: "2" });
    await requirePhone(gateway);
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
    held = await (gateway.db.manager.connection.driver as PostgresDriver).master.connect();
  });
  afterAll(async () => {
    held?.release();
    await gateway.stop();
  });

  test("enrollment, a challenge and its resend each send with one connection", async () => {
    gateway.clock.advance(CACHES_LAPSE_MS);
    const { challenge } = await openChallenge(gateway, "+447400700101");
    gateway.clock.advance(CACHES_LAPSE_MS);
    const { resendChallenge } = await gateway.admin.ok(ResendChallengeDocument, { input: { challengeId: challenge.id, method: "VOICE" } });
    expect(resendChallenge.method).toBe("VOICE");
    await receivedCode(gateway, "+447400700101");
  });

  test("a sign-in's challenge, resend and verification, and a recovery, each with one connection", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700102");
    gateway.clock.advance(CACHES_LAPSE_MS);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    gateway.clock.advance(CACHES_LAPSE_MS);
    await gateway.anonymous.ok(ChallengeFactorDocument, { input: { stateHandle: signIn.stateHandle, factorId: factor.id } });
    await receivedCode(gateway, "+447400700102");
    gateway.clock.advance(CACHES_LAPSE_MS);
    await gateway.anonymous.ok(ResendFactorChallengeDocument, { input: { stateHandle: signIn.stateHandle, method: "VOICE" } });
    const code = await receivedCode(gateway, "+447400700102");
    gateway.clock.advance(1_000);
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code } });
    expect(verifyFactor.status).toBe("SUCCESS");

    gateway.clock.advance(CACHES_LAPSE_MS);
    const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
    expect(recoverPassword.status).toBe("RECOVERY_CHALLENGE");
    await receivedCode(gateway, "+447400700102");
  });
});
