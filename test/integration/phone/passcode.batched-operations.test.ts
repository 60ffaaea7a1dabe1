/**
 * Threat: batched guessing. HTTP array batches, or many operations multiplexed on one
 * graphql-ws connection, each with its own guess.
 */
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { VerifyChallengeDocument } from "../../../src/generated/graphql";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, wrongCodeFor } from "../../support/phone";

describe("batched guessing", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("an HTTP array batch is refused whole and spends no attempt", async () => {
    const { challenge, code } = await openChallenge(gateway, "+447400600004");
    const batch = Array.from({ length: 10 }, (_, i) => ({
      query: print(VerifyChallengeDocument),
      variables: { input: { challengeId: challenge.id, code: wrongCodeFor(code, i + 1) } },
    }));
    const result = await gateway.admin.raw(JSON.stringify(batch));
    expect(result.status).toBe(400);
    const { verifyChallenge } = await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } });
    expect(verifyChallenge.status).toBe("VERIFIED");
  });

  test("30 operations at once on one WebSocket: at most maxAttempts are compared", async () => {
    const { challenge, code } = await openChallenge(gateway, "+447400600005");
    const client = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `SSWS ${ADMIN_TOKEN}` }, retryAttempts: 0 });
    try {
      const run = (guess: string) =>
        new Promise<string>((resolve, reject) => {
          client.subscribe(
            { query: print(VerifyChallengeDocument), variables: { input: { challengeId: challenge.id, code: guess } } },
            {
              next: (result) => resolve(String(result.errors?.[0]?.extensions?.code ?? "OK")),
              error: reject,
              complete: () => undefined,
            },
          );
        });
      const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => run(wrongCodeFor(code, i + 1))));
      expect(outcomes.filter((c) => c === "INVALID_CODE")).toHaveLength(5);
      expect(outcomes.filter((c) => c === "TOO_MANY_ATTEMPTS")).toHaveLength(25);
    } finally {
      await client.dispose();
    }
  });
});
