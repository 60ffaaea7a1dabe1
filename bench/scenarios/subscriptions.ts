import { randomBytes } from "node:crypto";
import type { BenchContext } from "../lib/context";
import { SIGN_IN, SYSTEM_LOG_SUBSCRIPTION } from "../lib/operations";
import { goal } from "../lib/report";
import { ADMIN_TOKEN, startRingfence, type Ringfence } from "../lib/ringfence";
import { openFileLimit, SubscriberGroup } from "../lib/subscribers";
import { sleep } from "../lib/timing";

let signInSequence = 0;

/** One System Log event: a sign-in with an unknown login writes user.session.start (FAILURE). */
async function triggerEvent(gateway: Ringfence): Promise<void> {
  signInSequence += 1;
  const code = await gateway.anonymous.errorCode(SIGN_IN, {
    input: { login: `nobody-${signInSequence}@example.com`, password: "not the password" },
  });
  if (code !== "INVALID_CREDENTIALS") throw new Error(`the triggering sign-in answered ${code ?? "success"}, not INVALID_CREDENTIALS`);
}

interface FanoutResult {
  subscribers: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  deliveries: number;
}

/** `events` events made on `source`, one after the other, each waited for at every subscriber. */
async function fanout(group: SubscriberGroup, source: Ringfence, events: number): Promise<FanoutResult> {
  group.mark();
  group.clearArrivals();
  for (let event = 1; event <= events; event += 1) {
    await triggerEvent(source);
    await group.everyoneReceived(event, 60_000);
    // Lets the machine settle so events do not overlap and each one measures a fan-out alone.
    await sleep(100);
  }
  const summary = group.latencies();
  return { subscribers: group.size, p50: summary.p50, p95: summary.p95, p99: summary.p99, max: summary.max, deliveries: summary.count };
}

/** Opens subscribers on `target` up to each count in turn, measuring memory and fan-out at each. */
async function subscriberSteps(
  ctx: BenchContext,
  setup: { id: string; label: string; target: Ringfence; source: Ringfence; measureMemory: boolean },
): Promise<Map<number, FanoutResult>> {
  const { plan } = ctx;
  const results = new Map<number, FanoutResult>();
  const group = new SubscriberGroup(setup.target.child.wsUrl, `SSWS ${ADMIN_TOKEN}`, SYSTEM_LOG_SUBSCRIPTION);
  try {
    // Warm the gateway (the dummy password hash, the live feed's first load) before the memory baseline.
    await triggerEvent(setup.source);
    await sleep(500);
    const rssBefore = setup.target.child.rssBytes();
    for (const count of plan.subscribers) {
      const opening = Date.now();
      await group.growTo(count);
      // A probe event proves every subscription is registered before anything is measured.
      group.mark();
      await triggerEvent(setup.source);
      await group.everyoneReceived(1, 120_000);
      ctx.say(`${setup.id}: ${count} subscribers open and receiving (${((Date.now() - opening) / 1000).toFixed(1)} s)`);
      if (setup.measureMemory) {
        await sleep(1_000);
        const perSubscriptionKb = (setup.target.child.rssBytes() - rssBefore) / count / 1024;
        ctx.shared.set(`subscriptions.memory.${count}`, perSubscriptionKb);
        ctx.say(`${setup.id}: RSS grew ${perSubscriptionKb.toFixed(1)} KB per subscription`);
      }
      const result = await fanout(group, setup.source, plan.fanoutEvents);
      results.set(count, result);
      ctx.say(`${setup.id}: fan-out to ${count}: p50 ${result.p50} ms, p95 ${result.p95} ms, max ${result.max} ms`);
      ctx.measure({
        id: `${setup.id}.fanout-${count}`,
        scenario: "4. subscriptions",
        label: `${setup.label}: one event to ${count.toLocaleString("en-US")} subscribers`,
        unit: "deliveries/s",
        throughput: null,
        p50Ms: result.p50,
        p95Ms: result.p95,
        p99Ms: result.p99,
        notes: `${plan.fanoutEvents} events, one at a time; latency = arrival at the client − the event's published time; ${result.deliveries} deliveries`,
      });
    }
  } finally {
    await group.close();
  }
  return results;
}

