import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import type { HandsetIpcMessage } from "../servers/child";
import { REPO_ROOT, startServer, type ServerChild } from "./children";
import { openPostgres, openSqlite, type BenchDatabase, type Engine } from "./database";
import { GraphQLEndpoint, type JsonClient } from "./http-client";
import { ACTIVATE_PHONE_FACTOR, CREATE_USER, ENROLL_PHONE_FACTOR } from "./operations";
import { nowMs, sleep, withTimeout } from "./timing";

export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

/** The flags `npm start` gives node (package.json config.node_flags): the bench runs the gateway as production does. */
const GATEWAY_NODE_FLAGS: string[] = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { config?: { node_flags?: string } }
).config?.node_flags?.split(/\s+/).filter(Boolean) ?? [];

export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Abuse limits raised so that the bench measures the work of a send, not the refusal of one;
 * every number, user and country stays under them at the rates reached here.
 */
export const BENCH_LIMITS: Record<string, string> = {
  LIMIT_SENDS_PER_NUMBER_PER30S: "100",
  LIMIT_SENDS_PER_NUMBER_PER10M: "1000",
  LIMIT_SENDS_PER_USER_PER_HOUR: "10000",
  LIMIT_SENDS_PER_COUNTRY_PER_MINUTE: "100000",
  LIMIT_PUBLIC_REQUESTS_PER_IP_PER_MINUTE: "100000",
  LIMIT_PUMPING_COUNTRY_BURST: "100000",
  LIMIT_PUMPING_RANGE_BURST: "1000",
  LIMIT_PUMPING_RATIO_MINIMUM_SENDS: "100000",
  LIMIT_DAILY_SPEND_CAP_USD: "10000000",
  LIMIT_MONTHLY_SPEND_CAP_USD: "100000000",
};

export interface RingfenceOptions {
  name: string;
  engine: Engine;
  env?: Record<string, string>;
  /** Reuse another instance's database (a second instance, or a restart): its folder, schema and secret. */
  shareWith?: Ringfence;
  /** PostgreSQL and Redis shared by several instances. */
  redisPrefix?: string;
  cpuProfile?: { dir: string; name: string };
  /** See ServerOptions.buildDir. */
  buildDir?: string;
  /**
   * How the bench reads one-time codes: handed over by the gateway (the default, when its build
   * can), or from the inbox table, for runs that compare against a build that cannot.
   */
  codes?: "handed-over" | "database";
}

export interface Ringfence {
  name: string;
  engine: Engine;
  child: ServerChild;
  admin: GraphQLEndpoint;
  anonymous: GraphQLEndpoint;
  dataDir: string;
  schema: string | null;
  secret: string;
  /** The bench's own connection to this gateway's database. */
  db: BenchDatabase;
  inbox: CodeInbox;
  /** Stops the process; the database stays for a restart until `dispose`. */
  stop(): Promise<void>;
  /** Stops the process and removes its database (folder, schema, Redis keys). */
  dispose(): Promise<void>;
}

/**
 * A gateway as a separate process, production settings, its own fresh database (a temp
 * SQLite folder or a new PostgreSQL schema), the admin token bootstrapped, abuse limits raised.
 */
