import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer, type ServerChild } from "../lib/children";
import type { BenchContext } from "../lib/context";
import type { CodeMessage } from "../servers/child";
import { inParallel, runFlow } from "../lib/load";
import { CHALLENGE_PHONE_FACTOR, VERIFY_CHALLENGE } from "../lib/operations";
import { monotonicUs, type ProfileWindow } from "../lib/profile";
import { goal } from "../lib/report";
import { DATABASE_URL, phoneNumber, startRingfence, userWithActiveFactor, type Ringfence } from "../lib/ringfence";
import { medianOf, withServerCpu, type RunResult } from "../lib/stats";
import { withTimeout } from "../lib/timing";

/** Numbers are handed to one flow at a time: a number never has two codes in flight. */
export class Pool<T> {
  private readonly free: T[];
  constructor(items: T[]) {
    this.free = [...items];
  }
  take(): T {
    const item = this.free.pop();
    if (item === undefined) throw new Error("The pool is empty: more flows in flight than numbers");
    return item;
  }
  give(item: T): void {
    this.free.unshift(item);
  }
}

interface Factor {
  factorId: string;
  phoneNumber: string;
}

const NUMBER_BLOCK = 1;

/** Seeds `count` users, each with an active SMS factor on its own number. */
export async function seedFactors(
  gateway: Ringfence,
  count: number,
  block: number,
  password?: string,
): Promise<(Factor & { login: string })[]> {
  const factors: (Factor & { login: string })[] = [];
  await inParallel(count, 8, async (index) => {
    const created = await userWithActiveFactor(gateway, `bench${index}@example.com`, phoneNumber(block, index), password);
    factors[index] = { factorId: created.factorId, phoneNumber: created.phoneNumber, login: created.login };
  });
  return factors;
}

/** challengePhoneFactor, the code read back from the simulator's inbox, verifyChallenge: one pair. */
async function ringfencePair(gateway: Ringfence, pool: Pool<Factor>): Promise<void> {
  const factor = pool.take();
  try {
    const since = Date.now();
    const { challengePhoneFactor } = await gateway.admin.run<{ challengePhoneFactor: { id: string } }>(CHALLENGE_PHONE_FACTOR, {
      input: { factorId: factor.factorId },
    });
    const code = await gateway.inbox.code(factor.phoneNumber, since);
    const { verifyChallenge } = await gateway.admin.run<{ verifyChallenge: { status: string } }>(VERIFY_CHALLENGE, {
      input: { challengeId: challengePhoneFactor.id, code },
    });
    if (verifyChallenge.status !== "VERIFIED") throw new Error(`verifyChallenge left the challenge ${verifyChallenge.status}`);
  } finally {
    pool.give(factor);
  }
}

/** Codes the peer hands over by IPC, matched to the flow waiting for its number. */
class PeerCodes {
  private readonly waiting = new Map<string, (code: string) => void>();
  private readonly early = new Map<string, string>();

  accept = (message: CodeMessage): void => {
    const waiter = this.waiting.get(message.phoneNumber);
    if (waiter) {
      this.waiting.delete(message.phoneNumber);
      waiter(message.code);
    } else this.early.set(message.phoneNumber, message.code);
  };

  code(to: string): Promise<string> {
    const early = this.early.get(to);
    if (early !== undefined) {
      this.early.delete(to);
      return Promise.resolve(early);
    }
    return withTimeout(new Promise<string>((resolve) => this.waiting.set(to, resolve)), 15_000, `the peer's code for ${to}`);
  }
}

interface PeerAnswer {
  status?: boolean;
  message?: string;
}

async function peerPair(ctx: BenchContext, peer: ServerChild, codes: PeerCodes, pool: Pool<string>): Promise<void> {
  const to = pool.take();
  try {
    const arrived = codes.code(to);
    const sent = await ctx.client.post<PeerAnswer>(`${peer.url}/phone-number/send-otp`, { phoneNumber: to });
    if (sent.status !== 200) throw new Error(`send-otp answered ${sent.status}: ${JSON.stringify(sent.body)}`);
    const code = await arrived;
    const verified = await ctx.client.post<PeerAnswer>(`${peer.url}/phone-number/verify`, { phoneNumber: to, code });
    if (verified.status !== 200 || verified.body.status !== true)
      throw new Error(`verify answered ${verified.status}: ${JSON.stringify(verified.body)}`);
  } finally {
    pool.give(to);
  }
}

interface Contender {
  id: string;
  label: string;
  server: ServerChild;
  pair: () => Promise<void>;
  runs: RunResult[];
}

/**
 * better-auth started on `engine` and warmed up: the first verification of each number creates
 * its user, so every measured pair is a returning user's.
 */
