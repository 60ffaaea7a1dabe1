import pg from "pg";
import { dataSourceOptions } from "../../../src/platform/data-source";
import { CallbackQueryClient } from "../../../src/platform/pg-client";

/** Opt-in through DATABASE_URL=postgres://..., as the rest of the PostgreSQL suite. */
const databaseUrl = process.env.DATABASE_URL ?? "";
const describeOnPostgres = databaseUrl.startsWith("postgres") ? describe : describe.skip;

describe("the gateway's PostgreSQL pool", () => {
  test("makes its connections with CallbackQueryClient", () => {
    const options = dataSourceOptions({ engine: "postgres", databaseUrl: "postgres://localhost/none", databaseSchema: null, dataDir: "unused" });
    expect((options as { extra?: { Client?: unknown } }).extra?.Client).toBe(CallbackQueryClient);
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
