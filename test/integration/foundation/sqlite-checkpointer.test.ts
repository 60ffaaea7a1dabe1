/**
 * The gateway's SQLite connection leaves checkpoints to a worker thread. What must hold: the
 * WAL stays small while the connection commits and never checkpoints itself, and every
 * committed page reaches the database file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { SqliteCheckpointer } from "../../../src/platform/sqlite-checkpointer";

const logger = pino({ level: "silent" });
const ROUNDS = 20;
const COMMITS_PER_ROUND = 100;

describe("SqliteCheckpointer", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-checkpoint-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A connection set up as the gateway's, except that SQLite never checkpoints by itself. */
  function open(name: string): Database.Database {
    const db = new Database(path.join(dir, name));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("wal_autocheckpoint = 0");
    db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
    return db;
  }

  /** Commits one row at a time, as requests do; between rounds, waits for `between`. Resolves with the largest WAL seen. */
  async function commitRounds(db: Database.Database, name: string, between: () => Promise<unknown>): Promise<number> {
    const insert = db.prepare("INSERT INTO rows (payload) VALUES (?)");
    let largestWal = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let commit = 0; commit < COMMITS_PER_ROUND; commit += 1) insert.run("x".repeat(1_000));
      largestWal = Math.max(largestWal, fs.statSync(path.join(dir, `${name}-wal`)).size);
      await between();
    }
    return largestWal;
  }

  test("the WAL stays a fraction of its size without checkpoints, while the connection only commits", async () => {
    const unattended = open("unattended.sqlite");
    const unattendedWal = await commitRounds(unattended, "unattended.sqlite", () => new Promise((resolve) => setImmediate(resolve)));
    unattended.close();

    const attended = open("attended.sqlite");
    const checkpointer = SqliteCheckpointer.start({ file: path.join(dir, "attended.sqlite"), intervalMs: 60_000, logger });
    try {
      // The periodic timer is a minute away: these are the worker's on-demand checkpoints, each between rounds.
      const attendedWal = await commitRounds(attended, "attended.sqlite", () => checkpointer.checkpoint());
      expect(unattendedWal).toBeGreaterThan(ROUNDS * COMMITS_PER_ROUND * 4096);
      expect(attendedWal).toBeLessThan(unattendedWal / 5);
    } finally {
      await checkpointer.stop();
      attended.close();
    }
  });

  /** The rows the database file holds by itself, its WAL left behind: what checkpoints have copied. */
  function rowsInFileAlone(name: string): number {
    const copy = path.join(dir, `file-only-${name}`);
    fs.copyFileSync(path.join(dir, name), copy);
    const fileOnly = new Database(copy, { readonly: true });
    try {
      return (fileOnly.prepare("SELECT COUNT(*) AS count FROM rows").get() as { count: number }).count;
    } catch {
      // Before the first checkpoint even the table is only in the WAL.
      return 0;
    } finally {
      fileOnly.close();
      fs.rmSync(copy);
    }
  }

  test("a checkpoint with no writer at work copies every committed frame into the database file", async () => {
    const db = open("copied.sqlite");
    const checkpointer = SqliteCheckpointer.start({ file: path.join(dir, "copied.sqlite"), intervalMs: 60_000, logger });
    try {
      const insert = db.prepare("INSERT INTO rows (payload) VALUES (?)");
      for (let commit = 0; commit < 50; commit += 1) insert.run(`row ${commit}`);
      expect(rowsInFileAlone("copied.sqlite")).toBe(0);
      const result = await checkpointer.checkpoint();
      expect(result.busy).toBe(false);
      expect(result.walFrames).toBeGreaterThan(0);
      expect(result.checkpointedFrames).toBe(result.walFrames);
      expect(rowsInFileAlone("copied.sqlite")).toBe(50);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  test("the periodic checkpoint runs without being asked", async () => {
    const db = open("periodic.sqlite");
    const checkpointer = SqliteCheckpointer.start({ file: path.join(dir, "periodic.sqlite"), intervalMs: 20, logger });
    try {
      const insert = db.prepare("INSERT INTO rows (payload) VALUES (?)");
      for (let commit = 0; commit < 50; commit += 1) insert.run(`row ${commit}`);
      const deadline = Date.now() + 5_000;
      while (rowsInFileAlone("periodic.sqlite") < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rowsInFileAlone("periodic.sqlite")).toBe(50);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  test("once stopped it refuses further checkpoints", async () => {
    const db = open("stopped.sqlite");
    const checkpointer = SqliteCheckpointer.start({ file: path.join(dir, "stopped.sqlite"), intervalMs: 60_000, logger });
    await checkpointer.stop();
    await expect(checkpointer.checkpoint()).rejects.toThrow("stopped");
    db.close();
  });
});
