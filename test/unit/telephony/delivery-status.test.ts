import pino from "pino";
import { ManualClock } from "../../../src/platform/clock";
import type { Database } from "../../../src/platform/database";
import { createGatewayPubSub, type FanOutGaps } from "../../../src/platform/pubsub";
import { SubscriptionEnd } from "../../../src/platform/subscription-channel";
import { DeliveryStatusFeed } from "../../../src/telephony/delivery-status";
import type { Message } from "../../../src/telephony/message.entity";

const noGaps: FanOutGaps = { onResumed: () => () => undefined };
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("DeliveryStatusFeed when a read fails while an earlier one is still on its way", () => {
  test("the subscription ends with INTERNAL, and no rejection is left unhandled to end the process", async () => {
    const message = { id: "m1", challengeId: "c1", status: "QUEUED" } as Message;
    let releaseFirst: () => void = () => undefined;
    const manager = {
      // The first read of the challenge's messages, slow.
      find: () => new Promise<Message[]>((resolve) => (releaseFirst = () => resolve([message]))),
      // The read after a publication, failing first.
      findBy: () => Promise.reject(new Error("the pool timed out")),
    };
    const pubsub = createGatewayPubSub();
    const feed = new DeliveryStatusFeed({
      db: { manager } as unknown as Database,
      clock: new ManualClock(new Date("2031-01-01T12:00:00Z")),
      pubsub,
      fanOutGaps: noGaps,
      logger: pino({ level: "silent" }),
      bufferSize: 10,
    });
    const channel = feed.open("c1", async () => null);
    const received: unknown[] = [];
    const ended = (async () => {
      for (let next = await channel.next(); !next.done; next = await channel.next()) {
        received.push(next.value instanceof SubscriptionEnd ? next.value.error : next.value.status);
      }
    })();
    await settle();
    pubsub.publish("MESSAGE_STATUS", "c1", { messageId: "m1", challengeId: "c1" });
    await settle();
    releaseFirst();
    await ended;
    expect(received).toEqual(["QUEUED", expect.objectContaining({ extensions: expect.objectContaining({ code: "INTERNAL" }) })]);
  });
});
