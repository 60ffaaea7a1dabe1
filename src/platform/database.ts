import { AsyncResource } from "node:async_hooks";
import { In, type DataSource, type EntityManager, type EntityTarget, type FindOptionsWhere, type ObjectLiteral } from "typeorm";
import type { DatabaseEngine } from "./config";
import { EntityStatements } from "./entity-statements";

export interface Transaction {
  manager: EntityManager;
  /** Runs once the transaction has committed (never if it rolls back): publish events here. */
  afterCommit(callback: () => void | Promise<void>): void;
  /**
   * PostgreSQL transactions only (null elsewhere): `write` goes with the COMMIT, after all else
   * the transaction does, in one round trip with any others given. For a write on rows every
   * transaction of its kind locks, such as a counter: they stay locked until a COMMIT already
   * on its way, not for a round trip through the event loop. Its result is not seen before the
   * commit, so a write that must refuse does so in SQL, by raising; `refusal` turns that error
   * into the one the transaction fails with.
   */
  commitWith: ((write: LastWrite) => void) | null;
}

export interface LastWrite {
  /** With `?` placeholders, or PostgreSQL's own `$1, $2, ...` when `numbered`. */
  sql: string;
  parameters: unknown[];
  numbered?: boolean;
  refusal?: (error: unknown) => unknown;
}

type AfterCommit = () => void | Promise<void>;

interface QueuedWork {
  work: (tx: Transaction) => Promise<unknown>;
  settle: (outcome: { ok: true; value: unknown; callbacks: AfterCommit[] } | { ok: false; error: unknown }) => void;
}

/** Transactions one SQLite commit may carry: enough to amortise the commit, few enough to keep latency flat. */
const MAX_GROUP = 32;

/** Rows deleted per purge transaction: short enough that writers waiting on SQLite's single writer barely notice. */
export const PURGE_BATCH_SIZE = 1000;

/**
 * The one way services write. On PostgreSQL a transaction is a pooled connection's
 * transaction. better-sqlite3 has a single connection, and TypeORM would nest a second
 * concurrent transaction into the first as a savepoint (so one request's rollback would undo
 * another's work): transactions are queued here instead, and run one at a time.
 *
 * Group commit: the transactions begun in the same turn of the event loop, or that queued up
 * while a group ran, are run together, each in its own savepoint, under one BEGIN and one COMMIT. Each still sees its predecessors' writes and
 * rolls back alone; the commit (a WAL append, and now and then a checkpoint) is paid once per
 * group, so under load the cost of a commit is shared instead of queued.
 *
 * Reads outside a transaction (`manager`) go to `reader` when there is one: on SQLite a second
 * connection (createReaderDataSource), which sees only committed work.
 */
/**
 * An advisory lock's key for the name in $1. Advisory locks are server-wide: the schema in the key
 * keeps deployments that share a server in separate schemas from holding each other's.
 */
export const ADVISORY_KEY = "hashtext(COALESCE(current_schema(), '') || ':' || $1)";

export class Database {
  private readonly queued: QueuedWork[] = [];
  private draining = false;
  /** Prepared reads and writes by key, for the hot paths (see EntityStatements). */
  readonly statements: EntityStatements;

  constructor(
    readonly dataSource: DataSource,
    private readonly reader: DataSource = dataSource,
  ) {
    this.statements = new EntityStatements(dataSource);
  }

  get engine(): DatabaseEngine {
    return this.dataSource.options.type === "postgres" ? "postgres" : "sqlite";
  }

