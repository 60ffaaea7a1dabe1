import BetterSqlite3 from "better-sqlite3";

/** How often a process that finds the lock held asks again: it must not block its event loop waiting. */
const RETRY_MS = 100;

/**
 * SQLite's startup lock, for `npm run migration:run` beside a starting gateway (or two gateways
 * started by mistake on one data directory): an exclusive transaction on a small database of its
 * own beside the gateway's. Each reads the migrations already applied before applying the rest,
 * so two at once would both apply the same one, and the second fail on its "duplicate column".
 * The operating system releases the lock with the process that held it, crashed or not, so no
 * stale lock is ever left to clear by hand.
 */
export async function withSqliteStartupLock<T>(databaseFile: string, work: () => Promise<T>): Promise<T> {
  const lock = new BetterSqlite3(`${databaseFile}.startup-lock`);
  try {
    lock.pragma("busy_timeout = 0");
    for (;;) {
      try {
        lock.exec("BEGIN EXCLUSIVE");
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    return await work();
  } finally {
    if (lock.inTransaction) lock.exec("ROLLBACK");
    lock.close();
  }
}
