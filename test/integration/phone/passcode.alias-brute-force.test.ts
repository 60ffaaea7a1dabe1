/**
 * Threat: alias brute force. One GraphQL operation carries many aliased verifyChallenge
 * fields, each with a different guess, hoping that the attempt cap is checked once per
 * request rather than once per comparison.
 */
import { ChallengeByIdDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, wrongCodeFor } from "../../support/phone";

describe("alias brute force", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("however many aliased guesses are sent, at most maxAttempts codes are compared and the right one among them is refused", async () => {
    const { challenge, code } = await openChallenge(gateway, "+447400600001");
    const guesses = Array.from({ length: 20 }, (_, i) => wrongCodeFor(code, i + 1));
    guesses.push(code);
    const fields = guesses
      .map((guess, i) => `g${i}: verifyChallenge(input: { challengeId: "${challenge.id}", code: "${guess}" }) { id status }`)
      .join("\n");
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round += 1) {
      const result = await gateway.admin.raw<Record<string, { status: string } | null>>(JSON.stringify({ query: `mutation { ${fields} }` }));
      outcomes.push(...(result.errors ?? []).map((error) => String(error.extensions?.code)));
      expect(Object.values(result.data ?? {}).filter((value) => value?.status === "VERIFIED")).toHaveLength(0);
    }
    const rows = await gateway.db.dataSource.query(
      `SELECT attempts_used FROM challenges WHERE id = ${gateway.config.engine === "postgres" ? "$1" : "?"}`,
      [challenge.id],
    );
    const { challenge: after } = await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id });
    if (outcomes.includes("QUERY_TOO_COMPLEX")) {
      // Refused whole before execution (one passcode field per operation): nothing was compared.
      expect(new Set(outcomes)).toEqual(new Set(["QUERY_TOO_COMPLEX"]));
      expect(Number(rows[0].attempts_used)).toBe(0);
      expect(after?.status).toBe("PENDING");
    } else {
      expect(new Set(outcomes)).toEqual(new Set(["INVALID_CODE", "TOO_MANY_ATTEMPTS"]));
      expect(outcomes.filter((c) => c === "INVALID_CODE").length).toBeLessThanOrEqual(5);
      expect(Number(rows[0].attempts_used)).toBeLessThanOrEqual(5);
      expect(after?.status).toBe("FAILED");
    }
  });
});
