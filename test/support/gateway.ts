import { EventEmitter } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { DataSource } from "typeorm";
import { ManualClock } from "../../src/platform/clock";
import { loadConfig, type Config } from "../../src/platform/config";
import { startGateway, type Gateway } from "../../src/platform/server";
import { GraphQLClient } from "./graphql-client";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

const RELAXED_LIMITS: Record<string, string> = {
  LIMIT_SENDS_PER_NUMBER_PER30S: "100",
  LIMIT_SENDS_PER_NUMBER_PER10M: "1000",
  LIMIT_SENDS_PER_USER_PER_HOUR: "10000",
  LIMIT_SENDS_PER_COUNTRY_PER_MINUTE: "100000",
  LIMIT_PUBLIC_REQUESTS_PER_IP_PER_MINUTE: "100000",
  LIMIT_PUMPING_COUNTRY_BURST: "100000",
  LIMIT_PUMPING_RANGE_BURST: "1000",
  LIMIT_PUMPING_RATIO_MINIMUM_SENDS: "100000",
};

/** The shipped defaults, for suites that test the limits themselves. */
export const PRODUCTION_LIMITS: Record<string, string> = Object.fromEntries(Object.keys(RELAXED_LIMITS).map((name) => [name, ""]));

export interface TestGateway extends Gateway {
  clock: ManualClock;
  config: Config;
  admin: GraphQLClient;
  anonymous: GraphQLClient;
  client(authorization?: string): GraphQLClient;
  /** Emits "published" after every pubsub publication: tests wait on it instead of sleeping. */
  events: EventEmitter;
  stop(): Promise<void>;
}

/** The engine under test: PostgreSQL when DATABASE_URL names one, embedded SQLite otherwise. */
export const engine = process.env.DATABASE_URL?.startsWith("postgres") ? "postgres" : "sqlite";

/**
 * A real gateway on port 0 with a fresh, migrated database: a new SQLite file, or a new
 * PostgreSQL schema dropped when the gateway stops.
 */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-test-"));
  const schema = engine === "postgres" ? `rf_test_${randomBytes(6).toString("hex")}` : undefined;
  const config = loadConfig({
    PORT: "0",
    DATA_DIR: dataDir,
    BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN,
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    SIMULATOR_RECEIPT_DELAY_MS: "0",
    DISPATCH_INTERVAL_MS: "50",
    RECOVERY_RESPONSE_FLOOR_MS: "50",
    // Suites that are not about abuse limits send many codes to few numbers at a frozen clock;
    // the security suites start their gateways with the production defaults (PRODUCTION_LIMITS).
    ...RELAXED_LIMITS,
    ...(engine === "postgres" ? { DATABASE_URL: process.env.DATABASE_URL!, DATABASE_SCHEMA: schema! } : {}),
    ...env,
  });
  const clock = new ManualClock(new Date());
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const gateway = await startGateway({ config, clock, logger });
  const client = (authorization?: string) => new GraphQLClient(gateway.url, authorization);
  const events = new EventEmitter();
  events.setMaxListeners(1000);
  const publish = gateway.services.pubsub.publish.bind(gateway.services.pubsub);
  gateway.services.pubsub.publish = ((...args: unknown[]) => {
    (publish as (...values: unknown[]) => void)(...args);
    events.emit("published", args[0]);
  }) as typeof publish;
  return Object.assign(gateway, {
    clock,
    config,
    admin: client(`SSWS ${ADMIN_TOKEN}`),
    anonymous: client(),
    client,
    events,
    stop: async () => {
      await gateway.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (schema) {
        const admin = new DataSource({ type: "postgres", url: process.env.DATABASE_URL });
        await admin.initialize();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.destroy();
      }
    },
  });
}

/**
 * Tables read through the gateway's once-a-second caches (credentials, settings), refreshed by
 * whichever request comes when an entry lapses: such a read is not the measured query's work.
 */
const CACHE_REFRESHED_TABLES = /"(api_tokens|security_settings|phone_authenticator|country_overrides)"/;

/** The statements a finished request made for its own work, cache refreshes left out. */
export function ownStatements(gateway: TestGateway, requestId: string): number {
  const statements = gateway.queries.statementsFor(requestId);
  if (!statements) throw new Error(`No statements recorded for request ${requestId}`);
  return statements.filter((sql) => !CACHE_REFRESHED_TABLES.test(sql)).length;
}
