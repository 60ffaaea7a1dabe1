import path from "node:path";
import fs from "node:fs";
import { DataSource, EventSubscriber, type DataSourceOptions, type EntitySubscriberInterface, type Migration, type TransactionStartEvent } from "typeorm";
import type { Config } from "./config";
import { ADVISORY_KEY } from "./database";
import { entities } from "./entities";
import { postgresMigrations, sqliteMigrations } from "./migrations";
import { CallbackQueryClient, PreparingQueryClient } from "./pg-client";
import { withSqliteStartupLock } from "./sqlite-startup-lock";

export type DatabaseConfig = Pick<Config, "engine" | "databaseUrl" | "databaseSchema" | "dataDir"> & Partial<Pick<Config, "databasePreparedStatements" | "databasePoolSize">>;

export function sqliteFile(config: Pick<Config, "dataDir">): string {
  return path.join(config.dataDir, "ringfence.sqlite");
}

/** How long a statement of the gateway's may run on PostgreSQL. */
const STATEMENT_TIMEOUT_MS = 15_000;
/** Longer than a statement may run, with a margin: a statement the server ends for its time is answered before this gives up on it. */
const UNRESPONSIVE_PEER_MS = STATEMENT_TIMEOUT_MS + 5_000;

export function dataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  const common = { entities, synchronize: false, migrationsRun: false, logging: false } as const;
  if (config.engine === "postgres") {
    return {
      ...common,
      type: "postgres",
      url: config.databaseUrl ?? undefined,
      migrations: postgresMigrations,
      migrationsTableName: "migrations",
      extra: {
        max: config.databasePoolSize ?? 20,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
        // A statement that runs this long is a bug or an attack; fail it rather than hold a connection.
        statement_timeout: STATEMENT_TIMEOUT_MS,
        // An instance that stops mid-transaction (its host gone, its event loop stuck) would keep
        // the transaction's row locks until the server noticed the connection dead, two hours on
        // default TCP settings: the server ends a transaction left idle for longer than a statement may run.
        idle_in_transaction_session_timeout: UNRESPONSIVE_PEER_MS,
        // The other way round, a server or network gone silent answers with no statement_timeout
        // error: the client gives up on its own, and its keepalive probes find a dead connection
        // that no query is waiting on.
        query_timeout: UNRESPONSIVE_PEER_MS,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        application_name: "ringfence",
        Client: config.databasePreparedStatements === false ? CallbackQueryClient : PreparingQueryClient,
        // Statements issued together are written together: a transaction's BEGIN goes with its
        // first statement (see CallbackQueryClient). TypeORM otherwise awaits each one in turn.
        pipeline: true,
        // A named schema is selected through search_path so that migrations stay unqualified.
        ...(config.databaseSchema ? { options: `-c search_path=${config.databaseSchema}` } : {}),
      },
    };
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  return {
    ...common,
    type: "better-sqlite3",
    database: sqliteFile(config),
    migrations: sqliteMigrations,
    migrationsTableName: "migrations",
    // Every statement the gateway issues, with room to spare: re-preparing costs a parse and a plan.
    statementCacheSize: 1_000,
    // WAL lets readers proceed while the single writer commits; busy_timeout covers a second process.
    prepareDatabase: (db: SqliteConnection) => {
      // SQLite's lower() folds ASCII only; searches over people's names need every letter, as
      // PostgreSQL's lower() folds them. lower() itself stays as it is: the System Log's filter
      // language is ASCII-folding on both engines by design.
      db.function(UNICODE_LOWER, { deterministic: true }, (text: unknown) => (typeof text === "string" ? text.toLowerCase() : text));
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      db.pragma("foreign_keys = ON");
      // A page cache that holds the hot tables and indexes (the default is 2 MB), and reads
      // through mmap: fewer system calls per statement.
      db.pragma("cache_size = -65536");
      db.pragma("mmap_size = 268435456");
      // The gateway checkpoints from a worker thread (SqliteCheckpointer), off the event loop.
      // SQLite's own checkpoint, run by whichever commit crosses this many pages (about 200 MB),
      // is the backstop should that worker stall; journal_size_limit gives the disk back once
      // the WAL starts over.
      db.pragma("wal_autocheckpoint = 50000");
      db.pragma("journal_size_limit = 67108864");
    },
  };
}

