import { startServer, type ServerChild } from "../lib/children";
import type { BenchContext } from "../lib/context";
import { cannon } from "../lib/load";
import { HELLO, PHONE_AUTHENTICATOR } from "../lib/operations";
import { goal } from "../lib/report";
import { ADMIN_TOKEN, startRingfence, type Ringfence } from "../lib/ringfence";
import { medianOf, withServerCpu, type RunResult } from "../lib/stats";

interface Target {
  id: string;
  label: string;
  scenario: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  expectBody: string;
  server: ServerChild;
  runs: RunResult[];
}

/**
 * Scenarios 1 and 2: the raw node:http floor, B0 (bare Apollo answering `{ hello }`) and the
 * gateway's `phoneAuthenticator` under an admin token, all three alive at once and measured in
 * turn, run after run, so a change in the machine's load lands on each of them alike.
 */
export async function plainQuery(ctx: BenchContext): Promise<void> {
  const { plan } = ctx;
  const servers: ServerChild[] = [];
  let gateway: Ringfence | null = null;
  try {
    ctx.say("starting raw node:http, bare Apollo (B0) and the gateway");
    const raw = await startServer({ name: "raw-http", script: "raw-http" });
    servers.push(raw);
    const apollo = await startServer({ name: "apollo-hello", script: "apollo-hello" });
    servers.push(apollo);
    gateway = await startRingfence(ctx.client, { name: "plain", engine: "sqlite" });

    const targets: Target[] = [];
    const add = async (
      id: string,
      scenario: string,
      label: string,
      server: ServerChild,
      query: string,
      headers: Record<string, string> = {},
    ) => {
      const body = JSON.stringify({ query });
      const first = await ctx.client.postText(server.url, body, headers);
      if (first.status !== 200 || first.text.includes('"errors"'))
        throw new Error(`${label} answered ${first.status}: ${first.text.slice(0, 300)}`);
      targets.push({ id, scenario, label, url: server.url, body, headers, expectBody: first.text, server, runs: [] });
    };
    await add("baseline.raw-http", "1. baselines", "raw node:http, fixed JSON", raw, HELLO);
    await add("baseline.apollo", "1. baselines", "B0: bare Apollo Server 5, { hello }", apollo, HELLO);
    await add(
      "plain.phone-authenticator",
      "2. plain query",
      "Ringfence phoneAuthenticator (admin token)",
      gateway.child,
      PHONE_AUTHENTICATOR,
      {
        authorization: `SSWS ${ADMIN_TOKEN}`,
      },
    );

    // Warm-up: JIT, caches and keep-alive sockets, none of it measured.
    for (const target of targets) await cannon({ ...target, connections: plan.connections, durationSec: 1 });
    for (let run = 0; run < plan.runs; run += 1) {
      for (const target of targets) {
        target.runs.push(
          await withServerCpu(target.server, () => cannon({ ...target, connections: plan.connections, durationSec: plan.runSeconds })),
        );
      }
      ctx.say(
        `run ${run + 1}/${plan.runs}: ${targets.map((target) => `${target.id} ${Math.round(target.runs.at(-1)!.throughput)}/s`).join(", ")}`,
      );
    }

    const measured = new Map<string, number>();
    const cpuPerRequest = new Map<string, number | null>();
    for (const target of targets) {
      const result = medianOf(target.runs);
      measured.set(target.id, result.throughput);
      cpuPerRequest.set(target.id, result.serverCpuMsPerOp);
      ctx.measure({
        id: target.id,
        scenario: target.scenario,
        label: target.label,
        unit: "req/s",
        throughput: result.throughput,
        p50Ms: result.p50,
        p99Ms: result.p99,
        serverCpuMsPerOp: result.serverCpuMsPerOp,
        errors: result.errors,
        runs: result.runs,
        notes: `autocannon, ${plan.connections} connections, ${plan.runs} runs of ${plan.runSeconds} s, median`,
      });
    }
    const b0 = measured.get("baseline.apollo")!;
    ctx.goal(
      goal({
        id: "plain.ratio-to-b0",
        label: "2. phoneAuthenticator req/s ÷ B0",
        value: measured.get("plain.phone-authenticator")! / b0,
        unit: "x",
        comparator: ">=",
        target: 0.85,
        basis: "median req/s of the gateway over median req/s of bare Apollo, same connections and durations, runs interleaved",
      }),
    );
    const gatewayCpu = cpuPerRequest.get("plain.phone-authenticator");
    const b0Cpu = cpuPerRequest.get("baseline.apollo");
    ctx.goal(
      goal({
        id: "plain.cpu-ratio-to-b0",
        label: "2. B0 CPU per request ÷ phoneAuthenticator's (steadier)",
        value: gatewayCpu && b0Cpu ? b0Cpu / gatewayCpu : null,
        unit: "x",
        comparator: null,
        target: null,
        basis:
          "the same comparison from each server's own CPU time per request (/proc/<pid>/stat), which a busy machine disturbs less than req/s",
      }),
    );
    ctx.goal(
      goal({
        id: "baseline.b0-to-raw",
        label: "1. B0 req/s ÷ raw node:http (context)",
        value: b0 / measured.get("baseline.raw-http")!,
        unit: "x",
        comparator: null,
        target: null,
        basis: "what Apollo and express cost before the gateway adds anything",
      }),
    );
  } finally {
    await gateway?.dispose();
    for (const server of servers) await server.stop();
  }
}
