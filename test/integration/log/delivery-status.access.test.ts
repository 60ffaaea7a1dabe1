/**
 * Threat: watching someone else's sign-in. Delivery status tells when a code reached a phone
 * (and, to admins, which phone); a page may only watch the challenge of its own transaction,
 * proven by the transaction's state handle, or a signed-in user their own challenges.
 */
import type { Client } from "graphql-ws";
import {
  ChallengeFactorDocument,
  ClearUserSessionsDocument,
  DeliveryStatusDocument,
  SetSimulatorRulesDocument,
  SignInDocument,
  SuspendUserDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { REVALIDATE_AFTER_MS } from "../../../src/auth/credential-revalidation";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, receivedCode } from "../../support/phone";
import { record, wsClient } from "../../support/subscriptions";
import { PASSWORD, requirePhone, userWithPhone } from "../../support/transactions";

/** Receipts for these come well after the hand-over, so a change of heart can fall between the two. */
const SLOW_RECEIPTS = "+447400329";

describe("deliveryStatus: who may watch", () => {
  let gateway: TestGateway;
  let anonymous: Client;
  beforeAll(async () => {
    gateway = await startTestGateway();
    anonymous = wsClient(gateway);
    await requirePhone(gateway);
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: SLOW_RECEIPTS, outcome: "DELIVERED", delayMs: 1_500 }] });
  });
  afterAll(async () => {
    await anonymous.dispose();
    await gateway.stop();
  });

  /** A sign-in waiting for its SMS code: the page holds `stateHandle`. */
  async function signInAwaitingCode(phoneNumber: string) {
    const { user, factor } = await userWithPhone(gateway, phoneNumber);
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const { challengeFactor } = await gateway.anonymous.ok(ChallengeFactorDocument, {
      input: { stateHandle: signIn.stateHandle, factorId: factor.id },
    });
    return { user, factorId: factor.id, stateHandle: signIn.stateHandle, challengeId: challengeFactor.challenge!.id };
  }

  const refusal = async (client: Client, challengeId: string, stateHandle?: string) => {
    const live = record(client, DeliveryStatusDocument, { challengeId, stateHandle });
    const error = await live.firstError();
    expect(await live.ended()).toEqual({ kind: "complete" });
    expect(live.data).toEqual([]);
    return error.extensions?.code;
  };

  test("the page holding the transaction's state handle may watch, and sees the number masked", async () => {
    const { stateHandle, challengeId } = await signInAwaitingCode("+447400321001");
    const live = record(anonymous, DeliveryStatusDocument, { challengeId, stateHandle });
    await live.count(1, "the current state");
    expect(live.results[0]?.errors).toBeUndefined();
    expect(live.data[0]?.deliveryStatus.to).toMatch(/^\+44 X+/);
    expect(live.data[0]?.deliveryStatus.to).not.toContain("7400321001");
    live.stop();
  });

  test("a wrong state handle is FORBIDDEN, and no state handle at all UNAUTHENTICATED", async () => {
    const { stateHandle, challengeId } = await signInAwaitingCode("+447400321002");
    expect(await refusal(anonymous, challengeId, `${stateHandle}x`)).toBe("FORBIDDEN");
    expect(await refusal(anonymous, challengeId, "not a state handle")).toBe("FORBIDDEN");
    expect(await refusal(anonymous, challengeId)).toBe("UNAUTHENTICATED");
  });

  test("an id that names no challenge is refused as someone else's is: only an admin learns it does not exist", async () => {
    const { stateHandle } = await signInAwaitingCode("+447400321009");
    expect(await refusal(anonymous, "chl_doesNotExist", stateHandle)).toBe("FORBIDDEN");
    expect(await refusal(anonymous, "chl_doesNotExist")).toBe("UNAUTHENTICATED");
    const admin = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    try {
      expect(await refusal(admin, "chl_doesNotExist")).toBe("NOT_FOUND");
    } finally {
      await admin.dispose();
    }
  });

  test("one transaction's state handle does not open another transaction's challenge", async () => {
    const mine = await signInAwaitingCode("+447400321003");
    const theirs = await signInAwaitingCode("+447400321004");
    expect(await refusal(anonymous, theirs.challengeId, mine.stateHandle)).toBe("FORBIDDEN");
  });

  test("a state handle opens nothing that no transaction holds (an admin's enrollment)", async () => {
    const { stateHandle } = await signInAwaitingCode("+447400321005");
    const user = await createUser(gateway);
    const { challenge } = await enroll(gateway, user.id, "+447400321006", "SMS");
    expect(await refusal(anonymous, challenge.id, stateHandle)).toBe("FORBIDDEN");
  });

  test("the signed-in owner may watch their challenge; another signed-in user may not", async () => {
    const owner = await signInAwaitingCode("+447400321007");
    const code = await receivedCode(gateway, "+447400321007");
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: owner.stateHandle, code } });
    const ownerSession = wsClient(gateway, `Bearer ${verifyFactor.sessionToken}`);
    const other = await signInAwaitingCode("+447400321008");
    try {
      const live = record(ownerSession, DeliveryStatusDocument, { challengeId: owner.challengeId });
      await live.count(1, "the current state");
      expect(live.results[0]?.errors).toBeUndefined();
      live.stop();
      expect(await refusal(ownerSession, other.challengeId)).toBe("FORBIDDEN");
    } finally {
      await ownerSession.dispose();
    }
  });

  test.each([
    ["their user is suspended", "001", (userId: string) => gateway.admin.ok(SuspendUserDocument, { id: userId })],
    ["an admin clears their sessions", "002", (userId: string) => gateway.admin.ok(ClearUserSessionsDocument, { userId })],
  ])("a signed-in owner's watch ends with UNAUTHENTICATED once %s", async (_case, line, endSessions) => {
    const phoneNumber = `${SLOW_RECEIPTS}${line}`;
    const first = await signInAwaitingCode(phoneNumber);
    const { verifyFactor } = await gateway.anonymous.ok(VerifyFactorDocument, {
      input: { stateHandle: first.stateHandle, code: await receivedCode(gateway, phoneNumber) },
    });
    // A second sign-in of the same user, from another device: its code's receipt is still to come.
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: first.user.login, password: PASSWORD } });
    const { challengeFactor } = await gateway.anonymous.ok(ChallengeFactorDocument, {
      input: { stateHandle: signIn.stateHandle, factorId: first.factorId },
    });
    const ownerSession = wsClient(gateway, `Bearer ${verifyFactor.sessionToken}`);
    try {
      const live = record(ownerSession, DeliveryStatusDocument, { challengeId: challengeFactor.challenge!.id });
      await live.count(1, "the current state");

      await endSessions(first.user.id);
      gateway.clock.advance(REVALIDATE_AFTER_MS);
      const error = await live.firstError();
      expect(error.extensions?.code).toBe("UNAUTHENTICATED");
      expect(await live.ended()).toEqual({ kind: "complete" });
      expect(live.data.map((data) => data.deliveryStatus.status)).not.toContain("DELIVERED");
    } finally {
      await ownerSession.dispose();
    }
  });

  test("a finished or expired transaction's state handle no longer opens its challenge", async () => {
    const finished = await signInAwaitingCode("+447400321009");
    const code = await receivedCode(gateway, "+447400321009");
    await gateway.anonymous.ok(VerifyFactorDocument, { input: { stateHandle: finished.stateHandle, code } });
    expect(await refusal(anonymous, finished.challengeId, finished.stateHandle)).toBe("FORBIDDEN");

    const expiring = await signInAwaitingCode("+447400321010");
    gateway.clock.advance(24 * 60 * 60_000);
    expect(await refusal(anonymous, expiring.challengeId, expiring.stateHandle)).toBe("FORBIDDEN");
  });
});
