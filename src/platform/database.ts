import type { DataSource, EntityManager } from "typeorm";
import type { DatabaseEngine } from "./config";

export interface Transaction {
  manager: EntityManager;
  /** Runs once the transaction has committed (never if it rolls back): publish events here. */
  afterCommit(callback: () => void | Promise<void>): void;
}

/**
 * The one way services write. On PostgreSQL a transaction is a pooled connection's
 * transaction. better-sqlite3 has a single connection, and TypeORM would nest a second
 * concurrent transaction into the first as a savepoint (so one request's rollback would undo
 * another's work): transactions are queued here instead, one at a time.
 */
export class Database {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {}

  get engine(): DatabaseEngine {
    return this.dataSource.options.type === "postgres" ? "postgres" : "sqlite";
  }

  /** For reads. Writes go through `transaction`. */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const callbacks: Array<() => void | Promise<void>> = [];
    const run = () =>
      this.dataSource.transaction((manager) => work({ manager, afterCommit: (callback) => callbacks.push(callback) }));
    const result = this.engine === "sqlite" ? await this.serialised(run) : await run();
    for (const callback of callbacks) {
      try {
        await callback();
      } catch {
        // A failed after-commit hook (a publish) must not turn a committed write into an error.
      }
    }
    return result;
  }

  /**
   * For schedules (receipt sweeps, retention): on PostgreSQL a transaction-scoped advisory
   * lock, taken only if free, so that across instances one runs at a time and the others skip.
   * SQLite serves one process, whose transactions are already one at a time.
   */
  async tryScheduleLock(tx: Transaction, name: string): Promise<boolean> {
    if (this.engine !== "postgres") return true;
    // Advisory locks are server-wide: the schema in the key keeps deployments that share a server
    // in separate schemas from skipping each other's schedules.
    const rows: Array<{ locked: boolean }> = await tx.manager.query(
      "SELECT pg_try_advisory_xact_lock(hashtext(COALESCE(current_schema(), '') || ':' || $1)) AS locked",
      [name],
    );
    return rows[0]?.locked === true;
  }

  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** A unique index refused the row: the caller turns this into CONFLICT. */
export function isUniqueViolation(error: unknown): boolean {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = candidate?.driverError?.code ?? candidate?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
