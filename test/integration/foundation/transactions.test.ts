/**
 * Database.transaction: on SQLite, transactions that queue up while one runs commit together,
 * each in its own savepoint. Whatever the grouping, each must behave as if it ran alone.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataSource } from "typeorm";
import { Database, type Transaction } from "../../../src/platform/database";
import { engine } from "../../support/gateway";

describe(`Database.transaction (${engine})`, () => {
  let dataSource: DataSource;
  let db: Database;
  let dir: string | null = null;
  const schema = `rf_test_${randomBytes(6).toString("hex")}`;

  beforeAll(async () => {
    if (engine === "postgres") {
      const bootstrap = new DataSource({ type: "postgres", url: process.env.DATABASE_URL });
      await bootstrap.initialize();
      await bootstrap.query(`CREATE SCHEMA "${schema}"`);
      await bootstrap.destroy();
      dataSource = new DataSource({ type: "postgres", url: process.env.DATABASE_URL, extra: { options: `-c search_path=${schema}` } });
    } else {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-tx-"));
      dataSource = new DataSource({ type: "better-sqlite3", database: path.join(dir, "tx.sqlite") });
    }
    await dataSource.initialize();
    await dataSource.query(`CREATE TABLE "notes" ("id" varchar(20) PRIMARY KEY NOT NULL, "body" varchar(40) NOT NULL)`);
    db = new Database(dataSource);
  });

  afterAll(async () => {
    if (engine === "postgres") await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const insert = (id: string, body: string) =>
    db.transaction(async ({ manager }) => {
      await manager.query(engine === "postgres" ? `INSERT INTO "notes" ("id", "body") VALUES ($1, $2)` : `INSERT INTO "notes" ("id", "body") VALUES (?, ?)`, [id, body]);
      return id;
    });
  const ids = async () => ((await dataSource.query(`SELECT "id" FROM "notes" ORDER BY "id"`)) as { id: string }[]).map((row) => row.id);

  test("many at once: each failure rolls back alone, the rest commit, and only committed work runs its after-commit hooks", async () => {
    const committedHooks: string[] = [];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, index) =>
        db.transaction(async (tx) => {
          const id = `n${String(index).padStart(2, "0")}`;
          await tx.manager.query(
            engine === "postgres" ? `INSERT INTO "notes" ("id", "body") VALUES ($1, $2)` : `INSERT INTO "notes" ("id", "body") VALUES (?, ?)`,
            [id, "first"],
          );
          tx.afterCommit(() => void committedHooks.push(id));
          // Every third one fails after its write: the write must not survive.
          if (index % 3 === 0) throw new Error(`refused ${id}`);
          return id;
        }),
      ),
    );
    const expected = Array.from({ length: 40 }, (_, index) => index)
      .filter((index) => index % 3 !== 0)
      .map((index) => `n${String(index).padStart(2, "0")}`);
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled").map((outcome) => (outcome as PromiseFulfilledResult<string>).value)).toEqual(expected);
    expect(outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => String((outcome as PromiseRejectedResult).reason.message))).toEqual(
      Array.from({ length: 14 }, (_, index) => `refused n${String(index * 3).padStart(2, "0")}`),
    );
    expect(await ids()).toEqual(expected);
    expect(committedHooks.sort()).toEqual(expected);
  });

  test("a single-statement write has no transaction around it on PostgreSQL and is queued as one on SQLite; its hooks run only once it is written", async () => {
    // On PostgreSQL now() is when the transaction began: a statement that runs alone began it itself.
    const runsAlone = (tx: Transaction) =>
      engine === "postgres"
        ? tx.manager.query(`SELECT now() = statement_timestamp() AS "alone"`).then((rows: { alone: boolean }[]) => rows[0]!.alone)
        : Promise.resolve(!tx.manager.queryRunner?.isTransactionActive);
    expect(await db.transaction(runsAlone)).toBe(false);
    expect(await db.singleStatement(runsAlone)).toBe(engine === "postgres");

    const hooks: string[] = [];
    const write = (id: string) =>
      db.singleStatement(async (tx) => {
        tx.afterCommit(() => void hooks.push(id));
        await tx.manager.query(engine === "postgres" ? `INSERT INTO "notes" ("id", "body") VALUES ($1, 'alone')` : `INSERT INTO "notes" ("id", "body") VALUES (?, 'alone')`, [id]);
      });
    await write("single");
    await expect(write("single")).rejects.toThrow();
    expect(hooks).toEqual(["single"]);
    expect(await dataSource.query(`SELECT "body" FROM "notes" WHERE "id" = 'single'`)).toEqual([{ body: "alone" }]);
  });

  test("a statement error (a duplicate key) fails its own transaction only; the other's write stays", async () => {
    const results = await Promise.allSettled([insert("dup", "one"), insert("dup", "two"), insert("other", "three")]);
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(results[2]).toEqual({ status: "fulfilled", value: "other" });
    const winner = results[0]?.status === "fulfilled" ? "one" : "two";
    expect(await dataSource.query(`SELECT "body" FROM "notes" WHERE "id" IN ('dup', 'other') ORDER BY "id"`)).toEqual([{ body: winner }, { body: "three" }]);
  });
});
