/**
 * Instances starting together on one PostgreSQL database, and `npm run migration:run`, take
 * turns at migrating under one advisory lock. The threats: an instance that waits for a peer's
 * migrations longer than the pool's statement timeout, or a migration that runs longer than it
 * (an index built over a large table), failing every start; and a migration run by hand racing
 * an instance's.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Client } from "pg";
import type { MigrationInterface, QueryRunner } from "typeorm";
import { createDataSource, migrate } from "../../../src/platform/data-source";
import { ADVISORY_KEY } from "../../../src/platform/database";
import { startTestGateway } from "../../support/gateway";
import { describeOnPostgres } from "../../support/pg-locks";

const databaseUrl = process.env.DATABASE_URL ?? "";

/** The gateway's statement timeout here, short so that a wait or a migration outlasts it at once. */
const STATEMENT_TIMEOUT_MS = 200;

/**
 * DATABASE_URL with PostgreSQL settings of its own: node-postgres takes the URL's parameters over
 * the pool's, so these replace the gateway's 15 s limits.
 */
function urlWith(settings: Record<string, number>): string {
  const url = new URL(databaseUrl);
  for (const [name, value] of Object.entries(settings)) url.searchParams.set(name, String(value));
  return url.toString();
}

/** Lets `ms` of real time pass: what is tested here is that a limit on time does not apply. */
const elapse = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeOnPostgres("the startup lock", () => {
  const admin = new Client({ connectionString: databaseUrl });
  const schemas: string[] = [];
  beforeAll(() => admin.connect());
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  async function freshSchema(): Promise<string> {
    const schema = `rf_lock_${randomBytes(5).toString("hex")}`;
    schemas.push(schema);
    await admin.query(`CREATE SCHEMA "${schema}"`);
    return schema;
  }

  /** A connection in `schema` holding the startup lock, taken as versions before this one took it: a session's lock. */
  async function holdStartupLock(schema: string): Promise<Client> {
    const holder = new Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(hashtext(COALESCE(current_schema(), '') || ':' || 'ringfence:startup'))`);
    return holder;
  }

  /** Resolves once some backend waits for the lock `holder` holds; rejects should `waiter` (what should wait) settle first. */
  async function waitedFor(holder: Client, waiter: Promise<unknown>): Promise<void> {
    const { rows } = await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    let settled: unknown = null;
    void waiter.then(
      () => (settled = new Error("It went on without waiting for the lock")),
      (error: unknown) => (settled = error),
    );
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      if (settled) throw settled;
      const waiting = await admin.query("SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [rows[0]!.pid]);
      if (waiting.rowCount) return;
      await elapse(20);
    }
    throw new Error("Nothing waited for the lock");
  }

  test("a starting gateway waits for a peer holding it past the statement timeout, and starts once it is released", async () => {
    const schema = await freshSchema();
    const holder = await holdStartupLock(schema);
    try {
      const starting = startTestGateway({ DATABASE_URL: urlWith({ statement_timeout: STATEMENT_TIMEOUT_MS }), DATABASE_SCHEMA: schema });
      starting.catch(() => undefined);
      await waitedFor(holder, starting);
      await elapse(STATEMENT_TIMEOUT_MS * 3);
      await waitedFor(holder, starting);

      await holder.query("SELECT pg_advisory_unlock_all()");
      const gateway = await starting;
      try {
        const ready = await fetch(gateway.url.replace(/\/graphql$/, "/readyz"));
        expect(await ready.json()).toMatchObject({ database: "ok", migrations: "applied" });
      } finally {
        await gateway.stop();
      }
    } finally {
      await holder.end();
    }
  });

  test("a migration runs past the statement timeout, and the lock stays held while its holder sits idle past the idle timeout", async () => {
    const schema = await freshSchema();
    const seen: { statementTimeout?: string; lockHeld?: boolean } = {};
    class SlowStep1700000000000 implements MigrationInterface {
      name = "SlowStep1700000000000";
      async up(runner: QueryRunner): Promise<void> {
        await runner.query(`SELECT pg_sleep(${(STATEMENT_TIMEOUT_MS * 3) / 1000})`);
        const [shown] = (await runner.query("SHOW statement_timeout")) as Array<{ statement_timeout: string }>;
        seen.statementTimeout = shown!.statement_timeout;
        // Taken only should the holder's session have ended; this transaction's end releases it.
        const [free] = (await runner.query(`SELECT pg_try_advisory_xact_lock(${ADVISORY_KEY}) AS taken`, ["ringfence:startup"])) as Array<{ taken: boolean }>;
        seen.lockHeld = !free!.taken;
      }
      async down(): Promise<void> {}
    }
    const limits = { statement_timeout: STATEMENT_TIMEOUT_MS, idle_in_transaction_session_timeout: STATEMENT_TIMEOUT_MS };
    const dataSource = createDataSource({ engine: "postgres", databaseUrl: urlWith(limits), databaseSchema: schema, dataDir: "unused" });
    dataSource.setOptions({ migrations: [SlowStep1700000000000] });
    await dataSource.initialize();
    try {
      const applied = await migrate(dataSource);
      expect(applied.map((migration) => migration.name)).toEqual(["SlowStep1700000000000"]);
      expect(seen).toEqual({ statementTimeout: "0", lockHeld: true });
    } finally {
      await dataSource.destroy();
    }
  });

  test("npm run migration:run waits for it too", async () => {
    const schema = await freshSchema();
    const holder = await holdStartupLock(schema);
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/migration.ts", "run"], {
      cwd: path.join(__dirname, "..", "..", ".."),
      env: { ...process.env, DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitedFor(holder, exited);
      const { rows } = await admin.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1", [schema]);
      expect(rows).toEqual([]);

      await holder.query("SELECT pg_advisory_unlock_all()");
      expect(await exited).toBe(0);
      expect(output).toMatch(/^Applied Foundation\d+, /m);
    } finally {
      if (child.exitCode === null) child.kill();
      await holder.end();
    }
  });
});