async function startPeer(ctx: BenchContext, engine: "sqlite" | "postgres", dataDir: string): Promise<Contender> {
  const codes = new PeerCodes();
  const schema = `rf_bench_peer_${randomBytes(5).toString("hex")}`;
  const server = await startServer({
    name: `better-auth-${engine}`,
    script: "better-auth-peer",
    env: engine === "postgres" ? { PEER_DATABASE_URL: DATABASE_URL, PEER_SCHEMA: schema } : { DATA_DIR: dataDir },
    onCode: codes.accept,
  });
  const numbers = Array.from({ length: ctx.plan.passcodePool }, (_, index) => phoneNumber(NUMBER_BLOCK, index));
  const pool = new Pool(numbers);
  await inParallel(numbers.length, 8, () => peerPair(ctx, server, codes, pool));
  return {
    id: engine === "sqlite" ? "passcode.peer" : "passcode.peer-postgres",
    label: `peer: better-auth phone-number, ${engine === "sqlite" ? "SQLite WAL" : "PostgreSQL"}`,
    server,
    pair: () => peerPair(ctx, server, codes, pool),
    runs: [],
  };
}

/**
 * Scenario 3: passcode pairs per second, the gateway on SQLite and on PostgreSQL (System Log
 * on, as always) against better-auth's phone-number plugin on SQLite, all alive at once and
 * measured in turn, run after run. The goal is set against the peer on SQLite for both of
 * the gateway's engines; better-auth on PostgreSQL runs too, for a like-for-like figure.
 */
