import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { Client } from "pg";
import { killAllChildren, REPO_ROOT, runChildrenFrom } from "./lib/children";
import type { BenchContext } from "./lib/context";
import { JsonClient } from "./lib/http-client";
import { planFor } from "./lib/plan";
import { summarizeProfile } from "./lib/profile";
import { goalsTable, measurementsTable, svgChart, type BenchResults, type GoalRow, type MeasurementRow } from "./lib/report";
import { DATABASE_URL, REDIS_URL } from "./lib/ringfence";
import { withTimeout } from "./lib/timing";
import { dispatcher } from "./scenarios/dispatcher";
import { passcodeRoundTrip, profilePasscodeRoundTrip } from "./scenarios/passcode";
import { plainQuery } from "./scenarios/plain-query";
import { signInFlow } from "./scenarios/sign-in";
import { subscriptions } from "./scenarios/subscriptions";
import { systemLog } from "./scenarios/system-log";

const USAGE = `npm run bench [-- options]

  --quick          a pass of about a minute: fewer and shorter runs, 1,000 subscribers, logs up to 100k
  --only=a,b       only these scenarios: plain, passcode, sign-in, subscriptions, logs, dispatcher
  --source         run the servers from TypeScript under ts-node instead of a compiled build
  --no-build       reuse the last build in node_modules/.cache/ringfence-bench

  BENCH_PROFILE=1  also profile the gateway (node --cpu-prof) through the passcode round trip,
                   the slowest request path, and report its top frames; =postgres profiles
                   it on PostgreSQL instead of SQLite
  BENCH_BASELINE_BUILD=<dir>  also run the passcode round trip on another commit's bench build
                   (tsc -p bench/tsconfig.json --outDir <dir> on that commit), beside this one:
                   a change's effect measured in one run rather than across two
  BENCH_CODES=database  read the gateway's one-time codes from its inbox table, as runs before
                   the simulator handed them over did (a baseline build implies it)
  BENCH_DATABASE_URL / DATABASE_URL   PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
  BENCH_REDIS_URL / REDIS_URL         Redis (default redis://127.0.0.1:6379)`;

const SCENARIOS = {
  plain: plainQuery,
  passcode: passcodeRoundTrip,
  "sign-in": signInFlow,
  subscriptions,
  logs: systemLog,
  dispatcher,
} as const;
type ScenarioName = keyof typeof SCENARIOS;

const BUILD_DIR = path.join(REPO_ROOT, "node_modules", ".cache", "ringfence-bench");

interface Options {
  quick: boolean;
  only: ScenarioName[];
  source: boolean;
  build: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, only: Object.keys(SCENARIOS) as ScenarioName[], source: false, build: true };
  for (const argument of argv) {
    if (argument === "--quick") options.quick = true;
    else if (argument === "--source") options.source = true;
    else if (argument === "--no-build") options.build = false;
    else if (argument.startsWith("--only=")) {
      const names = argument.slice("--only=".length).split(",").filter(Boolean);
      const unknown = names.filter((name) => !(name in SCENARIOS));
      if (unknown.length) throw new Error(`Unknown scenario ${unknown.join(", ")}\n\n${USAGE}`);
      options.only = names as ScenarioName[];
    } else if (argument === "--help" || argument === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`Unknown option ${argument}\n\n${USAGE}`);
  }
  return options;
}

/**
 * The servers run compiled, as in production. The bench compiles src/ with its servers into
 * its own folder rather than dist/, so it never races a build of someone else's.
 */
function build(): void {
  if (buildIsCurrent()) {
    console.log("the bench's build of the gateway is up to date");
    return;
  }
  console.log("building the gateway and the bench servers (tsc -p bench/tsconfig.json)...");
  const result = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", path.join(REPO_ROOT, "bench", "tsconfig.json")],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 600_000,
    },
  );
  const emitted = fs.existsSync(path.join(BUILD_DIR, "bench", "servers", "gateway.js"));
  if (result.status !== 0) {
    const errors = `${result.stdout}${result.stderr}`.trim();
    if (!emitted) throw new Error(`The build failed:\n${errors}`);
    // tsc emits despite type errors; the numbers are still of this tree, which the reader should know.
    console.warn(`warning: the build reported type errors; measuring what it emitted:\n${errors.split("\n").slice(0, 10).join("\n")}`);
  }
}

/** Newer than every source it compiles: nothing to do (tsc would still spend half a minute checking). */
function buildIsCurrent(): boolean {
  const stamp = path.join(BUILD_DIR, "tsbuildinfo");
  if (!fs.existsSync(stamp) || !fs.existsSync(path.join(BUILD_DIR, "bench", "servers", "gateway.js"))) return false;
  const built = fs.statSync(stamp).mtimeMs;
  const newer = (folder: string): boolean =>
    fs.readdirSync(folder, { withFileTypes: true }).some((entry) => {
      const full = path.join(folder, entry.name);
      return entry.isDirectory() ? newer(full) : fs.statSync(full).mtimeMs > built;
    });
  return (
    ![path.join(REPO_ROOT, "src"), path.join(REPO_ROOT, "bench", "servers")].some(newer) &&
    fs.statSync(path.join(REPO_ROOT, "tsconfig.json")).mtimeMs <= built
  );
}

