import pg from "pg";
import { dataSourceOptions } from "../../../src/platform/data-source";
import { CallbackQueryClient, commitWith, PreparedStatementNames, preparedStatements, PreparingQueryClient } from "../../../src/platform/pg-client";

/** Opt-in through DATABASE_URL=postgres://..., as the rest of the PostgreSQL suite. */
const databaseUrl = process.env.DATABASE_URL ?? "";
const describeOnPostgres = databaseUrl.startsWith("postgres") ? describe : describe.skip;

describe("the gateway's PostgreSQL pool", () => {
  const extraOf = (databasePreparedStatements?: boolean) =>
    (dataSourceOptions({ engine: "postgres", databaseUrl: "postgres://localhost/none", databaseSchema: null, dataDir: "unused", databasePreparedStatements }) as {
      extra?: { Client?: unknown; pipeline?: unknown };
    }).extra;

  test("makes its connections with PreparingQueryClient, or CallbackQueryClient when prepared statements are off", () => {
    expect(extraOf()?.Client).toBe(PreparingQueryClient);
    expect(extraOf(true)?.Client).toBe(PreparingQueryClient);
    expect(extraOf(false)?.Client).toBe(CallbackQueryClient);
  });

  test("pipelines both, so that a transaction's BEGIN can go with its first statement", () => {
    expect(extraOf(true)?.pipeline).toBe(true);
    expect(extraOf(false)?.pipeline).toBe(true);
  });
});

describe("PreparedStatementNames", () => {
  test("names only the texts it was told to allow, each with a name of its own that it keeps", () => {
    const names = new PreparedStatementNames();
    expect(names.nameFor("SELECT $1")).toBeNull();
    expect(names.allow("SELECT $1")).toBe(true);
    const name = names.nameFor("SELECT $1");
    expect(name).toMatch(/^ringfence_\d+$/);
    expect(names.allow("SELECT $1")).toBe(true);
    expect(names.nameFor("SELECT $1")).toBe(name);
    names.allow("SELECT $2");
    expect(names.nameFor("SELECT $2")).not.toBe(name);
  });

  test("allows at most maxPrepared texts: past that, the others run unnamed", () => {
    const names = new PreparedStatementNames(2);
    expect([names.allow("SELECT 1 + $1"), names.allow("SELECT 2 + $1"), names.allow("SELECT 3 + $1")]).toEqual([true, true, false]);
    expect([names.nameFor("SELECT 1 + $1"), names.nameFor("SELECT 2 + $1"), names.nameFor("SELECT 3 + $1")]).toEqual(["ringfence_1", "ringfence_2", null]);
  });
});

describeOnPostgres("CallbackQueryClient", () => {
  let client: CallbackQueryClient;
  let plain: pg.Client;
  beforeAll(async () => {
    client = new CallbackQueryClient({ connectionString: databaseUrl });
    plain = new pg.Client({ connectionString: databaseUrl });
    await Promise.all([client.connect(), plain.connect()]);
  });
  afterAll(() => Promise.all([client.end(), plain.end()]));

  const SQL = "SELECT $1::int + 1 AS next, $2::text AS label, NULL::bigint AS missing";

  test("the promise form resolves with what node-postgres's own gives", async () => {
    const [ours, theirs] = await Promise.all([client.query(SQL, [41, "x"]), plain.query(SQL, [41, "x"])]);
    expect(ours.rows).toEqual([{ next: 42, label: "x", missing: null }]);
    expect({ rows: ours.rows, rowCount: ours.rowCount, command: ours.command, fields: ours.fields.map((field) => field.name) }).toEqual({
      rows: theirs.rows,
      rowCount: theirs.rowCount,
      command: theirs.command,
      fields: theirs.fields.map((field) => field.name),
    });
    expect((await client.query({ text: SQL, values: [1, "y"], rowMode: "array" })).rows).toEqual([[2, "y", null]]);
  });

  test("a failed query rejects with the server's error, its stack leading back to the caller", async () => {
    const failure = (await client.query("SELECT 1 / $1::int", [0]).catch((error: unknown) => error)) as Error & { code?: string };
    expect(failure).toBeInstanceOf(Error);
    expect(failure.code).toBe("22012");
    expect(failure.stack).toContain("pg-client.test.ts");
    // The connection is still usable afterwards.
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  test("callers that pass a callback, and custom query objects, go straight through", async () => {
    const viaCallback = await new Promise<pg.QueryResult>((resolve, reject) =>
      client.query(SQL, [1, "z"], (error, result) => (error ? reject(error) : resolve(result))),
    );
    expect(viaCallback.rows).toEqual([{ next: 2, label: "z", missing: null }]);
    const submitted = new pg.Query("SELECT 7 AS seven");
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      const seen: unknown[] = [];
      submitted.on("row", (row) => seen.push(row));
      submitted.on("end", () => resolve(seen));
      submitted.on("error", reject);
      expect(client.query(submitted)).toBe(submitted);
    });
    expect(rows).toEqual([{ seven: 7 }]);
  });
});