/** What prepareDatabase uses of a better-sqlite3 connection. */
interface SqliteConnection {
  pragma(source: string): unknown;
  function(name: string, options: { deterministic: boolean }, implementation: (text: unknown) => unknown): unknown;
}

/** SQLite's name for a Unicode-aware lower(); see foldedCase. */
const UNICODE_LOWER = "unicode_lower";

/** SQL that lowercases `expression` for every letter, not only ASCII, on either engine. */
export function foldedCase(engine: "sqlite" | "postgres", expression: string): string {
  return engine === "postgres" ? `LOWER(${expression})` : `${UNICODE_LOWER}(${expression})`;
}

export function createDataSource(config: DatabaseConfig): DataSource {
  const dataSource = new DataSource(dataSourceOptions(config));
  if (config.engine !== "postgres") bindIntegersAsParameters(dataSource);
  return dataSource;
}

/** Applies the pending migrations, under the startup lock (withStartupLock). */
export function migrate(dataSource: DataSource): Promise<Migration[]> {
  return withStartupLock(dataSource, (migrator) => migrator.runMigrations({ transaction: "each" }));
}

/** The startup lock's name, as every version before took it, so that old and new instances take turns in a rolling update. */
const STARTUP_LOCK = "ringfence:startup";

/**
 * Instances starting together on one PostgreSQL database, and `npm run migration:run`, take
 * turns at migrating and seeding: TypeORM's migrations do not lock by themselves. `work` runs
 * holding the lock, and migrates through the data source it is given (on SQLite, which serves
 * one process, `dataSource` itself, under withSqliteStartupLock).
 *
 * The lock is a transaction's, held open on a connection of its own until `work` ends: a
 * session's lock and its unlock could reach different server connections through a pooler in
 * transaction mode (PgBouncer), where a transaction keeps its one.
 */
export async function withStartupLock<T>(dataSource: DataSource, work: (migrator: DataSource) => Promise<T>): Promise<T> {
  if (dataSource.options.type === "better-sqlite3" && typeof dataSource.options.database === "string" && dataSource.options.database !== ":memory:") {
    return withSqliteStartupLock(dataSource.options.database, () => work(dataSource));
  }
  if (dataSource.options.type !== "postgres") return work(dataSource);
  const migrator = new DataSource(migratorOptions(dataSource.options));
  await migrator.initialize();
  const runner = migrator.createQueryRunner();
  try {
    await runner.startTransaction();
    // Waiting for the lock lasts as long as a peer's migrations, and holding it, as long as
    // ours, run on the other connection while this transaction sits idle.
    await runner.query("SET LOCAL lock_timeout = 0");
    await runner.query("SET LOCAL idle_in_transaction_session_timeout = 0");
    // Held without a limit, the lock must go when its holder does: a host that vanishes without
    // closing the connection would otherwise keep it, and every start waiting, for the two hours
    // the operating system's keepalive takes. The server probes after 30 s idle, and gives up
    // after three unanswered probes.
    await runner.query("SET LOCAL tcp_keepalives_idle = 30");
    await runner.query("SET LOCAL tcp_keepalives_interval = 10");
    await runner.query("SET LOCAL tcp_keepalives_count = 3");
    await runner.query(`SELECT pg_advisory_xact_lock(${ADVISORY_KEY})`, [STARTUP_LOCK]);
    return await work(migrator);
  } finally {
    // The transaction wrote nothing: ending it any way releases the lock, and should it fail, the
    // connection's end does. Each step's failure is left behind: the work's own error is the answer.
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    await runner.release().catch(() => undefined);
    await migrator.destroy().catch(() => undefined);
  }
}

type PostgresOptions = Extract<DataSourceOptions, { type: "postgres" }>;

/**
 * The gateway's PostgreSQL options without its limits on time, for the startup lock and the
 * migrations: a migration may rightly run for minutes (an index built over a large table), and
 * failing it there would fail every start. Its own connections, as node-postgres's query_timeout
 * cannot be lifted for one statement.
 */
