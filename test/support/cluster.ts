import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { DataSource } from "typeorm";
import { ADMIN_TOKEN } from "./gateway";
import { GraphQLClient } from "./graphql-client";
import { withTimeout } from "./deferred";

export const clusterAvailable = () => !!process.env.DATABASE_URL?.startsWith("postgres") && !!process.env.REDIS_URL;

export interface Instance {
  name: string;
  url: string;
  wsUrl: string;
  admin: GraphQLClient;
  anonymous: GraphQLClient;
  process: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  instances: Instance[];
  schema: string;
  /** Runs SQL on the cluster's schema (for assertions). */
  query<T = Record<string, unknown>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  start(name: string, env?: Record<string, string>): Promise<Instance>;
  stop(): Promise<void>;
}

/**
 * Real gateway processes on their own ports sharing one PostgreSQL schema and one Redis key
 * prefix, as several instances behind a load balancer would. Started one after another, the
 * first migrating the database.
 */
export async function startCluster(specs: Array<{ name: string; env?: Record<string, string> }>, shared: Record<string, string> = {}): Promise<Cluster> {
  const schema = `rf_cluster_${randomBytes(5).toString("hex")}`;
  const prefix = `rftest-${randomBytes(5).toString("hex")}`;
  const secret = randomBytes(32).toString("base64url");
  const instances: Instance[] = [];
  const admin = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, extra: { options: `-c search_path=${schema}` } });
  await admin.initialize();

  const start = async (name: string, env: Record<string, string> = {}): Promise<Instance> => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ringfence-${name}-`));
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "src/main.ts"], {
      cwd: path.join(__dirname, "..", ".."),
      env: {
        ...process.env,
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
        DATABASE_URL: process.env.DATABASE_URL!,
        DATABASE_SCHEMA: schema,
        REDIS_URL: process.env.REDIS_URL!,
        REDIS_KEY_PREFIX: prefix,
        SERVER_SECRET: secret,
        BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: "info",
        NODE_ENV: "test",
        SIMULATOR_RECEIPT_DELAY_MS: "0",
        DISPATCH_INTERVAL_MS: "50",
        TS_NODE_TRANSPILE_ONLY: "true",
        ...shared,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = createInterface({ input: child.stdout! });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()).slice(-4000));
    const listening = new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === "Ringfence gateway listening" && entry.url) resolve(entry.url);
        } catch {
          // not a log line
        }
      });
      child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before listening: ${stderr}`)));
    });
    const url = await withTimeout(listening, 60_000, `${name} to listen`);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const instance: Instance = {
      name,
      url,
      wsUrl: url.replace(/^http/, "ws"),
      admin: new GraphQLClient(url, `SSWS ${ADMIN_TOKEN}`),
      anonymous: new GraphQLClient(url),
      process: child,
      kill: async (signal = "SIGTERM") => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
    instances.push(instance);
    return instance;
  };

  try {
    for (const spec of specs) await start(spec.name, spec.env);
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.kill("SIGKILL")));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.destroy();
    throw error;
  }
  return {
    instances,
    schema,
    query: (sql, parameters) => admin.query(sql, parameters),
    start,
    stop: async () => {
      await Promise.all(instances.map((instance) => instance.kill("SIGTERM")));
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.destroy();
    },
  };
}
