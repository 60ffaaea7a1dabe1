import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { DataSource } from "typeorm";
import { compileLogFilter, matchesLogFilter, MAX_LOG_FILTER_DEPTH, parseLogFilter } from "../../../src/log/filter";
import { EQUIVALENCE_FILTERS, LOG_EVENT_FIXTURES, logEventRow, logEventTargetRows } from "./filter-fixtures";

/**
 * The SQLite equivalence table of filter.test.ts, run on PostgreSQL. Opt-in through
 * DATABASE_URL=postgres://...; works in its own schemas, dropped afterwards.
 *
 * It runs twice: with the database's default collation and debugContext as jsonb, and with
 * text columns in a linguistic ICU collation (where ordering and lower() differ from SQLite)
 * and debugContext as JSON text, to show that the compiled SQL depends on neither.
 */
const databaseUrl = process.env.DATABASE_URL ?? "";
const describeOnPostgres = databaseUrl.startsWith("postgres") ? describe : describe.skip;

/** TypeORM-style `:name` placeholders to pg's positional `$n`, as TypeORM itself does. */
function toPositional(where: string, parameters: Record<string, unknown>): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const positions = new Map<string, number>();
  const text = where.replace(/:([A-Za-z0-9_]+)/g, (placeholder, name: string) => {
    if (!Object.hasOwn(parameters, name)) return placeholder;
    let position = positions.get(name);
    if (position === undefined) {
      values.push(parameters[name]);
      position = values.length;
      positions.set(name, position);
    }
    return `$${position}`;
  });
  return { text, values };
}

const LINGUISTIC_COLLATION = "und-x-icu";

describeOnPostgres.each([
  { columnCollation: undefined, debugContextType: "jsonb", label: "default collation, jsonb" },
  { columnCollation: LINGUISTIC_COLLATION, debugContextType: "text", label: `${LINGUISTIC_COLLATION} columns, JSON text` },
])("PostgreSQL ($label): compiled SQL selects exactly the events matchesLogFilter accepts", ({ columnCollation, debugContextType }) => {
  const schema = `log_filter_test_${randomBytes(6).toString("hex")}`;
  const client = new Client({ connectionString: databaseUrl });

  beforeAll(async () => {
    await client.connect();
    const { rowCount: collationAvailable } = await client.query("SELECT 1 FROM pg_collation WHERE collname = $1", [
      columnCollation ?? "default",
    ]);
    if (columnCollation && !collationAvailable) console.warn(`No ${columnCollation} (PostgreSQL without ICU): default collation used`);
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    const text = columnCollation && collationAvailable ? `text COLLATE "${columnCollation}"` : "text";
    await client.query(`
      CREATE TABLE log_events (
        uuid ${text} PRIMARY KEY,
        published bigint NOT NULL,
        event_type ${text} NOT NULL,
        severity ${text} NOT NULL,
        display_message ${text} NOT NULL,
        actor_id ${text} NOT NULL,
        actor_type ${text} NOT NULL,
        actor_alternate_id ${text},
        actor_display_name ${text},
        outcome_result ${text} NOT NULL,
        outcome_reason ${text},
        client_ip ${text},
        client_user_agent ${text},
        transaction_id ${text},
        debug_context ${debugContextType}
      );
      CREATE TABLE log_event_targets (
        event_uuid ${text} NOT NULL REFERENCES log_events (uuid),
        position integer NOT NULL,
        id ${text},
        type ${text},
        alternate_id ${text},
        display_name ${text},
        PRIMARY KEY (event_uuid, position)
      );
    `);
    for (const event of LOG_EVENT_FIXTURES) {
      const row = logEventRow(event);
      const columns = Object.keys(row);
      await client.query(
        `INSERT INTO log_events (${columns.join(", ")}) VALUES (${columns.map((_, index) => `$${index + 1}`).join(", ")})`,
        Object.values(row),
      );
      for (const target of logEventTargetRows(event)) {
        await client.query("INSERT INTO log_event_targets VALUES ($1, $2, $3, $4, $5, $6)", Object.values(target));
      }
    }
  });

  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  const selectUuids = async (filter: string): Promise<string[]> => {
    const { where, parameters } = compileLogFilter(parseLogFilter(filter), { dialect: "postgres", alias: "e" });
    const { text, values } = toPositional(where, parameters);
    const result = await client.query<{ uuid: string }>(
      `SELECT e.uuid FROM log_events e WHERE ${text} ORDER BY e.uuid COLLATE "C"`,
      values,
    );
    return result.rows.map((row) => row.uuid);
  };

  const matchingUuids = (filter: string): string[] => {
    const node = parseLogFilter(filter);
    return LOG_EVENT_FIXTURES.filter((event) => matchesLogFilter(node, event))
      .map((event) => event.uuid)
      .sort();
  };

  it.each(EQUIVALENCE_FILTERS)("%s", async (filter) => {
    expect(await selectUuids(filter)).toEqual(matchingUuids(filter));
  });

  it("runs the deepest and longest filters the parser accepts", async () => {
    const deepestGroups = Array.from({ length: MAX_LOG_FILTER_DEPTH }).reduce<string>(
      (inner, _, level) => `(target.id eq "L${level}" ${level % 2 ? "and" : "or"} ${inner})`,
      "debugContext.count ge 0",
    );
    const deepestNegations = Array.from({ length: MAX_LOG_FILTER_DEPTH / 2 }).reduce<string>(
      (inner, _, level) => `not (severity eq "L${level}" ${level % 2 ? "and" : "or"} ${inner})`,
      'debugContext.msg co "a"',
    );
    const longestChain = Array.from({ length: 95 }, (_, index) => `target.id eq "${index % 10}"`).join(" or ");
    for (const filter of [deepestGroups, deepestNegations, longestChain]) {
      expect(await selectUuids(filter)).toEqual(matchingUuids(filter));
    }
  });

  it("works as a TypeORM QueryBuilder where-fragment alongside other named parameters", async () => {
    const dataSource = new DataSource({
      type: "postgres",
      url: databaseUrl,
      extra: { options: `-c search_path=${schema}` },
    });
    await dataSource.initialize();
    try {
      const filter = parseLogFilter('(displayMessage co "50%" or target.type eq "PhoneNumber") and debugContext.count ge 3');
      const compiled = compileLogFilter(filter, { dialect: "postgres", alias: "e" });
      const rows = await dataSource
        .createQueryBuilder()
        .select("e.uuid", "uuid")
        .from("log_events", "e")
        .where("e.event_type = :eventType", { eventType: "system.sms.send" })
        .andWhere(compiled.where, compiled.parameters)
        .orderBy('e.uuid COLLATE "C"')
        .getRawMany<{ uuid: string }>();
      const expected = LOG_EVENT_FIXTURES.filter((event) => event.eventType === "system.sms.send" && matchesLogFilter(filter, event)).map(
        (event) => event.uuid,
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(rows.map((row) => row.uuid)).toEqual(expected);
    } finally {
      await dataSource.destroy();
    }
  });
});
