import pino from "pino";
import { LiveLogFeed } from "../../../src/log/live-log";
import type { LogQueryService } from "../../../src/log/log-query.service";
import type { LogEvent } from "../../../src/log/log.types";
import { ManualClock } from "../../../src/platform/clock";
import { createGatewayPubSub, type FanOutGaps } from "../../../src/platform/pubsub";
import { SubscriptionEnd } from "../../../src/platform/subscription-channel";

/** The fan-out's gaps, told by hand: what Redis coming back would tell. */
class ManualGaps implements FanOutGaps {
  private readonly listeners = new Set<(lostAt: Date) => void>();
  onResumed(listener: (lostAt: Date) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  resume(lostAt: Date): void {
    for (const listener of this.listeners) listener(lostAt);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("LiveLogFeed catching up after a gap in the fan-out", () => {
  const clock = new ManualClock(new Date("2031-01-01T12:00:00Z"));
  const events = new Map<string, LogEvent>();
  const event = (uuid: string, published: Date) => events.set(uuid, { uuid, published } as LogEvent);
  const queries = {
    loadEvents: async (uuids: readonly string[]) =>
      new Map(uuids.flatMap((uuid) => (events.has(uuid) ? [[uuid, events.get(uuid)!] as const] : []))),
    publishedSince: async (since: Date) => [...events.values()].filter((one) => one.published >= since).map((one) => one.uuid),
  } as unknown as LogQueryService;

  beforeEach(() => events.clear());

  function feed() {
    const pubsub = createGatewayPubSub();
    const gaps = new ManualGaps();
    const live = new LiveLogFeed({ pubsub, fanOutGaps: gaps, clock, queries, logger: pino({ level: "silent" }), bufferSize: 100 });
    const channel = live.open(null, async () => null);
    const received: string[] = [];
    void (async () => {
      for (let next = await channel.next(); !next.done; next = await channel.next()) received.push((next.value as LogEvent).uuid);
    })();
    return { pubsub, gaps, live, received };
  }

  test("an event the catch-up delivered is not delivered again when its publication arrives after", async () => {
    const { pubsub, gaps, live, received } = feed();
    event("late-publication", clock.now());
    gaps.resume(clock.now());
    await settle();
    pubsub.publish("LOG_EVENT", { uuid: "late-publication" });
    await settle();
    expect(received).toEqual(["late-publication"]);
    live.stop();
  });

  test("a subscription made during the gap gets nothing from the catch-up stamped well before it subscribed", async () => {
    event("long-before-subscribing", new Date(clock.now().getTime() - 6_000));
    const { gaps, live, received } = feed();
    event("after-subscribing", clock.now());
    gaps.resume(new Date(clock.now().getTime() - 7_000));
    await settle();
    expect(received).toEqual(["after-subscribing"]);
    live.stop();
  });

  test("an event stamped just before the subscription, whose transaction committed after, comes by the catch-up as it would live", async () => {
    const { gaps, live, received } = feed();
    event("stamped-before-committed-after", new Date(clock.now().getTime() - 2));
    gaps.resume(clock.now());
    await settle();
    expect(received).toEqual(["stamped-before-committed-after"]);
    live.stop();
  });
});

describe("LiveLogFeed when a load fails while an earlier one is still on its way", () => {
  const clock = new ManualClock(new Date("2031-01-01T12:00:00Z"));

  // Jest fails a test that leaves a rejection unhandled, as Node ends a process that does.
  test("the feeds end with INTERNAL, and no rejection is left unhandled to end the process", async () => {
    let releaseFirst: () => void = () => undefined;
    const queries = {
      loadEvents: (uuids: readonly string[]) =>
        uuids.includes("slow")
          ? new Promise<Map<string, LogEvent>>((resolve) => {
              releaseFirst = () => resolve(new Map([["slow", { uuid: "slow", published: clock.now() } as LogEvent]]));
            })
          : Promise.reject(new Error("the pool timed out")),
      publishedSince: async () => [],
    } as unknown as LogQueryService;
    const pubsub = createGatewayPubSub();
    const live = new LiveLogFeed({
      pubsub,
      fanOutGaps: new ManualGaps(),
      clock,
      queries,
      logger: pino({ level: "silent" }),
      bufferSize: 100,
    });
    try {
      const channel = live.open(null, async () => null);
      const received: unknown[] = [];
      const ended = (async () => {
        for (let next = await channel.next(); !next.done; next = await channel.next()) {
          received.push(next.value instanceof SubscriptionEnd ? next.value.error : next.value.uuid);
        }
      })();
      pubsub.publish("LOG_EVENT", { uuid: "slow" });
      await settle();
      pubsub.publish("LOG_EVENT", { uuid: "failing" });
      await settle();
      releaseFirst();
      await ended;
      expect(received).toEqual(["slow", expect.objectContaining({ extensions: expect.objectContaining({ code: "INTERNAL" }) })]);
    } finally {
      live.stop();
    }
  });
});