export async function startRingfence(client: JsonClient, options: RingfenceOptions): Promise<Ringfence> {
  const shared = options.shareWith;
  const dataDir = shared?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `ringfence-bench-${options.name}-`));
  const schema = shared ? shared.schema : options.engine === "postgres" ? `rf_bench_${randomBytes(5).toString("hex")}` : null;
  const secret = shared?.secret ?? randomBytes(32).toString("base64url");
  const handedOver = (options.codes ?? "handed-over") === "handed-over";
  // The inbox reads the database, which the child migrates first; codes arrive only once the bench asks for one.
  let deliver: ((message: HandsetIpcMessage) => void) | null = null;
  const child = await startServer({
    name: options.name,
    script: "gateway",
    buildDir: options.buildDir,
    cpuProfile: options.cpuProfile,
    nodeFlags: GATEWAY_NODE_FLAGS,
    onHandset: (message) => deliver?.(message),
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN,
      SERVER_SECRET: secret,
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
      ORG_HOME_COUNTRY: "GB",
      ...BENCH_LIMITS,
      ...(options.engine === "postgres" ? { DATABASE_URL, DATABASE_SCHEMA: schema! } : {}),
      ...(options.redisPrefix ? { REDIS_URL, REDIS_KEY_PREFIX: options.redisPrefix } : {}),
      ...(handedOver ? { BENCH_HANDSET: "ipc" } : {}),
      ...options.env,
    },
  });
  const db =
    shared?.db ?? (options.engine === "postgres" ? openPostgres(DATABASE_URL, schema) : openSqlite(path.join(dataDir, "ringfence.sqlite")));
  const admin = new GraphQLEndpoint(client, child.url, `SSWS ${ADMIN_TOKEN}`);
  // Instances on one database share one inbox: a code may go out through either's dispatcher.
  const inbox = shared?.inbox ?? new CodeInbox(db);
  if (child.handset) {
    inbox.takeHandedOver();
    deliver = (message) => inbox.deliver(message);
  }
  let disposed = false;
  return {
    name: options.name,
    engine: options.engine,
    child,
    admin,
    anonymous: admin.as(undefined),
    dataDir,
    schema,
    secret,
    db,
    inbox,
    // The inbox is the database's: it outlives a stop, for a restart on the same database.
    stop: () => child.stop(),
    dispose: async () => {
      await child.stop();
      if (disposed || shared) return;
      disposed = true;
      inbox.stop();
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (schema) {
        const admin = openPostgres(DATABASE_URL, null);
        await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.close();
      }
      if (options.redisPrefix) await deleteRedisKeys(options.redisPrefix);
    },
  };
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = "0";
    // Bounded: a prefix of one bench run holds a few thousand rate-limit keys at most.
    for (let round = 0; round < 10_000; round += 1) {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
      if (cursor === "0") break;
    }
  } finally {
    redis.disconnect();
  }
}

interface Waiter {
  to: string;
  sinceMs: number;
  resolve(code: string): void;
}

interface HandsetRow {
  id: string;
  to: string;
  body: string;
  /** epoch ms */
  created: number;
}

/** Past this many unread messages to one number, the oldest go: nobody is reading that number. */
const UNREAD_PER_NUMBER = 32;

/**
 * One-time codes from the gateway's simulated handset. A gateway that hands its messages over
 * (BENCH_HANDSET=ipc) costs the database nothing to read them, as the peer's sendOTP costs it
 * nothing. Otherwise (another commit's build, or `codes: "database"`), the inbox reads
 * simulator_messages: one indexed query per tick for every code awaited, which is no request
 * to the gateway but is load on its database.
 */
