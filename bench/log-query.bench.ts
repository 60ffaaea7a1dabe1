/**
 * First-page latency of the `logs` query over 1M events (90 days of them), per filter, on
 * SQLite or, with DATABASE_URL, PostgreSQL:
 *
 *   npx ts-node --transpile-only bench/log-query.bench.ts
 *
 * BENCH_KEEP=<dir or schema> keeps the seeded database there and reuses it on the next run
 * (pending migrations are applied to it first), so an index can be tried without reseeding.
 */
import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { loadConfig } from "../src/platform/config";
import { createDataSource, ensureSchema } from "../src/platform/data-source";
import { Database } from "../src/platform/database";
import { LogQueryService } from "../src/log/log-query.service";
import { ManualClock } from "../src/platform/clock";

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 1);

async function main() {
  const postgres = !!process.env.DATABASE_URL;
  const keep = process.env.BENCH_KEEP ?? null;
  const schema = postgres ? (keep ?? `rf_bench_${randomBytes(3).toString("hex")}`) : null;
  const dataDir = !postgres && keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), "rf-bench-"));
  const config = {
    ...loadConfig({ DATA_DIR: dataDir, ...(postgres ? { DATABASE_URL: process.env.DATABASE_URL!, DATABASE_SCHEMA: schema! } : {}) }),
  };
  await ensureSchema(config);
  const dataSource = createDataSource(config);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  try {
    const [{ count }] = (await dataSource.query("SELECT COUNT(*) AS count FROM log_events")) as [{ count: string | number }];
    if (Number(count) === 0) {
      const started = Date.now();
      await seed(dataSource, postgres);
      console.log(`seeded ${EVENTS} events in ${Date.now() - started} ms`);
    }
    const queries = new LogQueryService(new Database(dataSource), new ManualClock(new Date(NOW)));
    const cases: [string, Parameters<LogQueryService["logs"]>[0]][] = [
      ["no filter", {}],
      ["no filter, DESC", { sortOrder: "DESCENDING" }],
      ["no filter, 90 days", { since: new Date(NOW - 90 * DAY) }],
      ["eventType eq receive_status (common)", { filter: 'eventType eq "system.sms.receive_status"' }],
      ["eventType eq account.lock (rare)", { filter: 'eventType eq "user.account.lock"', since: new Date(NOW - 90 * DAY) }],
      [
        "eventType eq account.lock (rare), DESC",
        { filter: 'eventType eq "user.account.lock"', since: new Date(NOW - 90 * DAY), sortOrder: "DESCENDING" },
      ],
      ['eventType sw "system.sms"', { filter: 'eventType sw "system.sms"' }],
      ['eventType sw "user.account" (rare), 90 days', { filter: 'eventType sw "user.account"', since: new Date(NOW - 90 * DAY) }],
      ["actor.id eq (one user), 90 days", { filter: 'actor.id eq "usr_777"', since: new Date(NOW - 90 * DAY) }],
      ["target.id eq (one user), 90 days", { filter: 'target.id eq "usr_777"', since: new Date(NOW - 90 * DAY) }],
      ["transactionId eq, 90 days", { filter: 'transactionId eq "txn_4242"', since: new Date(NOW - 90 * DAY) }],
      ["outcome.result eq FAILURE", { filter: 'outcome.result eq "FAILURE"' }],
      ["severity eq ERROR (rare), 90 days", { filter: 'severity eq "ERROR"', since: new Date(NOW - 90 * DAY) }],
      ["debugContext.messageId eq (one), 90 days", { filter: 'debugContext.messageId eq "msg_4242"', since: new Date(NOW - 90 * DAY) }],
      ["q rare keyword, 7 days", { q: "user777@" }],
      ["q rare keyword, 90 days", { q: "user777@", since: new Date(NOW - 90 * DAY) }],
    ];
    for (const [name, query] of cases) {
      await queries.logs({ ...query, first: 100 });
      const started = process.hrtime.bigint();
      const page = await queries.logs({ ...query, first: 100 });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(`${ms.toFixed(1).padStart(9)} ms  ${String(page.edges.length).padStart(3)} rows  ${name}`);
    }
  } finally {
    if (schema && !keep) await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.destroy();
    if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const TYPES: [string, number][] = [
  ["system.sms.send_factor_verify_message", 20],
  ["system.sms.receive_status", 30],
  ["system.voice.receive_status", 5],
  ["user.authentication.auth_via_mfa", 20],
  ["user.session.start", 15],
  ["policy.evaluate_sign_on", 9],
  ["user.account.lock", 0.05],
  ["user.mfa.factor.activate", 0.95],
];
const WEIGHTED = TYPES.flatMap(([type, weight]) => Array.from({ length: Math.round(weight * 20) }, () => type));

async function seed(dataSource: import("typeorm").DataSource, postgres: boolean) {
  const runner = dataSource.createQueryRunner();
  const batch = 1000;
  for (let start = 0; start < EVENTS; start += batch) {
    const events: unknown[][] = [];
    const targets: unknown[][] = [];
    for (let i = start; i < Math.min(EVENTS, start + batch); i++) {
      const published = NOW - DAY * 90 + Math.floor((i / EVENTS) * DAY * 90);
      const uuid = `${published.toString(16).padStart(12, "0")}-${String(i).padStart(10, "0")}`;
      const type = WEIGHTED[(i * 7919) % WEIGHTED.length]!;
      const user = `usr_${(i * 31) % 50_000}`;
      const failure = i % 13 === 0;
      events.push([
        uuid,
        published,
        type,
        failure ? (i % 1000 === 0 ? "ERROR" : "WARN") : "INFO",
        `Event ${type} for user${(i * 31) % 50_000}@example.com`,
        user,
        "User",
        `user${(i * 31) % 50_000}@example.com`,
        null,
        failure ? "FAILURE" : "SUCCESS",
        null,
        "10.0.0.1",
        "Mozilla",
        `txn_${i % 200_000}`,
        JSON.stringify({ messageId: `msg_${i}`, country: "GB" }),
      ]);
      targets.push([uuid, 0, user, "User", `user${(i * 31) % 50_000}@example.com`, null]);
      targets.push([uuid, 1, `msg_${i}`, "Message", "+44 XXXX XX1234", null]);
    }
    const placeholders = (rows: unknown[][], width: number) =>
      rows.map((_, r) => `(${Array.from({ length: width }, (_, c) => (postgres ? `$${r * width + c + 1}` : "?")).join(", ")})`).join(", ");
    await runner.query(
      `INSERT INTO log_events (uuid, published, event_type, severity, display_message, actor_id, actor_type, actor_alternate_id, actor_display_name, outcome_result, outcome_reason, client_ip, client_user_agent, transaction_id, debug_context) VALUES ${placeholders(events, 15)}`,
      events.flat(),
    );
    await runner.query(
      `INSERT INTO log_event_targets (event_uuid, position, id, type, alternate_id, display_name) VALUES ${placeholders(targets, 6)}`,
      targets.flat(),
    );
  }
  await runner.query("ANALYZE");
  await runner.release();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
