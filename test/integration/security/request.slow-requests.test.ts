/**
 * Threat: connections held open. A client that sends its request a byte at a time (slowloris),
 * or a request whose answer stalls, would otherwise keep a socket and its memory for as long as
 * it likes; enough of them exhaust the server.
 */
import net from "node:net";
import { RecoverPasswordDocument } from "../../../src/generated/graphql";
import { deferred, withTimeout } from "../../support/deferred";
import { startTestGateway, type TestGateway } from "../../support/gateway";

describe("slow requests (REQUEST_TIMEOUT_MS=1000)", () => {
  let gateway: TestGateway;
  const recoveryDone = deferred<void>();
  beforeAll(async () => {
    // The recovery floor makes recoverPassword answer no sooner than 3 s: a stalled answer.
    gateway = await startTestGateway({ REQUEST_TIMEOUT_MS: "1000", RECOVERY_RESPONSE_FLOOR_MS: "3000" });
    const transactions = gateway.services.transactions;
    const recoverPassword = transactions.recoverPassword.bind(transactions);
    transactions.recoverPassword = (...args) => recoverPassword(...args).finally(() => recoveryDone.resolve());
  });
  afterAll(async () => {
    // The deadline does not cancel the work: let it end before the database goes away.
    await withTimeout(recoveryDone.promise, 10_000, "the stalled recovery to end");
    await gateway.stop();
  });

  test("a request whose body never finishes arriving gets 408 and its connection closed", async () => {
    const socket = net.connect(gateway.port, "127.0.0.1");
    const closed = deferred<string>();
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", () => closed.resolve(received));
    socket.on("error", () => closed.resolve(received));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`);
    const started = Date.now();
    const answer = await withTimeout(closed.promise, 10_000, "the server to close a slow request");
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("a request not answered in time gets 503 INTERNAL with its request id, and the server carries on", async () => {
    const started = Date.now();
    const result = await gateway.anonymous.request(RecoverPasswordDocument, { input: { login: "nobody@example.com", method: "SMS" } });
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(result.status).toBe(503);
    expect(result.errors).toEqual([{ message: expect.any(String), extensions: { code: "INTERNAL", requestId: result.headers.get("x-request-id") } }]);
    const health = await fetch(gateway.url.replace(/\/graphql$/, "/healthz"));
    expect(health.status).toBe(200);
  });
});
