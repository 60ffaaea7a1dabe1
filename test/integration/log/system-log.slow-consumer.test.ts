/**
 * Threat: a dashboard that stops reading. Events for it would pile up in the gateway's memory
 * and, if fan-out waited on it, hold up every other subscriber. Each subscription has its own
 * bounded buffer (SUBSCRIPTION_BUFFER_SIZE); one that falls that far behind is ended with
 * RATE_LIMITED (limit SUBSCRIPTION_BUFFER) while the others, and the server, carry on.
 */
import { once } from "node:events";
import type { Client } from "graphql-ws";
import { LogsDocument, SystemLogDocument } from "../../../src/generated/graphql";
import { deferred, withTimeout } from "../../support/deferred";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { recordMarker, subscribeSystemLog } from "../../support/log";
import { bareSocket, wsClient, type ProtocolMessage } from "../../support/subscriptions";

const BUFFER = 20;
/** Large enough, at ~100 KB each, to fill the socket buffers of a reader that stopped. */
const EVENTS = 400;
const PADDING = "x".repeat(100_000);

describe("systemLog with a client that stops reading", () => {
  let gateway: TestGateway;
  let fast: Client;
  beforeAll(async () => {
    gateway = await startTestGateway({ SUBSCRIPTION_BUFFER_SIZE: String(BUFFER) });
    fast = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
  });
  afterAll(async () => {
    await fast.dispose();
    await gateway.stop();
  });

  test("the stalled subscription is ended with RATE_LIMITED; the other gets every event and the server keeps answering", async () => {
    const live = await subscribeSystemLog(gateway, fast);

    // A bare graphql-transport-ws client, so that it can stop reading its socket.
    const stalled = await bareSocket(gateway, `SSWS ${ADMIN_TOKEN}`);
    const { messages } = stalled;
    const ended = deferred<void>();
    stalled.socket.on("message", (data) => {
      const { type } = JSON.parse(String(data)) as ProtocolMessage;
      if (type === "complete" || type === "error") ended.resolve();
    });
    const opened = once(gateway.events, "systemLog:opened");
    stalled.subscribe("1", SystemLogDocument);
    await withTimeout(opened, 5_000, "the stalled client's subscription to open");
    stalled.socket.pause();

    // In rounds smaller than the buffer, each waited for at the reading client: it never falls
    // behind by more than a round, while the stalled one falls further behind with each.
    const uuids: string[] = [];
    const ROUND = BUFFER / 2;
    for (let round = 0; round < EVENTS / ROUND; round++) {
      for (let index = 0; index < ROUND; index++) uuids.push(await recordMarker(gateway, `bulk ${round}.${index}`, { padding: PADDING }));
      const last = uuids.at(-1)!;
      await live.until((results) => results.some((result) => result.data?.systemLog.uuid === last), `round ${round} at the reading client`);
    }
    const received = live.data.map((data) => data.systemLog.uuid);
    expect(received.slice(received.indexOf(uuids[0]!))).toEqual(uuids);
    expect((await gateway.admin.ok(LogsDocument, { first: 1 })).logs.edges).toHaveLength(1);

    stalled.socket.resume();
    await withTimeout(ended.promise, 30_000, "the stalled subscription to end");
    const delivered = messages.filter((message) => message.type === "next" && message.payload?.data);
    const ending = messages.filter((message) => message.type === "next" && message.payload?.errors);
    expect(delivered.length).toBeLessThan(EVENTS);
    expect(ending).toHaveLength(1);
    expect(ending[0]?.payload?.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "SUBSCRIPTION_BUFFER" });
    expect(messages.at(-1)).toEqual({ id: "1", type: "complete" });
    stalled.socket.close();
  }, 120_000);
});
