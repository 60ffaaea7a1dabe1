/**
 * Threat: concurrent brute force. Fifty requests with different guesses arrive at the same
 * moment, hoping that each reads "attempts left" before any of them spends one.
 */
import { VerifyChallengeDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, wrongCodeFor } from "../../support/phone";

describe("concurrent brute force", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("50 parallel wrong guesses: exactly maxAttempts are compared, the rest are TOO_MANY_ATTEMPTS", async () => {
    const { challenge, code } = await openChallenge(gateway, "+447400600002");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: wrongCodeFor(code, i + 1) } })),
    );
    const counts = results.reduce<Record<string, number>>((acc, error) => ({ ...acc, [error.code]: (acc[error.code] ?? 0) + 1 }), {});
    expect(counts).toEqual({ INVALID_CODE: 5, TOO_MANY_ATTEMPTS: 45 });
    expect((await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } })).code).toBe("TOO_MANY_ATTEMPTS");
  });

  test("50 parallel requests with the right code among wrong ones: at most one succeeds, and only within the cap", async () => {
    const { challenge, code } = await openChallenge(gateway, "+447400600003");
    const guesses = Array.from({ length: 49 }, (_, i) => wrongCodeFor(code, i + 1));
    guesses.splice(25, 0, code);
    const results = await Promise.all(guesses.map((guess) => gateway.admin.request(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: guess } })));
    const successes = results.filter((result) => result.data?.verifyChallenge.status === "VERIFIED");
    const compared = results.filter((result) => result.data || result.errors?.[0]?.extensions?.code === "INVALID_CODE");
    expect(successes.length).toBeLessThanOrEqual(1);
    expect(compared.length).toBeLessThanOrEqual(5);
  });
});