describeOnPostgres("CallbackQueryClient in pipeline mode: transactions", () => {
  let client: CallbackQueryClient;
  let other: pg.Client;
  const table = `rf_pipeline_${process.pid}`;
  beforeAll(async () => {
    client = new CallbackQueryClient({ connectionString: databaseUrl, pipeline: true });
    other = new pg.Client({ connectionString: databaseUrl });
    await Promise.all([client.connect(), other.connect()]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id int PRIMARY KEY)`);
  });
  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await Promise.all([client.end(), other.end()]);
  });

  /** Writes the connection's socket makes while `work` runs: the round trips it starts. */
  async function socketWrites(work: () => Promise<unknown>): Promise<number> {
    const socket = client.connection.stream as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
    const own = { write: socket._write, writev: socket._writev };
    let writes = 0;
    socket._write = function (...args) {
      writes += 1;
      return own.write.apply(this, args);
    };
    socket._writev = function (...args) {
      writes += 1;
      return own.writev.apply(this, args);
    };
    try {
      await work();
    } finally {
      socket._write = own.write;
      socket._writev = own.writev;
    }
    return writes;
  }
  const visibleToOthers = async (id: number) => (await other.query(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1;
  const inTransaction = async () => (await client.query("SELECT now() <> statement_timestamp() AS open")).rows[0].open as boolean;

  test("BEGIN is written with the transaction's first statement, in one write, and the transaction holds as one", async () => {
    const writes = await socketWrites(async () => {
      expect(await client.query("START TRANSACTION")).toMatchObject({ command: "BEGIN", rows: [] });
      await client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]);
    });
    expect(writes).toBe(1);
    expect(await inTransaction()).toBe(true);
    expect(await visibleToOthers(1)).toBe(false);
    expect((await client.query("ROLLBACK")).command).toBe("ROLLBACK");
    expect(await visibleToOthers(1)).toBe(false);

    await client.query("START TRANSACTION");
    await client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [2]);
    await client.query("COMMIT");
    expect(await visibleToOthers(2)).toBe(true);
    expect(await inTransaction()).toBe(false);
  });

  test("a transaction that ends with no statement makes no round trip", async () => {
    for (const end of ["COMMIT", "ROLLBACK"]) {
      const writes = await socketWrites(async () => {
        await client.query("START TRANSACTION");
        expect(await client.query(end)).toMatchObject({ command: end, rows: [] });
      });
      expect(writes).toBe(0);
    }
    expect(await inTransaction()).toBe(false);
  });

  test("a BEGIN that fails fails the first statement with its error, and the rollback leaves the connection usable", async () => {
    // An aborted transaction refuses the next BEGIN, as it refuses everything but its end.
    await client.query("BEGIN");
    await expect(client.query("SELECT 1 / $1::int", [0])).rejects.toMatchObject({ code: "22012" });
    await client.query("START TRANSACTION");
    await expect(client.query("SELECT 1 AS one")).rejects.toMatchObject({ code: "25P02" });
    await client.query("ROLLBACK");
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    expect(await inTransaction()).toBe(false);
  });

  test("commitWith writes the last statements and the COMMIT together, and the COMMIT that follows makes no round trip", async () => {
    await client.query("START TRANSACTION");
    await client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [4]);
    let outcomes: PromiseSettledResult<pg.QueryResult>[] = [];
    const writes = await socketWrites(async () => {
      outcomes = await commitWith(client, [
        { text: `INSERT INTO ${table} (id) VALUES ($1) RETURNING id`, values: [5] },
        { text: `INSERT INTO ${table} (id) VALUES ($1) RETURNING id`, values: [6] },
      ]);
      expect((await client.query("COMMIT")).command).toBe("COMMIT");
    });
    expect(writes).toBe(1);
    expect(outcomes.map((outcome) => (outcome.status === "fulfilled" ? [outcome.value.command, outcome.value.rows] : outcome.reason))).toEqual([
      ["INSERT", [{ id: 5 }]],
      ["INSERT", [{ id: 6 }]],
      ["COMMIT", []],
    ]);
    expect([await visibleToOthers(4), await visibleToOthers(5), await visibleToOthers(6)]).toEqual([true, true, true]);
    expect(await inTransaction()).toBe(false);
  });

  test("a last statement that fails rolls the whole transaction back: PostgreSQL answers the COMMIT with a ROLLBACK", async () => {
    await client.query("START TRANSACTION");
    await client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [7]);
    // The key is taken: the first statement fails, the aborted transaction refuses the second.
    const outcomes = await commitWith(client, [
      { text: `INSERT INTO ${table} (id) VALUES ($1)`, values: [5] },
      { text: `INSERT INTO ${table} (id) VALUES ($1)`, values: [8] },
    ]);
    expect(outcomes.map((outcome) => (outcome.status === "fulfilled" ? outcome.value.command : (outcome.reason as { code?: string }).code))).toEqual([
      "23505",
      "25P02",
      "ROLLBACK",
    ]);
    const writes = await socketWrites(async () => expect((await client.query("ROLLBACK")).command).toBe("ROLLBACK"));
    expect(writes).toBe(0);
    expect([await visibleToOthers(7), await visibleToOthers(8)]).toEqual([false, false]);
    expect(await inTransaction()).toBe(false);
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  test("a callback or a custom query object takes the BEGIN held back with it", async () => {
    await client.query("START TRANSACTION");
    await new Promise<void>((resolve, reject) =>
      client.query(`INSERT INTO ${table} (id) VALUES ($1)`, [3], (error) => (error ? reject(error) : resolve())),
    );
    expect(await visibleToOthers(3)).toBe(false);
    await client.query("ROLLBACK");
    expect(await visibleToOthers(3)).toBe(false);
  });
});

describeOnPostgres("PreparingQueryClient", () => {
  let client: PreparingQueryClient;
  let plain: pg.Client;
  beforeAll(async () => {
    client = new PreparingQueryClient({ connectionString: databaseUrl });
    plain = new pg.Client({ connectionString: databaseUrl });
    await Promise.all([client.connect(), plain.connect()]);
  });
  afterAll(() => Promise.all([client.end(), plain.end()]));

  // Texts of this run's own, so that nothing else in the process has allowed them.
  const unique = (sql: string) => `${sql} /* ${process.pid}-${Math.random()} */`;
  const preparedOnConnection = async (sql: string) =>
    Number((await client.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [sql])).rows[0].n);

  test("an allowed statement runs as its connection's prepared statement, answering as node-postgres does", async () => {
    const text = unique("SELECT $1::int * 2 AS doubled, $2::text AS label");
    preparedStatements.allow(text);
    const [ours, theirs] = await Promise.all([client.query(text, [21, "x"]), plain.query(text, [21, "x"])]);
    expect(await preparedOnConnection(text)).toBe(1);
    expect(ours.rows).toEqual([{ doubled: 42, label: "x" }]);
    expect({ rows: ours.rows, rowCount: ours.rowCount, command: ours.command }).toEqual({ rows: theirs.rows, rowCount: theirs.rowCount, command: theirs.command });
    expect((await client.query(text, [5, "again"])).rows).toEqual([{ doubled: 10, label: "again" }]);
    expect(await preparedOnConnection(text)).toBe(1);
  });

  test("a statement not allowed runs unnamed, however often", async () => {
    const text = unique("SELECT $1::int + 1 AS next");
    for (let run = 0; run < 5; run += 1) expect((await client.query(text, [run])).rows).toEqual([{ next: run + 1 }]);
    expect(await preparedOnConnection(text)).toBe(0);
  });

  test("a prepared statement that fails rejects with the server's error and leaves the connection usable", async () => {
    const failing = unique("SELECT 1 / $1::int AS quotient");
    preparedStatements.allow(failing);
    for (let run = 0; run < 3; run += 1) {
      const failure = (await client.query(failing, [0]).catch((error: unknown) => error)) as Error & { code?: string };
      expect(failure.code).toBe("22012");
    }
    expect(await preparedOnConnection(failing)).toBe(1);
    expect((await client.query(failing, [2])).rows).toEqual([{ quotient: 0 }]);
  });
});
