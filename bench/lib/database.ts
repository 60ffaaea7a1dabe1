import Database from "better-sqlite3";
import { Pool } from "pg";

export type Engine = "sqlite" | "postgres";

/**
 * The bench's own connection to a gateway's database: to read codes back from the simulator's
 * inbox, to watch the outbox drain, and to bulk-load synthetic System Log events. Statements
 * use `?` placeholders on both engines; they are numbered for PostgreSQL here.
 */
export interface BenchDatabase {
  engine: Engine;
  all<T>(sql: string, parameters?: unknown[]): Promise<T[]>;
  run(sql: string, parameters?: unknown[]): Promise<void>;
  /** Runs `work` in one transaction. */
  transaction(work: (run: (sql: string, parameters?: unknown[]) => Promise<void>) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export function openSqlite(file: string): BenchDatabase {
  const db = new Database(file, { fileMustExist: true });
  // The gateway holds the write lock in short bursts; wait for it rather than fail.
  db.pragma("busy_timeout = 10000");
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const run = async (sql: string, parameters: unknown[] = []) => {
    prepared(sql).run(...parameters);
  };
  return {
    engine: "sqlite",
    all: async <T>(sql: string, parameters: unknown[] = []) => prepared(sql).all(...parameters) as T[],
    run,
    transaction: async (work) => {
      // better-sqlite3 is synchronous, so nothing else runs on this connection inside the transaction.
      db.exec("BEGIN IMMEDIATE");
      try {
        await work(run);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    close: async () => {
      db.close();
    },
  };
}

const numbered = (sql: string) => {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
};

export function openPostgres(url: string, schema: string | null): BenchDatabase {
  const pool = new Pool({ connectionString: url, max: 4, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  return {
    engine: "postgres",
    all: async <T>(sql: string, parameters: unknown[] = []) => (await pool.query(numbered(sql), parameters)).rows as T[],
    run: async (sql, parameters = []) => {
      await pool.query(numbered(sql), parameters);
    },
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await work(async (sql, parameters = []) => {
          await client.query(numbered(sql), parameters);
        });
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
