/**
 * Threat: a revoked admin token, or an ended session, that keeps acting through a WebSocket it
 * opened before. The socket was authenticated once, at connect; every query and mutation sent
 * over it is authenticated again, by the same rules as over HTTP, so it stops when the
 * credential does. (Subscriptions already running are re-checked as they deliver: see
 * system-log.revoked-credential.test.ts.)
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { ApiTokensDocument, CreateApiTokenDocument, MeDocument, RevokeApiTokenDocument, SignInDocument, SignOutDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";
import { withTimeout } from "../../support/deferred";
import { record } from "../../support/subscriptions";
import { PASSWORD } from "../../support/transactions";

/** graphql-ws's error message: the operation refused before it ran, as a failed validation is. */
const refused = { kind: "error", error: [expect.objectContaining({ extensions: expect.objectContaining({ code: "UNAUTHENTICATED" }) })] };

describe("operations over a WebSocket whose credential has lapsed", () => {
  let gateway: TestGateway;
  const sockets: Client[] = [];
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.dispose()));
    await gateway.stop();
  });

  /** A socket held open between operations (not lazy), as a long-lived page keeps one. */
  const open = async (authorization: string) => {
    const socket = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization }, lazy: false, retryAttempts: 0 });
    sockets.push(socket);
    await withTimeout(new Promise<void>((resolve) => socket.on("connected", () => resolve())), 5_000, "the socket to connect");
    return socket;
  };

  test("a revoked admin token's socket can no longer query or mutate", async () => {
    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "leaked" });
    const socket = await open(`SSWS ${createApiToken.token}`);
    const before = record(socket, ApiTokensDocument, {});
    expect(await before.ended()).toEqual({ kind: "complete" });
    expect(before.data[0]?.apiTokens.map((token) => token.name)).toContain("leaked");

    await gateway.admin.ok(RevokeApiTokenDocument, { id: createApiToken.apiToken.id });
    const minted = record(socket, CreateApiTokenDocument, { name: "minted-after-revocation" });
    expect(await minted.ended()).toEqual(refused);
    const { apiTokens } = await gateway.admin.ok(ApiTokensDocument);
    expect(apiTokens.map((token) => token.name)).not.toContain("minted-after-revocation");
  });

  test("a signed-out session's socket can no longer query", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const socket = await open(`Bearer ${signIn.sessionToken}`);
    const before = record(socket, MeDocument, {});
    expect(await before.ended()).toEqual({ kind: "complete" });
    expect(before.data[0]?.me?.id).toBe(user.id);

    await gateway.client(`Bearer ${signIn.sessionToken}`).ok(SignOutDocument);
    const after = record(socket, MeDocument, {});
    expect(await after.ended()).toEqual(refused);
  });
});