export async function passcodeRoundTrip(ctx: BenchContext): Promise<void> {
  const { plan } = ctx;
  const gateways: Ringfence[] = [];
  const peers: ServerChild[] = [];
  const peerDir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-bench-peer-"));
  try {
    const engines: ("sqlite" | "postgres")[] = ctx.available.postgres ? ["sqlite", "postgres"] : ["sqlite"];
    if (!ctx.available.postgres) ctx.skip("passcode on PostgreSQL", "PostgreSQL is not reachable");
    const contenders: Contender[] = [];
    for (const engine of engines) {
      const peer = await startPeer(ctx, engine, peerDir);
      peers.push(peer.server);
      contenders.push(peer);
    }

    // BENCH_BASELINE_BUILD: another commit's bench build, run beside this one (an A/B in one run).
    const builds: Array<{ suffix: string; label: string; buildDir?: string }> = [{ suffix: "", label: "" }];
    if (process.env.BENCH_BASELINE_BUILD) builds.push({ suffix: "-baseline", label: " (baseline build)", buildDir: process.env.BENCH_BASELINE_BUILD });
    // A build older than the handset's hand-over has its codes read from the table: so then are
    // both. BENCH_CODES=database does the same, to compare with runs from before it.
    const codes = builds.length > 1 || process.env.BENCH_CODES === "database" ? "database" : "handed-over";
    if (codes === "database") ctx.say("codes are read from the inbox table (BENCH_CODES=database, or a baseline build that may not hand them over)");
    for (const engine of engines) {
      for (const build of builds) {
        ctx.say(`seeding ${plan.passcodePool} users with active factors on ${engine}${build.label}`);
        const gateway = await startRingfence(ctx.client, { name: `passcode-${engine}${build.suffix}`, engine, buildDir: build.buildDir, codes });
        gateways.push(gateway);
        const pool = new Pool<Factor>(await seedFactors(gateway, plan.passcodePool, NUMBER_BLOCK));
        contenders.push({
          id: `passcode.ringfence-${engine}${build.suffix}`,
          label: `Ringfence challenge + verify, ${engine === "sqlite" ? "SQLite" : "PostgreSQL"}${build.label}`,
          server: gateway.child,
          pair: () => ringfencePair(gateway, pool),
          runs: [],
        });
      }
    }

    const flow = (contender: Contender, durationMs: number) =>
      runFlow({ concurrency: plan.flowConcurrency, durationMs, maxOperations: 1_000_000, operation: contender.pair });
    for (const contender of contenders) await flow(contender, 1_000);
    for (let run = 0; run < plan.runs; run += 1) {
      for (const contender of contenders)
        contender.runs.push(await withServerCpu(contender.server, () => flow(contender, plan.runSeconds * 1000)));
      ctx.say(`run ${run + 1}/${plan.runs}: ${contenders.map((c) => `${c.id} ${Math.round(c.runs.at(-1)!.throughput)}/s`).join(", ")}`);
    }

    const throughput = new Map<string, number>();
    const cpuPerPair = new Map<string, number | null>();
    for (const contender of contenders) {
      const result = medianOf(contender.runs);
      throughput.set(contender.id, result.throughput);
      cpuPerPair.set(contender.id, result.serverCpuMsPerOp);
      ctx.measure({
        id: contender.id,
        scenario: "3. passcode round trip",
        label: contender.label,
        unit: "pairs/s",
        throughput: result.throughput,
        p50Ms: result.p50,
        p99Ms: result.p99,
        serverCpuMsPerOp: result.serverCpuMsPerOp,
        errors: result.errors,
        runs: result.runs,
        notes: `${plan.flowConcurrency} flows in flight over ${plan.passcodePool} numbers, ${plan.runs} runs of ${plan.runSeconds} s, median; codes read back without a request to the server`,
      });
    }
    const peerRate = throughput.get("passcode.peer")!;
    for (const engine of ["sqlite", "postgres"] as const) {
      const rate = throughput.get(`passcode.ringfence-${engine}`);
      ctx.goal(
        goal({
          id: `passcode.${engine}-to-peer`,
          label: `3. passcode pairs/s ${engine === "sqlite" ? "SQLite" : "PostgreSQL"} ÷ better-auth`,
          value: rate === undefined ? null : rate / peerRate,
          unit: "x",
          comparator: ">=",
          target: 1.5,
          basis: "median pairs/s of the gateway over median pairs/s of the peer (send-otp + verify on SQLite WAL), runs interleaved",
        }),
      );
      const ownCpu = cpuPerPair.get(`passcode.ringfence-${engine}`);
      const peerCpu = cpuPerPair.get("passcode.peer");
      if (ownCpu && peerCpu) {
        ctx.goal(
          goal({
            id: `passcode.${engine}-cpu-to-peer`,
            label: `3. peer CPU per pair ÷ Ringfence's, ${engine === "sqlite" ? "SQLite" : "PostgreSQL"} (steadier)`,
            value: peerCpu / ownCpu,
            unit: "x",
            comparator: null,
            target: null,
            basis:
              "each server's own CPU time per pair (/proc/<pid>/stat); PostgreSQL's own CPU is not counted for the gateway on PostgreSQL",
          }),
        );
      }
    }
    // Like for like: both on PostgreSQL, where every statement is a round trip for either side.
    const postgresRate = throughput.get("passcode.ringfence-postgres");
    const postgresPeerRate = throughput.get("passcode.peer-postgres");
    if (postgresRate !== undefined && postgresPeerRate !== undefined) {
      ctx.goal(
        goal({
          id: "passcode.postgres-to-peer-postgres",
          label: "3. passcode pairs/s PostgreSQL ÷ better-auth on PostgreSQL (like for like)",
          value: postgresRate / postgresPeerRate,
          unit: "x",
          comparator: null,
          target: null,
          basis: "median pairs/s of the gateway over median pairs/s of the peer, both on the same PostgreSQL server, runs interleaved",
        }),
      );
      const ownCpu = cpuPerPair.get("passcode.ringfence-postgres");
      const peerCpu = cpuPerPair.get("passcode.peer-postgres");
      if (ownCpu && peerCpu) {
        ctx.goal(
          goal({
            id: "passcode.postgres-cpu-to-peer-postgres",
            label: "3. peer CPU per pair ÷ Ringfence's, both on PostgreSQL",
            value: peerCpu / ownCpu,
            unit: "x",
            comparator: null,
            target: null,
            basis: "each server's own CPU time per pair (/proc/<pid>/stat), PostgreSQL's not counted for either",
          }),
        );
      }
    }
  } finally {
    for (const gateway of gateways) await gateway.dispose();
    for (const peer of peers) await peer.stop();
    fs.rmSync(peerDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_PROFILE: the same pairs on SQLite against a gateway started with --cpu-prof, apart
 * from the measured runs so the profiler's cost lands on no reported figure. Resolves with
 * the profile file, written when the gateway exits, and the span of the profiled load in it
 * (start-up and seeding are outside).
 */
export async function profilePasscodeRoundTrip(ctx: BenchContext): Promise<{ file: string; window: ProfileWindow }> {
  const { plan } = ctx;
  if (!ctx.profile) throw new Error("profiling is off");
  const name = `gateway-passcode-${ctx.profile.stamp}.cpuprofile`;
  const gateway = await startRingfence(ctx.client, { name: "profiled", engine: ctx.profile.engine, cpuProfile: { dir: ctx.profile.dir, name } });
  const window: ProfileWindow = { fromUs: 0, toUs: 0 };
  try {
    const pool = new Pool<Factor>(await seedFactors(gateway, plan.passcodePool, NUMBER_BLOCK));
    await runFlow({
      concurrency: plan.flowConcurrency,
      durationMs: 1_000,
      maxOperations: 1_000_000,
      operation: () => ringfencePair(gateway, pool),
    });
    window.fromUs = monotonicUs();
    const result = await runFlow({
      concurrency: plan.flowConcurrency,
      durationMs: Math.max(5_000, plan.runSeconds * 2_000),
      maxOperations: 1_000_000,
      operation: () => ringfencePair(gateway, pool),
    });
    window.toUs = monotonicUs();
    ctx.say(`profiled ${result.operations} pairs (${Math.round(result.throughput)}/s under the profiler)`);
  } finally {
    await gateway.dispose();
  }
  const file = path.join(ctx.profile.dir, name);
  if (!fs.existsSync(file)) throw new Error(`The gateway wrote no profile at ${file}`);
  return { file, window };
}
