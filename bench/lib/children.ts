import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { ChildMessage, CodeMessage, HandsetIpcMessage } from "../servers/child";
import { withTimeout } from "./timing";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export type ServerScript = "gateway" | "raw-http" | "apollo-hello" | "better-auth-peer";

/**
 * Where the children's code comes from: the bench's own compiled copy of src/ and
 * bench/servers/ (production-like, the default), or the TypeScript sources under ts-node.
 */
let buildDir: string | null = null;
export function runChildrenFrom(compiledRoot: string | null): void {
  buildDir = compiledRoot;
}

export interface ServerOptions {
  name: string;
  script: ServerScript;
  env?: Record<string, string>;
  /** Write a V8 CPU profile of this child into `dir` when it exits. */
  cpuProfile?: { dir: string; name: string };
  /** Node's own flags, before the script. */
  nodeFlags?: string[];
  /** One-time codes the peer hands over. */
  onCode?: (message: CodeMessage) => void;
  /** Messages the gateway's simulated handset hands over. */
  onHandset?: (message: HandsetIpcMessage) => void;
  /** @default 120000: a first start on PostgreSQL migrates a fresh schema */
  startTimeoutMs?: number;
  /** Run from this compiled copy instead of the bench's own (another commit's build, for an A/B). */
  buildDir?: string;
}

export interface ServerChild {
  name: string;
  /** The GraphQL (or auth API) endpoint. */
  url: string;
  wsUrl: string;
  pid: number;
  /** Whether it hands over what its simulated handset receives (onHandset). */
  handset: boolean;
  /** Resident set size from /proc/<pid>/status, in bytes: what the kernel charges the process. */
  rssBytes(): number;
  /** CPU time the process has used (user + system, /proc/<pid>/stat), in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/**
 * Children get a clean environment, never the bench's: a DATABASE_URL or REDIS_URL in the
 * shell must not quietly move an SQLite scenario onto PostgreSQL.
 */
function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) if (process.env[name] !== undefined) inherited[name] = process.env[name];
  return { ...inherited, NODE_ENV: "production", ...extra };
}

export async function startServer(options: ServerOptions): Promise<ServerChild> {
  const nodeArgs: string[] = [...(options.nodeFlags ?? [])];
  if (options.cpuProfile) {
    fs.mkdirSync(options.cpuProfile.dir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfile.dir}`, `--cpu-prof-name=${options.cpuProfile.name}`);
  }
  const compiled = options.buildDir ?? buildDir;
  const entry = compiled
    ? [path.join(compiled, "bench", "servers", `${options.script}.js`)]
    : ["-r", "ts-node/register/transpile-only", path.join(REPO_ROOT, "bench", "servers", `${options.script}.ts`)];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: REPO_ROOT,
    env: childEnvironment({ ...(compiled ? {} : { TS_NODE_TRANSPILE_ONLY: "true" }), ...options.env }),
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  live.add(child);
  // Output is kept only as a tail for the error message, and always read so a chatty child never blocks on a full pipe.
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      live.delete(child);
      resolve();
    }),
  );

  const listening = new Promise<{ url: string; handset: boolean }>((resolve, reject) => {
    child.on("message", (message: ChildMessage) => {
      if (message.kind === "listening") resolve({ url: message.url, handset: message.handset === true });
      else if (message.kind === "code") options.onCode?.(message);
      else if (message.kind === "handset") options.onHandset?.(message);
    });
    child.once("exit", (code, signal) => reject(new Error(`${options.name} exited (${signal ?? code}) before listening:\n${output}`)));
  });
  let url: string;
  let handset: boolean;
  try {
    ({ url, handset } = await withTimeout(listening, options.startTimeoutMs ?? 120_000, `${options.name} to listen`));
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  }
  const pid = child.pid!;
  return {
    name: options.name,
    url,
    wsUrl: url.replace(/^http/, "ws"),
    pid,
    handset,
    rssBytes: () => residentBytes(pid),
    cpuMs: () => cpuMilliseconds(pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      try {
        await withTimeout(exited, 20_000, `${options.name} to stop`);
      } catch {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

export function residentBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

let clockTicks: number | null = null;

/**
 * On a shared machine a server's CPU time per request moves far less than its requests per
 * second: it is reported beside every throughput.
 */
export function cpuMilliseconds(pid: number): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parentheses; the fields after its closing one are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) * 1000) / clockTicks;
}

/** Last resort when the bench itself is ending: no child outlives it. */
export function killAllChildren(): void {
  for (const child of live) child.kill("SIGKILL");
}