/**
 * Scenario 4: idle `systemLog` subscriptions over graphql-ws, one socket each: memory per
 * subscription from the gateway's RSS (/proc), and the p95 delivery latency of one event to
 * every subscriber, on one instance (SQLite) and across two instances over Redis (PostgreSQL;
 * subscribers on A, the event made on B).
 */
export async function subscriptions(ctx: BenchContext): Promise<void> {
  const { plan } = ctx;
  const largest = Math.max(...plan.subscribers);
  const limit = openFileLimit();
  // The bench holds one descriptor per socket; so does the gateway, under the same limit.
  if (Number.isFinite(limit) && limit < largest + 1_000) {
    ctx.skip(
      "subscriptions",
      `the open-file limit (ulimit -n) is ${limit}, too low for ${largest} WebSockets; raise it (e.g. \`ulimit -n 65536\`) in the shell that runs the bench`,
    );
    return;
  }

  let single: Map<number, FanoutResult> | null = null;
  const gateway = await startRingfence(ctx.client, { name: "subscriptions", engine: "sqlite" });
  try {
    single = await subscriberSteps(ctx, {
      id: "subscriptions.single",
      label: "one instance, SQLite",
      target: gateway,
      source: gateway,
      measureMemory: true,
    });
  } finally {
    await gateway.dispose();
  }
  ctx.goal(
    goal({
      id: "subscriptions.memory",
      label: `4. memory per idle subscription (${largest.toLocaleString("en-US")})`,
      value: ctx.shared.get(`subscriptions.memory.${largest}`) ?? null,
      unit: "KB",
      comparator: "<=",
      target: 50,
      basis:
        "growth of the gateway's VmRSS from before the first subscriber to after the last, divided by the subscribers (one socket each)",
    }),
  );
  for (const [count, target] of [
    [1_000, 100],
    [10_000, 250],
  ] as const) {
    ctx.goal(
      goal({
        id: `subscriptions.fanout-${count}`,
        label: `4. fan-out p95 to ${count.toLocaleString("en-US")} subscribers`,
        value: single.get(count)?.p95 ?? null,
        unit: "ms",
        comparator: "<=",
        target,
        basis: "p95 over every delivery of every measured event, one instance on SQLite",
      }),
    );
  }

  if (!ctx.available.postgres || !ctx.available.redis) {
    ctx.skip("subscriptions over Redis", "PostgreSQL and Redis are both needed for two instances");
    return;
  }
  const prefix = `rfbench-${randomBytes(4).toString("hex")}`;
  const a = await startRingfence(ctx.client, {
    name: "fanout-a",
    engine: "postgres",
    redisPrefix: prefix,
    env: { DISPATCH_ENABLED: "false" },
  });
  let b: Ringfence | null = null;
  let pair: Map<number, FanoutResult> | null = null;
  try {
    b = await startRingfence(ctx.client, { name: "fanout-b", engine: "postgres", redisPrefix: prefix, shareWith: a });
    pair = await subscriberSteps(ctx, {
      id: "subscriptions.redis",
      label: "two instances over Redis, PostgreSQL",
      target: a,
      source: b,
      measureMemory: false,
    });
  } finally {
    await b?.stop();
    await a.dispose();
  }
  for (const count of [1_000, 10_000]) {
    const across = pair.get(count)?.p95;
    const alone = single.get(count)?.p95;
    ctx.goal(
      goal({
        id: `subscriptions.redis-${count}`,
        label: `4. fan-out p95 over Redis ÷ one instance (${count.toLocaleString("en-US")})`,
        value: across === undefined || alone === undefined ? null : across / Math.max(alone, 1),
        unit: "x",
        comparator: "<=",
        target: 2,
        basis: "p95 with subscribers on A and the event made on B, over the single-instance p95 (floored at 1 ms)",
      }),
    );
  }
}
