import path from "node:path";
import proxyaddr from "proxy-addr";
import { defaultSecuritySettings, type SecuritySettings } from "../security/security-settings";
import { isOriginHost } from "../templates/template";

export type DatabaseEngine = "sqlite" | "postgres";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Everything the gateway reads from its environment, validated once at start. */
export interface Config {
  /** @default 4000 */
  port: number;
  /** @default "127.0.0.1" */
  host: string;
  /** Where the embedded database and the server secret live. @default "./data" */
  dataDir: string;
  /** Unset: SQLite in dataDir. `postgres://...`: PostgreSQL. */
  databaseUrl: string | null;
  engine: DatabaseEngine;
  /** PostgreSQL schema to use (tests run each server in a fresh one). @default "public" */
  databaseSchema: string | null;
  /**
   * The hot paths' statements run as PostgreSQL prepared statements (PreparedStatementNames).
   * Off for a pooler that cannot keep them, such as PgBouncer before 1.21 in transaction mode.
   * @default true
   */
  databasePreparedStatements: boolean;
  /**
   * PostgreSQL connections this instance keeps at most. A transaction holds one until it ends,
   * so this bounds the transactions in flight. Start-up opens two more of its own for a moment,
   * one to hold the migration lock while the other migrates. @default 20
   */
  databasePoolSize: number;
  /** Becomes the first admin token when the database has none. */
  bootstrapAdminToken: string | null;
  /** @default "info" */
  logLevel: LogLevel;
  /** @default "development" */
  nodeEnv: "development" | "production" | "test";
  /** Keyed-hash secret for passcodes; read from DATA_DIR/secret when unset. */
  serverSecret: string | null;
  /** Delay before the simulator reports a receipt. @default 200 */
  simulatorReceiptDelayMs: number;
  /** Dispatcher poll interval when it has not been woken. @default 1000 */
  dispatchIntervalMs: number;
  /**
   * Which proxies' X-Forwarded-For to believe, as Express's "trust proxy" takes it: false (the
   * socket's address), a hop count, or the proxies' addresses and ranges. TRUST_PROXY=true is one
   * hop, the load balancer in front: trusting every hop would let a client name its own address.
   * @default false
   */
  trustProxy: false | number | string[];
  /** Schema introspection; always on outside production. @default false in production */
  introspection: boolean;
  /** Largest accepted request body. @default 65536 */
  maxBodyBytes: number;
  /** Operations (subscriptions, and queries still running) one graphql-ws connection may have at once. @default 100 */
  maxOperationsPerSocket: number;
  /** The organisation's name, `${org.name}` in SMS templates and calls. @default "Ringfence" */
  orgName: string;
  /** ISO 3166-1 alpha-2 home country: messages elsewhere count as international. @default "US" */
  homeCountry: string;
  /** When set, SMS end with the origin-bound line `@domain #code` (WebOTP). @default unset */
  originDomain: string | null;
  /** How long a sent message may wait for its delivery receipt before it is UNKNOWN. @default 600000 */
  receiptWindowMs: number;
  /** The built-in telephony simulator (the default provider). @default true */
  simulatorEnabled: boolean;
  /**
   * TELEPHONY_CONFIG: path of the JSON file naming the telephony providers and how messages are
   * routed between them (src/telephony/provider-config.ts). Unset: the simulator alone.
   * @default unset
   */
  telephonyConfigPath: string | null;
  /**
   * PUBLIC_URL: the gateway's address as providers reach it (e.g. https://id.example.com behind a
   * proxy). Status callbacks are sent there and their signatures are checked against it.
   * @default unset: the address the gateway listens on
   */
  publicUrl: string | null;
  /** Password recovery and unlock answer no faster than this, so timing reveals no login. @default 250 */
  recoveryResponseFloorMs: number;
  /** Redis for scale-out: pub/sub fan-out and shared rate limits. @default unset (one instance) */
  redisUrl: string | null;
  /** Prefix of every Redis key and channel, so deployments can share a Redis. @default "ringfence" */
  redisKeyPrefix: string;
  /** Whether this instance sends queued messages (any number of instances may). @default true */
  dispatchEnabled: boolean;
  /** How long a dispatcher holds a message it is sending before another instance may take it over. @default 30000 */
  dispatchLeaseMs: number;
  /** Abuse limits before any admin override: src/security/security-settings.ts, LIMIT_* variables. */
  securityDefaults: SecuritySettings;
  /** LOG_RETENTION_DAYS: System Log events older than this are deleted (checked hourly). @default 90 */
  logRetentionDays: number;
  /**
   * SUBSCRIPTION_BUFFER_SIZE: events a live subscription (systemLog, deliveryStatus) may fall
   * behind its client before the gateway ends it with RATE_LIMITED; bounds the memory a client
   * that stops reading can hold. @default 1000
   */
  subscriptionBufferSize: number;
  /** MAX_QUERY_DEPTH: how deep an operation's selections may nest, fragments flattened (src/security/graphql-limits.ts). @default 12 */
  maxQueryDepth: number;
  /** MAX_QUERY_ALIASES: aliased fields in one operation, fragments included; bounds field multiplication. @default 15 */
  maxQueryAliases: number;
  /** MAX_QUERY_TOKENS: lexical tokens in one document, counted before it is parsed. @default 2000 */
  maxQueryTokens: number;
  /** MAX_QUERY_DIRECTIVES: directives in one operation, fragments included. @default 20 */
  maxQueryDirectives: number;
  /**
   * MAX_QUERY_COST: the most an operation may cost, where each object costs 1, scalars nothing,
   * and a list argument `first`/`last` (literal or variable; left out or null, the schema's
   * default page) multiplies what it selects. The shipped Logs operation at its largest page
   * (first: 1000) costs 9,000. @default 10000
   */
  maxQueryCost: number;
  /**
   * BLOCK_FIELD_SUGGESTIONS: strip "Did you mean …" from error messages, so a schema hidden by
   * disabled introspection cannot be guessed from them. @default true in production, false otherwise
   */
  blockFieldSuggestions: boolean;
  /**
   * REQUEST_TIMEOUT_MS: an HTTP request must arrive whole within this time (else Node answers 408
   * and closes the connection), and must be answered within it (else 503 INTERNAL; work already
   * under way is not cancelled). WebSocket connections are not bound by it. @default 15000
   */
  requestTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const NODE_ENVS = ["development", "production", "test"] as const;

/** TRUST_PROXY: false, true (one hop), a hop count, or proxy addresses and CIDR ranges (or Express's loopback, linklocal, uniquelocal). */
function trustedProxies(raw: string | undefined, problems: string[]): false | number | string[] {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === "" || ["0", "false", "no", "off"].includes(value)) return false;
  if (["true", "yes", "on"].includes(value)) return 1;
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops >= 1 && hops <= 10) return hops;
  }
  const proxies = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  try {
    if (!proxies.length || /^[0-9]+$/.test(value)) throw new Error("no proxy");
    proxyaddr.compile(proxies);
    return proxies;
  } catch {
    problems.push(`TRUST_PROXY must be false, true (one hop), a hop count from 1 to 10, or proxy addresses and CIDR ranges separated by commas (got "${raw}")`);
    return false;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    // Digits only: Number() reads "0x1F90" and "1e4" too, and nothing but space as 0.
    const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(", ")} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  };

  const flag = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${env[name]}")`);
    return fallback;
  };

  const databaseUrl = env.DATABASE_URL?.trim() || null;
  let engine: DatabaseEngine = "sqlite";
  if (databaseUrl) {
    if (/^postgres(ql)?:\/\//.test(databaseUrl)) engine = "postgres";
    else problems.push(`DATABASE_URL must be a postgres:// URL, or unset for embedded SQLite (got "${redactUrl(databaseUrl)}")`);
  }
  const databaseSchema = env.DATABASE_SCHEMA?.trim() || null;
  if (databaseSchema && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    problems.push(`DATABASE_SCHEMA must be a lower-case SQL identifier (got "${databaseSchema}")`);
  }

  const bootstrapAdminToken = env.BOOTSTRAP_ADMIN_TOKEN || null;
  if (bootstrapAdminToken !== null && (bootstrapAdminToken.length < 24 || /\s/.test(bootstrapAdminToken))) {
    problems.push("BOOTSTRAP_ADMIN_TOKEN must be at least 24 characters with no white space");
  }
  const serverSecret = env.SERVER_SECRET || null;
  if (serverSecret !== null && serverSecret.length < 32) problems.push("SERVER_SECRET must be at least 32 characters");

  const config: Config = {
    port: integer("PORT", 4000, 0, 65535),
    host: env.HOST?.trim() || "127.0.0.1",
    dataDir: path.resolve(env.DATA_DIR?.trim() || "data"),
    databaseUrl,
    engine,
    databaseSchema,
    databasePreparedStatements: flag("DATABASE_PREPARED_STATEMENTS", true),
    databasePoolSize: integer("DATABASE_POOL_SIZE", 20, 2, 1_000),
    bootstrapAdminToken,
    logLevel: oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    nodeEnv: oneOf("NODE_ENV", NODE_ENVS, "development"),
    serverSecret,
    simulatorReceiptDelayMs: integer("SIMULATOR_RECEIPT_DELAY_MS", 200, 0, 600_000),
    dispatchIntervalMs: integer("DISPATCH_INTERVAL_MS", 1000, 10, 60_000),
    trustProxy: trustedProxies(env.TRUST_PROXY, problems),
    introspection: flag("INTROSPECTION", false),
    maxBodyBytes: integer("MAX_BODY_BYTES", 65_536, 1_024, 10_485_760),
    maxOperationsPerSocket: integer("MAX_OPERATIONS_PER_SOCKET", 100, 1, 10_000),
    orgName: env.ORG_NAME?.trim() || "Ringfence",
    homeCountry: (env.ORG_HOME_COUNTRY?.trim() || "US").toUpperCase(),
    originDomain: env.ORIGIN_DOMAIN?.trim() || null,
    receiptWindowMs: integer("RECEIPT_WINDOW_MS", 600_000, 1_000, 86_400_000),
    simulatorEnabled: flag("SIMULATOR_ENABLED", true),
    telephonyConfigPath: env.TELEPHONY_CONFIG?.trim() ? path.resolve(env.TELEPHONY_CONFIG.trim()) : null,
    publicUrl: publicUrl(env.PUBLIC_URL, problems),
    recoveryResponseFloorMs: integer("RECOVERY_RESPONSE_FLOOR_MS", 250, 0, 10_000),
    securityDefaults: securityDefaults(env, problems),
    redisUrl: env.REDIS_URL?.trim() || null,
    redisKeyPrefix: env.REDIS_KEY_PREFIX?.trim() || "ringfence",
    dispatchEnabled: flag("DISPATCH_ENABLED", true),
    dispatchLeaseMs: integer("DISPATCH_LEASE_MS", 30_000, 500, 600_000),
    logRetentionDays: integer("LOG_RETENTION_DAYS", 90, 1, 36_500),
    subscriptionBufferSize: integer("SUBSCRIPTION_BUFFER_SIZE", 1000, 1, 100_000),
    maxQueryDepth: integer("MAX_QUERY_DEPTH", 12, 2, 100),
    maxQueryAliases: integer("MAX_QUERY_ALIASES", 15, 0, 1_000),
    maxQueryTokens: integer("MAX_QUERY_TOKENS", 2_000, 100, 100_000),
    maxQueryDirectives: integer("MAX_QUERY_DIRECTIVES", 20, 0, 1_000),
    maxQueryCost: integer("MAX_QUERY_COST", 10_000, 1, 10_000_000),
    blockFieldSuggestions: flag("BLOCK_FIELD_SUGGESTIONS", env.NODE_ENV === "production"),
    requestTimeoutMs: integer("REQUEST_TIMEOUT_MS", 15_000, 1_000, 600_000),
  };
  if (config.redisUrl && !/^rediss?:\/\//.test(config.redisUrl)) problems.push(`REDIS_URL must be a redis:// or rediss:// URL (got "${redactUrl(config.redisUrl)}")`);
  if (!/^[A-Za-z0-9_:-]{1,64}$/.test(config.redisKeyPrefix)) problems.push("REDIS_KEY_PREFIX must be 1 to 64 letters, digits, _ : or -");
  if (!/^[A-Z]{2}$/.test(config.homeCountry)) problems.push(`ORG_HOME_COUNTRY must be an ISO 3166-1 alpha-2 code (got "${env.ORG_HOME_COUNTRY}")`);
  if (config.orgName.length > 64) problems.push("ORG_NAME must be at most 64 characters");
  if (config.originDomain && !isOriginHost(config.originDomain)) {
    problems.push(`ORIGIN_DOMAIN must be a bare host name such as login.example.com (got "${config.originDomain}")`);
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Providers sign what they send to this URL, so it must be exactly the one they are given. */
function publicUrl(raw: string | undefined, problems: string[]): string | null {
  const value = raw?.trim();
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`PUBLIC_URL must be an absolute http(s) URL (got "${value}")`);
    return null;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash || url.username || url.password) {
    problems.push(`PUBLIC_URL must be an http(s) URL with no query, fragment or credentials (got "${redactUrl(value)}")`);
    return null;
  }
  return url.href.replace(/\/+$/, "");
}

function securityDefaults(env: NodeJS.ProcessEnv, problems: string[]): SecuritySettings {
  try {
    return defaultSecuritySettings(env);
  } catch (error) {
    problems.push((error as Error).message);
    return defaultSecuritySettings({});
  }
}

/** Never print a database password, even in an error about the URL. */
export function redactUrl(url: string): string {
  // The user may be empty: redis://:password@host is how a Redis password alone is given.
  return url.replace(/\/\/([^:/@]*):([^@]+)@/, "//$1:***@");
}
