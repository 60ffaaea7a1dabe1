import pg from "pg";
import { dataSourceOptions } from "../../../src/platform/data-source";
import { CallbackQueryClient, PREPARE_AFTER, PreparedStatementNames, PreparingQueryClient } from "../../../src/platform/pg-client";

/** Opt-in through DATABASE_URL=postgres://..., as the rest of the PostgreSQL suite. */
const databaseUrl = process.env.DATABASE_URL ?? "";
const describeOnPostgres = databaseUrl.startsWith("postgres") ? describe : describe.skip;

describe("the gateway's PostgreSQL pool", () => {
  const clientOf = (databasePreparedStatements?: boolean) =>
    (dataSourceOptions({ engine: "postgres", databaseUrl: "postgres://localhost/none", databaseSchema: null, dataDir: "unused", databasePreparedStatements }) as {
      extra?: { Client?: unknown };
    }).extra?.Client;

  test("makes its connections with PreparingQueryClient, or CallbackQueryClient when prepared statements are off", () => {
    expect(clientOf()).toBe(PreparingQueryClient);
    expect(clientOf(true)).toBe(PreparingQueryClient);
    expect(clientOf(false)).toBe(CallbackQueryClient);
  });
});

describe("PreparedStatementNames", () => {
  test("names a text once it has run PREPARE_AFTER times, and keeps that name", () => {
    const names = new PreparedStatementNames();
    for (let run = 1; run < PREPARE_AFTER; run += 1) expect(names.nameFor("SELECT $1")).toBeNull();
    const name = names.nameFor("SELECT $1");
    expect(name).toMatch(/^ringfence_\d+$/);
    expect(names.nameFor("SELECT $1")).toBe(name);
    for (let run = 1; run < PREPARE_AFTER; run += 1) names.nameFor("SELECT $2");
    const other = names.nameFor("SELECT $2");
    expect(other).not.toBeNull();
    expect(other).not.toBe(name);
  });

  test("names at most maxPrepared texts: past that, the others run unnamed, however often", () => {
    const names = new PreparedStatementNames(1, 2);
    expect(names.nameFor("SELECT 1 + $1")).toBe("ringfence_1");
    expect(names.nameFor("SELECT 2 + $1")).toBe("ringfence_2");
    for (let run = 0; run < 10; run += 1) expect(names.nameFor("SELECT 3 + $1")).toBeNull();
    expect(names.nameFor("SELECT 1 + $1")).toBe("ringfence_1");
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

describeOnPostgres("PreparingQueryClient", () => {
  let client: PreparingQueryClient;
  let plain: pg.Client;
  beforeAll(async () => {
    client = new PreparingQueryClient({ connectionString: databaseUrl });
    plain = new pg.Client({ connectionString: databaseUrl });
    await Promise.all([client.connect(), plain.connect()]);
  });
  afterAll(() => Promise.all([client.end(), plain.end()]));

  // A text of this run's own, so that the process-wide registry has not named it already.
  const text = `SELECT $1::int * 2 AS doubled, $2::text AS label /* ${process.pid}-${Date.now()} */`;
  const preparedOnConnection = async (sql: string) =>
    Number((await client.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [sql])).rows[0].n);

  test("a statement run PREPARE_AFTER times becomes its connection's prepared statement, answering as node-postgres does", async () => {
    for (let run = 1; run < PREPARE_AFTER; run += 1) await client.query(text, [run, "unnamed"]);
    expect(await preparedOnConnection(text)).toBe(0);
    const [ours, theirs] = await Promise.all([client.query(text, [21, "x"]), plain.query(text, [21, "x"])]);
    expect(await preparedOnConnection(text)).toBe(1);
    expect(ours.rows).toEqual([{ doubled: 42, label: "x" }]);
    expect({ rows: ours.rows, rowCount: ours.rowCount, command: ours.command }).toEqual({ rows: theirs.rows, rowCount: theirs.rowCount, command: theirs.command });
    expect((await client.query(text, [5, "again"])).rows).toEqual([{ doubled: 10, label: "again" }]);
    expect(await preparedOnConnection(text)).toBe(1);
  });

  test("a prepared statement that fails rejects with the server's error and leaves the connection usable", async () => {
    const failing = `SELECT 1 / $1::int AS quotient /* ${process.pid}-${Date.now()} */`;
    for (let run = 0; run < PREPARE_AFTER + 1; run += 1) {
      const failure = (await client.query(failing, [0]).catch((error: unknown) => error)) as Error & { code?: string };
      expect(failure.code).toBe("22012");
    }
    expect(await preparedOnConnection(failing)).toBe(1);
    expect((await client.query(failing, [2])).rows).toEqual([{ quotient: 0 }]);
  });

  test("statements without parameters run as they are, never prepared", async () => {
    const bare = `SELECT 7 AS seven /* ${process.pid}-${Date.now()} */`;
    for (let run = 0; run < PREPARE_AFTER + 2; run += 1) expect((await client.query(bare)).rows).toEqual([{ seven: 7 }]);
    expect(await preparedOnConnection(bare)).toBe(0);
  });
});