  /** For reads of committed data. Writes go through `transaction`. */
  get manager(): EntityManager {
    return this.reader.manager;
  }

  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    let value: T;
    let callbacks: AfterCommit[] = [];
    if (this.engine === "sqlite") {
      ({ value, callbacks } = await this.enqueue(work));
    } else {
      value = await this.dataSource.transaction(async (manager) => {
        const last: LastWrite[] = [];
        const result = await work({ manager, afterCommit: (callback) => callbacks.push(callback), commitWith: (write) => last.push(write) });
        if (last.length) await this.commitWithLast(manager, last);
        return result;
      });
    }
    await runAfterCommit(callbacks);
    return value;
  }

  /** Fails with the first write that failed (those after it fail only as the aborted transaction refuses them), else the COMMIT's failure. */
  private async commitWithLast(manager: EntityManager, last: readonly LastWrite[]): Promise<void> {
    const outcomes = await this.statements.writeWithCommit(manager, last);
    const failed = outcomes.findIndex((outcome) => outcome.status === "rejected");
    if (failed === -1) return;
    const error = (outcomes[failed] as PromiseRejectedResult).reason;
    throw last[failed]?.refusal ? last[failed].refusal(error) : error;
  }

  /**
   * Work whose one write is a single statement, which PostgreSQL makes atomic on its own: there
   * it runs on pooled connections with no BEGIN and COMMIT around it, two round trips fewer.
   * Reads may go with the write, and each sees what committed before it, the write included.
   * `work` must not send a second write, which would commit apart from the first, nor take a
   * lock meant to outlast its statement. On SQLite it is a transaction like any other, as every
   * write goes through the one writer.
   */
  async singleStatement<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.engine === "sqlite") return this.transaction(work);
    const callbacks: AfterCommit[] = [];
    const value = await work({ manager: this.dataSource.manager, afterCommit: (callback) => callbacks.push(callback), commitWith: null });
    await runAfterCommit(callbacks);
    return value;
  }

  /**
   * Rows by id that this transaction refers to (a membership to a group, a policy to a group),
   * read so that none can be deleted before it commits: on PostgreSQL FOR KEY SHARE, which a
   * DELETE waits for (and a deletion that came first makes the rows missing here), while
   * updates of other columns go on. SQLite runs transactions one at a time already.
   */
  findForKeyShare<Entity extends ObjectLiteral & { id: string }>(tx: Transaction, entity: EntityTarget<Entity>, ids: readonly string[]): Promise<Entity[]> {
    if (!ids.length) return Promise.resolve([]);
    const where = { id: In([...ids]) } as FindOptionsWhere<Entity>;
    return this.engine === "postgres" ? tx.manager.find(entity, { where, lock: { mode: "for_key_share" } }) : tx.manager.findBy(entity, where);
  }

  /**
   * A row this transaction decides on and then writes beside, held from here to its commit so
   * that another transaction deciding on it waits and then sees what this one wrote: on
   * PostgreSQL FOR NO KEY UPDATE, which key-share readers (a membership) do not wait for.
   * SQLite runs transactions one at a time already.
   */
  findForUpdate<Entity extends ObjectLiteral & { id: string }>(tx: Transaction, entity: EntityTarget<Entity>, id: string): Promise<Entity | null> {
    const where = { id } as FindOptionsWhere<Entity>;
    return this.engine === "postgres" ? tx.manager.findOne(entity, { where, lock: { mode: "for_no_key_update" } }) : tx.manager.findOneBy(entity, where);
  }

  /**
   * Deletes the rows of `table` that `condition` (SQL with `?` placeholders) matches, a batch
   * per transaction, so that on SQLite no purge holds the one writer for long; resolves with how
   * many went. Instances that share the database take turns under `schedule` (tryScheduleLock):
   * one that finds it held stops, as the holder is doing the same work.
   */
  async purgeInBatches(schedule: string, table: string, condition: string, parameters: unknown[], batchSize = PURGE_BATCH_SIZE): Promise<number> {
    const sql = `DELETE FROM "${table}" WHERE "id" IN (SELECT "id" FROM "${table}" WHERE ${condition} LIMIT ?)`;
    let purged = 0;
    for (;;) {
      const deleted = await this.transaction(async (tx) => {
        if (!(await this.tryScheduleLock(tx, schedule))) return 0;
        return this.statements.write(tx.manager, sql, [...parameters, batchSize]);
      });
      purged += deleted;
      if (deleted < batchSize) return purged;
    }
  }

  /**
   * For schedules (receipt sweeps, retention): on PostgreSQL a transaction-scoped advisory
   * lock, taken only if free, so that across instances one runs at a time and the others skip.
   * SQLite serves one process, whose transactions are already one at a time.
   */
  async tryScheduleLock(tx: Transaction, name: string): Promise<boolean> {
    if (this.engine !== "postgres") return true;
    const rows: Array<{ locked: boolean }> = await tx.manager.query(
      `SELECT pg_try_advisory_xact_lock(${ADVISORY_KEY}) AS locked`,
      [name],
    );
    return rows[0]?.locked === true;
  }

  /**
   * For read-modify-write of a settings row that may not exist yet: on PostgreSQL a
   * transaction-scoped advisory lock, so that two admins' changes at once are applied one after
   * the other, as SQLite's single writer applies them, rather than both reading the same row
   * (and each inserting it, or each undoing the other's change).
   */
  async serializeOn(tx: Transaction, name: string): Promise<void> {
    if (this.engine !== "postgres") return;
    await tx.manager.query(`SELECT pg_advisory_xact_lock(${ADVISORY_KEY})`, [name]);
  }

  private enqueue<T>(work: (tx: Transaction) => Promise<T>): Promise<{ value: T; callbacks: AfterCommit[] }> {
    return new Promise((resolve, reject) => {
      this.queued.push({
        // Run in the caller's async context, not that of whichever transaction began the drain:
        // what a request's statements are counted under (QueryCounter) follows the request.
        work: AsyncResource.bind(work),
        settle: (outcome) => (outcome.ok ? resolve({ value: outcome.value as T, callbacks: outcome.callbacks }) : reject(outcome.error)),
      });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      // The first group waits for the rest of this turn of the event loop: the transactions a
      // batch or a handful of requests begin together then share its commit, rather than the
      // first one committing alone and the others queueing behind it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queued.length) await this.runGroup(this.queued.splice(0, MAX_GROUP));
    } finally {
      this.draining = false;
    }
  }

  private async runGroup(group: QueuedWork[]): Promise<void> {
    const outcomes: Parameters<QueuedWork["settle"]>[0][] = [];
    try {
      await this.dataSource.transaction(async (manager) => {
        for (const { work } of group) {
          const callbacks: AfterCommit[] = [];
          const tx: Transaction = { manager, afterCommit: (callback) => callbacks.push(callback), commitWith: null };
          try {
            // Alone in its group, the transaction needs no savepoint of its own.
            const value = group.length === 1 ? await work(tx) : await manager.transaction((inner) => work({ ...tx, manager: inner }));
            outcomes.push({ ok: true, value, callbacks });
          } catch (error) {
            if (group.length === 1) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // Nothing of the group was committed: every transaction in it fails, with its own error if it had one.
      group.forEach((queued, index) => {
        const outcome = outcomes[index];
        queued.settle(outcome && !outcome.ok ? outcome : { ok: false, error });
      });
      return;
    }
    group.forEach((queued, index) => queued.settle(outcomes[index]!));
  }
}

async function runAfterCommit(callbacks: readonly AfterCommit[]): Promise<void> {
  for (const callback of callbacks) {
    try {
      await callback();
    } catch {
      // A failed after-commit hook (a publish) must not turn a committed write into an error.
    }
  }
}

/** A unique index refused the row: the caller turns this into CONFLICT. */
export function isUniqueViolation(error: unknown): boolean {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = candidate?.driverError?.code ?? candidate?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