function migratorOptions(options: PostgresOptions): PostgresOptions {
  return {
    ...options,
    subscribers: [WithoutStatementTimeout],
    extra: {
      ...options.extra,
      // One holds the lock while the other migrates.
      max: 2,
      statement_timeout: undefined,
      idle_in_transaction_session_timeout: undefined,
      query_timeout: undefined,
      // node-postgres's own client: prepared and pipelined statements serve the hot paths, and migrating is not one.
      Client: undefined,
      pipeline: false,
    },
  };
}

/**
 * Lifts the statement timeout in each transaction (the startup lock's, and each migration's), as
 * SET LOCAL: through a pooler in transaction mode a session's SET would stay with whichever
 * server connection it reached and lift the limit for other clients. Undoes one DATABASE_URL
 * may set (node-postgres takes its parameters over the pool's) or the role's default as well.
 */
@EventSubscriber()
class WithoutStatementTimeout implements EntitySubscriberInterface {
  async afterTransactionStart({ queryRunner }: TransactionStartEvent): Promise<void> {
    await queryRunner.query("SET LOCAL statement_timeout = 0");
  }
}

/**
 * SQLite only: a second connection to the same file for reads made outside a transaction.
 * better-sqlite3 has one connection, and the transaction it runs is open across awaits: a
 * read on that connection would see a transaction's writes before it commits, or when it then
 * rolls back. A connection of its own reads, in WAL mode, only what has committed, as a read
 * on PostgreSQL does. query_only makes a write through it an error rather than a second writer
 * (whose lock wait would block the event loop that the first writer needs to finish).
 */
export function createReaderDataSource(config: DatabaseConfig): DataSource | null {
  if (config.engine === "postgres") return null;
  const options = dataSourceOptions(config) as Extract<DataSourceOptions, { type: "better-sqlite3" }>;
  const reader = new DataSource({
    ...options,
    migrations: [],
    prepareDatabase: (db: SqliteConnection) => {
      options.prepareDatabase!(db);
      db.pragma("query_only = ON");
    },
  });
  bindIntegersAsParameters(reader);
  return reader;
}

type EscapeQuery = (sql: string, parameters: Record<string, unknown>, nativeParameters: Record<string, unknown>) => [string, unknown[]];

/**
 * TypeORM's SQLite drivers write number parameters into the SQL text, so a statement that
 * names a time or a count is new text on every call: it misses the prepared-statement cache
 * and SQLite parses and plans it again. Integers are bound instead, as BigInt (which
 * better-sqlite3 binds as a 64-bit integer, exactly as the columns store them).
 */
function bindIntegersAsParameters(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as { escapeQueryWithParameters: EscapeQuery };
  const escape = driver.escapeQueryWithParameters.bind(driver);
  driver.escapeQueryWithParameters = (sql, parameters, nativeParameters) => {
    if (!parameters) return escape(sql, parameters, nativeParameters);
    const bound: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parameters)) {
      bound[key] = typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : value;
    }
    return escape(sql, bound, nativeParameters);
  };
}

/**
 * Creates the PostgreSQL schema when one is named and missing (each test server gets a fresh
 * one). Looked up first: CREATE SCHEMA IF NOT EXISTS asks for the database's CREATE privilege
 * even when the schema is there, which a role that only owns its schema does not have. Two
 * instances starting at once may both find it missing; the one that loses finds it made.
 */
export async function ensureSchema(config: DatabaseConfig): Promise<void> {
  if (config.engine !== "postgres" || !config.databaseSchema) return;
  const bootstrap = new DataSource({ type: "postgres", url: config.databaseUrl ?? undefined });
  await bootstrap.initialize();
  try {
    const exists = async () => ((await bootstrap.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [config.databaseSchema])) as unknown[]).length > 0;
    if (await exists()) return;
    try {
      await bootstrap.query(`CREATE SCHEMA "${config.databaseSchema}"`);
    } catch (error) {
      if (!(await exists())) throw error;
    }
  } finally {
    await bootstrap.destroy();
  }
}
