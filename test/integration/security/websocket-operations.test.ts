/**
 * Threat: a client that piles operations onto one WebSocket. Each live subscription holds a
 * listener, and every event it matches costs a read, so one socket could hold thousands; and an
 * operation id completed while its operation was still being set up, then subscribed again, left
 * the first run streaming after the socket closed, for as long as the process lived. A socket
 * may run MAX_OPERATIONS_PER_SOCKET operations at once (RATE_LIMITED, limit SOCKET_OPERATIONS,
 * past it), and an id in use is refused with 4409 until its operation has ended.
 */
import { once } from "node:events";
import { print } from "graphql";
import WebSocket from "ws";
import { SystemLogDocument } from "../../../src/generated/graphql";
import { deferred, withTimeout } from "../../support/deferred";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { recordMarker } from "../../support/log";

interface ProtocolMessage {
  type: string;
  id?: string;
  payload?: { data?: { systemLog?: { uuid: string } }; errors?: { extensions?: Record<string, unknown> }[] } | { extensions?: Record<string, unknown> }[];
}

const MAX_OPERATIONS = 3;

/** A bare graphql-transport-ws client, so that it can send what a well-behaved one never would. */
async function rawSocket(gateway: TestGateway) {
  const socket = new WebSocket(gateway.wsUrl, "graphql-transport-ws");
  const messages: ProtocolMessage[] = [];
  const acknowledged = deferred<void>();
  const closed = deferred<number>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as ProtocolMessage;
    messages.push(message);
    if (message.type === "connection_ack") acknowledged.resolve();
  });
  socket.on("close", (code) => closed.resolve(code));
  await once(socket, "open");
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `SSWS ${ADMIN_TOKEN}` } }));
  await withTimeout(acknowledged.promise, 5_000, "connection_ack");
  const subscribe = (id: string) => socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: print(SystemLogDocument), variables: {} } }));
  const complete = (id: string) => socket.send(JSON.stringify({ id, type: "complete" }));
  return { socket, messages, closed: closed.promise, subscribe, complete };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("operations on one WebSocket", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ MAX_OPERATIONS_PER_SOCKET: String(MAX_OPERATIONS) });
  });
  afterAll(() => gateway.stop());

  const subscribers = () => gateway.services.liveLog.subscriberCount;

  test("an id completed while its subscription is set up, then subscribed again, closes the socket with 4409 and leaves nothing running", async () => {
    const before = subscribers();
    const client = await rawSocket(gateway);
    client.subscribe("x");
    client.complete("x");
    client.subscribe("x");
    const code = await Promise.race([client.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 2_000))]);
    if (code === null) client.socket.close();
    await client.closed;
    await recordMarker(gateway, "after the socket closed");
    await until(() => subscribers() === before, "the subscriptions to end with the socket");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subscribers()).toBe(before);
    expect(code).toBe(4409);
  });

  test("an id may be used again once its subscription has ended", async () => {
    const before = subscribers();
    const client = await rawSocket(gateway);
    client.subscribe("x");
    await until(() => subscribers() === before + 1, "the first subscription to open");
    client.complete("x");
    await until(() => subscribers() === before, "the first subscription to end");
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.subscribe("x");
    await until(() => subscribers() === before + 1, "the second subscription to open");
    const uuid = await recordMarker(gateway, "to the reused id");
    await until(() => client.messages.some((message) => message.id === "x" && message.type === "next" && !Array.isArray(message.payload) && message.payload?.data?.systemLog?.uuid === uuid), "the event");
    client.socket.close();
    await client.closed;
    await until(() => subscribers() === before, "the subscription to end with the socket");
  });

  test(`past ${MAX_OPERATIONS} operations at once, the next is RATE_LIMITED; completing one makes room`, async () => {
    const before = subscribers();
    const client = await rawSocket(gateway);
    for (let index = 0; index < MAX_OPERATIONS; index += 1) client.subscribe(`live-${index}`);
    await until(() => subscribers() === before + MAX_OPERATIONS, "the subscriptions to open");
    client.subscribe("one-too-many");
    await until(() => client.messages.some((message) => message.id === "one-too-many"), "the refusal");
    const refusal = client.messages.find((message) => message.id === "one-too-many")!;
    expect(refusal.type).toBe("error");
    expect((refusal.payload as { extensions?: Record<string, unknown> }[])[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "SOCKET_OPERATIONS" });
    expect(subscribers()).toBe(before + MAX_OPERATIONS);

    client.complete("live-0");
    await until(() => subscribers() === before + MAX_OPERATIONS - 1, "the completed subscription to end");
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.subscribe("room-made");
    await until(() => subscribers() === before + MAX_OPERATIONS, "the new subscription to open");
    expect(client.messages.filter((message) => message.id === "room-made" && message.type === "error")).toEqual([]);
    client.socket.close();
    await client.closed;
    await until(() => subscribers() === before, "the subscriptions to end with the socket");
  });
});