export class CodeInbox {
  private readonly waiters = new Set<Waiter>();
  private readonly lastSeen = new Map<string, string>();
  /** Handed over and not read yet, per number, oldest first. */
  private readonly unread = new Map<string, HandsetRow[]>();
  private handedOver = false;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly db: BenchDatabase,
    private readonly intervalMs = 3,
  ) {}

  /** From now on codes come through `deliver`, and the table is not read. */
  takeHandedOver(): void {
    this.handedOver = true;
  }

  deliver(message: HandsetRow): void {
    if (this.stopped) return;
    const rows = this.unread.get(message.to) ?? [];
    rows.push(message);
    if (rows.length > UNREAD_PER_NUMBER) rows.shift();
    this.unread.set(message.to, rows);
    this.settle([...this.waiters], rows);
  }

  /** The code of the first message to `to` created at or after `sinceMs` (epoch ms) not yet read. */
  code(to: string, sinceMs: number, timeoutMs = 15_000): Promise<string> {
    let waiter: Waiter | undefined;
    const arrived = new Promise<string>((resolve) => {
      waiter = { to, sinceMs, resolve };
      this.waiters.add(waiter);
    });
    if (this.handedOver) this.settle([waiter!], this.unread.get(to) ?? []);
    else void this.poll();
    return withTimeout(arrived, timeoutMs, `a code for ${to} in the simulator's inbox`).finally(() => this.waiters.delete(waiter!));
  }

  stop(): void {
    this.stopped = true;
    this.waiters.clear();
    this.unread.clear();
  }

  /** Hands each waiter the first of `rows` it is due, and forgets what has been read. */
  private settle(pending: Waiter[], rows: HandsetRow[]): void {
    for (const waiter of pending) {
      const row = rows.find(
        (candidate) =>
          candidate.to === waiter.to && candidate.created >= waiter.sinceMs && candidate.id > (this.lastSeen.get(waiter.to) ?? ""),
      );
      if (!row) continue;
      const code = /\b(\d{6})\b/.exec(row.body)?.[1];
      if (!code) continue;
      this.lastSeen.set(waiter.to, row.id);
      this.waiters.delete(waiter);
      waiter.resolve(code);
    }
    if (this.handedOver) {
      for (const to of new Set(pending.map((waiter) => waiter.to))) {
        const seen = this.lastSeen.get(to) ?? "";
        const left = (this.unread.get(to) ?? []).filter((row) => row.id > seen);
        if (left.length) this.unread.set(to, left);
        else this.unread.delete(to);
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      while (this.waiters.size && !this.stopped) {
        const started = nowMs();
        const pending = [...this.waiters];
        const numbers = [...new Set(pending.map((waiter) => waiter.to))];
        const since = Math.min(...pending.map((waiter) => waiter.sinceMs));
        const rows = await this.db.all<{ id: string; to_e164: string; body: string; created: string | number }>(
          `SELECT id, to_e164, body, created FROM simulator_messages WHERE to_e164 IN (${numbers.map(() => "?").join(",")}) AND created >= ? ORDER BY id`,
          [...numbers, since],
        );
        this.settle(
          pending,
          rows.map((row) => ({ id: row.id, to: row.to_e164, body: row.body, created: Number(row.created) })),
        );
        const rest = this.intervalMs - (nowMs() - started);
        if (rest > 0) await sleep(rest);
      }
    } finally {
      this.polling = false;
    }
  }
}

/** A user with an ACTIVE SMS factor at `phoneNumber`, activated with the code the simulator received. */
export async function userWithActiveFactor(
  gateway: Ringfence,
  login: string,
  phoneNumber: string,
  password?: string,
): Promise<{ userId: string; factorId: string; login: string; phoneNumber: string }> {
  const { createUser } = await gateway.admin.run<{ createUser: { id: string } }>(CREATE_USER, {
    input: { login, ...(password ? { password } : {}) },
  });
  const since = Date.now();
  const { enrollPhoneFactor } = await gateway.admin.run<{ enrollPhoneFactor: { factor: { id: string } } }>(ENROLL_PHONE_FACTOR, {
    input: { userId: createUser.id, phoneNumber, method: "SMS" },
  });
  const code = await gateway.inbox.code(phoneNumber, since);
  await gateway.admin.run(ACTIVATE_PHONE_FACTOR, { input: { factorId: enrollPhoneFactor.factor.id, code } });
  return { userId: createUser.id, factorId: enrollPhoneFactor.factor.id, login, phoneNumber };
}

/** `+4474NN` followed by six digits: valid UK mobile numbers, a distinct range per `block`. */
export function phoneNumber(block: number, index: number): string {
  if (block < 0 || block > 9 || index < 0 || index > 999_999) throw new Error(`No bench number for block ${block}, index ${index}`);
  return `+44740${block}${String(index).padStart(6, "0")}`;
}