async function reachable(): Promise<{ postgres: boolean; redis: boolean }> {
  const postgres = await (async () => {
    const client = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  const redis = await (async () => {
    const connection = new Redis(REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 3_000,
      retryStrategy: () => null,
    });
    connection.on("error", () => undefined);
    try {
      await withTimeout(connection.connect(), 4_000, "Redis");
      return (await connection.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      connection.disconnect();
    }
  })();
  return { postgres, redis };
}

function gitState(): { commit: string | null; dirty: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: REPO_ROOT, encoding: "utf8" }).trim().length > 0;
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: true };
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const plan = planFor(options.quick);
  const started = Date.now();
  // The whole run is bounded: a hung scenario ends the bench, its servers with it.
  const limitMs = (options.quick ? 15 : 120) * 60_000;
  const watchdog = setTimeout(() => {
    console.error(`The bench ran past its ${limitMs / 60_000} minute limit; stopping every server it started.`);
    killAllChildren();
    process.exit(3);
  }, limitMs);
  watchdog.unref();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
  process.once("exit", killAllChildren);

  if (!options.source) {
    if (options.build) build();
    runChildrenFrom(BUILD_DIR);
  }
  const stamp = new Date(started)
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
  const resultsDir = path.join(REPO_ROOT, "bench", "results");
  fs.mkdirSync(resultsDir, { recursive: true });
  const profiled = ({ "1": "sqlite", true: "sqlite", postgres: "postgres" } as const)[process.env.BENCH_PROFILE ?? ""] ?? null;

  const available = await reachable();
  const results: BenchResults = {
    version: 1,
    date: new Date(started).toISOString(),
    mode: options.quick ? "quick" : "full",
    durationSec: 0,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageAtStart: os.loadavg(),
      loadAverageAtEnd: [],
    },
    git: gitState(),
    children: options.source ? "source" : "build",
    measurements: [],
    goals: [],
    skipped: [],
    profile: null,
  };
  const client = new JsonClient(256);
  const ctx: BenchContext = {
    plan,
    client,
    available,
    profile: profiled ? { dir: path.join(os.tmpdir(), `ringfence-bench-profile-${stamp}`), stamp, engine: profiled } : null,
    say: (message) => console.log(`  ${message}`),
    measure: (row: MeasurementRow) => results.measurements.push(row),
    goal: (row: GoalRow) => results.goals.push(row),
    skip: (what, reason) => {
      console.warn(`  skipped ${what}: ${reason}`);
      results.skipped.push(`${what}: ${reason}`);
    },
    shared: new Map(),
  };
  console.log(
    `Ringfence bench (${results.mode}) on ${results.machine.cpus} cores, load ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(" ")}; ` + `PostgreSQL ${available.postgres ? "yes" : "no"}, Redis ${available.redis ? "yes" : "no"}`,
  );
  if (os.loadavg()[0]! > results.machine.cpus * 0.5) {
    console.warn("warning: the machine is busy; figures are noisy, ratios within this run remain comparable");
  }

  for (const name of options.only) {
    const scenarioStart = Date.now();
    console.log(`\n== ${name}`);
    try {
      await SCENARIOS[name](ctx);
    } catch (error) {
      ctx.skip(name, error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    console.log(`   (${((Date.now() - scenarioStart) / 1000).toFixed(1)} s)`);
  }

  if (ctx.profile) {
    const engineName = ctx.profile.engine === "sqlite" ? "SQLite" : "PostgreSQL";
    console.log(`\n== profile (BENCH_PROFILE): the gateway under the passcode round trip on ${engineName}`);
    try {
      const { file, window } = await profilePasscodeRoundTrip(ctx);
      // Kept beside the results for DevTools, under a name .gitignore already leaves out.
      const kept = path.join(resultsDir, `${stamp}-passcode-${ctx.profile.engine}.cpuprofile.tmp`);
      fs.copyFileSync(file, kept);
      results.profile = summarizeProfile(kept, `passcode round trip, ${engineName}`, window);
      fs.rmSync(ctx.profile.dir, { recursive: true, force: true });
    } catch (error) {
      ctx.skip("profile", error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
  }

  client.close();
  results.machine.loadAverageAtEnd = os.loadavg();
  results.durationSec = Math.round((Date.now() - started) / 1000);
  const base = path.join(resultsDir, `${stamp}${options.quick ? "-quick" : ""}`);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(`${base}.svg`, svgChart(results));

  console.log(
    `\nGoals (${results.mode}, ${results.machine.cpus} cores, load at start ${results.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}):\n`,
  );
  console.log(goalsTable(results));
  console.log("\nMeasurements (median of runs):\n");
  console.log(measurementsTable(results));
  if (results.profile) {
    console.log(
      `\nProfile (${results.profile.file}): idle ${results.profile.idlePercent.toFixed(1)}%, GC ${results.profile.garbageCollectionPercent.toFixed(1)}%`,
    );
    for (const frame of results.profile.topSelf.slice(0, 15)) {
      console.log(`  ${frame.selfPercent.toFixed(1).padStart(5)}%  ${frame.functionName}  ${frame.location}`);
    }
    console.log("  by module:");
    for (const module of results.profile.byModule.slice(0, 10))
      console.log(`  ${module.selfPercent.toFixed(1).padStart(5)}%  ${module.module}`);
    console.log("  the gateway's own functions, inclusive:");
    for (const frame of results.profile.topInclusiveProject.slice(0, 12)) {
      console.log(`  ${frame.selfPercent.toFixed(1).padStart(5)}%  ${frame.functionName}  ${frame.location}`);
    }
  }
  if (results.skipped.length) console.log(`\nSkipped or failed:\n  ${results.skipped.map((line) => line.split("\n")[0]).join("\n  ")}`);
  console.log(`\nWrote ${path.relative(REPO_ROOT, base)}.json and .svg in ${results.durationSec} s`);
  clearTimeout(watchdog);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    killAllChildren();
    process.exit(1);
  },
);
