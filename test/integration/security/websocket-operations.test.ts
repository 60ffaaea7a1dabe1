/**
 * Threat: a client that piles operations onto one WebSocket. Each live subscription holds a
 * listener, and every event it matches costs a read, so one socket could hold thousands; and an
 * operation id completed while its operation was still being set up, then subscribed again, left
 * the first run streaming after the socket closed, for as long as the process lived. A socket
 * may run MAX_OPERATIONS_PER_SOCKET operations at once (RATE_LIMITED, limit SOCKET_OPERATIONS,
 * past it), and an id in use is refused with 4409 until its operation has ended.
 */
import { SystemLogDocument } from "../../../src/generated/graphql";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { recordMarker } from "../../support/log";
import { bareSocket, type ProtocolMessage } from "../../support/subscriptions";

const MAX_OPERATIONS = 3;

/** Subscribes `id` to the whole System Log. */
const subscribeLog = (client: Awaited<ReturnType<typeof bareSocket>>, id: string) => client.subscribe(id, SystemLogDocument);

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
    const client = await bareSocket(gateway, `SSWS ${ADMIN_TOKEN}`);
    subscribeLog(client, "x");
    client.complete("x");
    subscribeLog(client, "x");
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
    const client = await bareSocket(gateway, `SSWS ${ADMIN_TOKEN}`);
    subscribeLog(client, "x");
    await until(() => subscribers() === before + 1, "the first subscription to open");
    client.complete("x");
    await until(() => subscribers() === before, "the first subscription to end");
    await new Promise((resolve) => setTimeout(resolve, 50));
    subscribeLog(client, "x");
    await until(() => subscribers() === before + 1, "the second subscription to open");
    const uuid = await recordMarker(gateway, "to the reused id");
    const carries = (message: ProtocolMessage) => (message.payload?.data as { systemLog?: { uuid: string } } | undefined)?.systemLog?.uuid === uuid;
    await until(() => client.messages.some((message) => message.id === "x" && message.type === "next" && carries(message)), "the event");
    client.socket.close();
    await client.closed;
    await until(() => subscribers() === before, "the subscription to end with the socket");
  });

  test(`past ${MAX_OPERATIONS} operations at once, the next is RATE_LIMITED; completing one makes room`, async () => {
    const before = subscribers();
    const client = await bareSocket(gateway, `SSWS ${ADMIN_TOKEN}`);
    for (let index = 0; index < MAX_OPERATIONS; index += 1) subscribeLog(client, `live-${index}`);
    await until(() => subscribers() === before + MAX_OPERATIONS, "the subscriptions to open");
    subscribeLog(client, "one-too-many");
    await until(() => client.messages.some((message) => message.id === "one-too-many"), "the refusal");
    const refusal = client.messages.find((message) => message.id === "one-too-many")!;
    expect(refusal.type).toBe("error");
    expect((refusal.payload as unknown as { extensions?: Record<string, unknown> }[])[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "SOCKET_OPERATIONS" });
    expect(subscribers()).toBe(before + MAX_OPERATIONS);

    client.complete("live-0");
    await until(() => subscribers() === before + MAX_OPERATIONS - 1, "the completed subscription to end");
    await new Promise((resolve) => setTimeout(resolve, 50));
    subscribeLog(client, "room-made");
    await until(() => subscribers() === before + MAX_OPERATIONS, "the new subscription to open");
    expect(client.messages.filter((message) => message.id === "room-made" && message.type === "error")).toEqual([]);
    client.socket.close();
    await client.closed;
    await until(() => subscribers() === before, "the subscriptions to end with the socket");
  });
});
