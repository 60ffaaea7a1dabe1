import Database from "better-sqlite3";
import { DataSource } from "typeorm";
import { AppError, ErrorCode } from "../../../src/platform/errors";
import {
  compileLogFilter,
  type FilterNode,
  type LogEventShape,
  matchesLogFilter,
  MAX_LOG_FILTER_DEPTH,
  MAX_LOG_FILTER_LENGTH,
  parseLogFilter,
} from "../../../src/log/filter";
import { EQUIVALENCE_FILTERS, LOG_EVENT_FIXTURES, logEventRow, logEventTargetRows } from "./filter-fixtures";

const eq = (path: string, value: string | number | boolean | null): FilterNode =>
  ({ kind: "compare", path, op: "eq", value }) as FilterNode;

function filterErrorOf(text: string): { position: unknown; reason: unknown; message: string } {
  try {
    parseLogFilter(text);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.code).toBe(ErrorCode.BAD_FILTER);
    return { position: appError.extensions.position, reason: appError.extensions.reason, message: appError.message };
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("parseLogFilter", () => {
  it.each<[string, FilterNode]>([
    ['eventType eq "user.session.start"', eq("eventType", "user.session.start")],
    ['  severity   NE   "INFO"  ', { kind: "compare", path: "severity", op: "ne", value: "INFO" }],
    ['displayMessage co "sms"', { kind: "compare", path: "displayMessage", op: "co", value: "sms" }],
    ['outcome.reason sw "RATE"', { kind: "compare", path: "outcome.reason", op: "sw", value: "RATE" }],
    ['actor.alternateId ew "@example.com"', { kind: "compare", path: "actor.alternateId", op: "ew", value: "@example.com" }],
    ['actor.displayName gt "m"', { kind: "compare", path: "actor.displayName", op: "gt", value: "m" }],
    ['target.id ge "a"', { kind: "compare", path: "target.id", op: "ge", value: "a" }],
    ['target.type lt "b"', { kind: "compare", path: "target.type", op: "lt", value: "b" }],
    ['client.ipAddress le "z"', { kind: "compare", path: "client.ipAddress", op: "le", value: "z" }],
    ["transactionId pr", { kind: "present", path: "transactionId" }],
    ["client.userAgent PR", { kind: "present", path: "client.userAgent" }],
    ["debugContext.count gt 3", { kind: "compare", path: "debugContext.count", op: "gt", value: 3 }],
    ["debugContext.ratio le -0.25", { kind: "compare", path: "debugContext.ratio", op: "le", value: -0.25 }],
    ["debugContext.big eq 1e21", eq("debugContext.big", 1e21)],
    ["debugContext.flag eq true", eq("debugContext.flag", true)],
    ["debugContext.flag ne FALSE", { kind: "compare", path: "debugContext.flag", op: "ne", value: false }],
    ["debugContext.errorCode eq null", eq("debugContext.errorCode", null)],
    ["debugContext.1_a pr", { kind: "present", path: "debugContext.1_a" }],
    ['published gt "2024-01-31T12:00:00Z"', { kind: "compare", path: "published", op: "gt", value: Date.UTC(2024, 0, 31, 12) }],
    ['published ge "2024-01-31"', { kind: "compare", path: "published", op: "ge", value: Date.UTC(2024, 0, 31) }],
    [
      'published lt "2024-01-31T12:00:00.5+02:00"',
      { kind: "compare", path: "published", op: "lt", value: Date.UTC(2024, 0, 31, 10, 0, 0, 500) },
    ],
    [
      'published le "2024-02-29T23:59:59.999999-05:30"',
      { kind: "compare", path: "published", op: "le", value: Date.UTC(2024, 2, 1, 5, 29, 59, 999) },
    ],
    ["published eq null", eq("published", null)],
    // Events are stamped to the millisecond: a bound between two is met as the instant it names would be.
    [
      'published ge "2024-01-31T12:00:00.1235Z"',
      { kind: "compare", path: "published", op: "gt", value: Date.UTC(2024, 0, 31, 12, 0, 0, 123) },
    ],
    [
      'published lt "2024-01-31T12:00:00.1235Z"',
      { kind: "compare", path: "published", op: "le", value: Date.UTC(2024, 0, 31, 12, 0, 0, 123) },
    ],
    [
      'published ge "2024-01-31T12:00:00.123000Z"',
      { kind: "compare", path: "published", op: "ge", value: Date.UTC(2024, 0, 31, 12, 0, 0, 123) },
    ],
    ['EventType EQ "x"', eq("eventType", "x")],
    ['DEBUGCONTEXT.Key eq "x"', eq("debugContext.Key", "x")],
    ['eventType eq "a" and severity eq "b"', { kind: "and", left: eq("eventType", "a"), right: eq("severity", "b") }],
    ['eventType eq "a" OR severity eq "b"', { kind: "or", left: eq("eventType", "a"), right: eq("severity", "b") }],
    ['not eventType eq "a"', { kind: "not", operand: eq("eventType", "a") }],
    ['NOT(eventType eq "a")', { kind: "not", operand: eq("eventType", "a") }],
    ['not not uuid eq "u"', { kind: "not", operand: { kind: "not", operand: eq("uuid", "u") } }],
    ['((eventType eq "a"))', eq("eventType", "a")],
    ['(eventType eq "a")and(severity eq "b")', { kind: "and", left: eq("eventType", "a"), right: eq("severity", "b") }],
    ['eventType eq"a"', eq("eventType", "a")],
  ])("%s", (text, expected) => {
    expect(parseLogFilter(text)).toEqual(expected);
  });

  describe("precedence: not > and > or, and/or left-associative", () => {
    const a = eq("eventType", "a");
    const b = eq("eventType", "b");
    const c = eq("eventType", "c");
    it.each<[string, FilterNode]>([
      ['eventType eq "a" or eventType eq "b" and eventType eq "c"', { kind: "or", left: a, right: { kind: "and", left: b, right: c } }],
      ['eventType eq "a" and eventType eq "b" or eventType eq "c"', { kind: "or", left: { kind: "and", left: a, right: b }, right: c }],
      ['(eventType eq "a" or eventType eq "b") and eventType eq "c"', { kind: "and", left: { kind: "or", left: a, right: b }, right: c }],
      ['not eventType eq "a" and eventType eq "b"', { kind: "and", left: { kind: "not", operand: a }, right: b }],
      ['not (eventType eq "a" and eventType eq "b")', { kind: "not", operand: { kind: "and", left: a, right: b } }],
      ['eventType eq "a" or eventType eq "b" or eventType eq "c"', { kind: "or", left: { kind: "or", left: a, right: b }, right: c }],
      ['eventType eq "a" and eventType eq "b" and eventType eq "c"', { kind: "and", left: { kind: "and", left: a, right: b }, right: c }],
    ])("%s", (text, expected) => {
      expect(parseLogFilter(text)).toEqual(expected);
    });
  });

  describe("string escapes", () => {
    it.each([
      ['"say \\"hi\\""', 'say "hi"'],
      ['"back\\\\slash"', "back\\slash"],
      ['"line\\nbreak\\ttab\\rret"', "line\nbreak\ttab\rret"],
      ['"\\u00e9\\u00C9"', "éÉ"],
      ['"\\ud83d\\ude00"', "😀"],
      ['"a\\/b\\bc\\fd"', "a/b\bc\fd"],
      ['"50%_*?["', "50%_*?["],
      ['"and or not eq ( )"', "and or not eq ( )"],
      ['""', ""],
    ])("%s", (literal, expected) => {
      expect(parseLogFilter(`displayMessage eq ${literal}`)).toEqual(eq("displayMessage", expected));
    });
  });

  describe("rejects invalid filters with BAD_FILTER at the offending position", () => {
    it.each<[string, number, string | RegExp]>([
      ["eventType eq", 12, 'expected string, number, "true", "false", or "null" but found end of input'],
      ['eventType xx "a"', 10, 'expected "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", or "pr" but found "xx"'],
      ['eventType eqx "a"', 10, /expected "eq".*but found "eqx"/],
      ['eventType eq "abc', 13, "unterminated string literal"],
      ['eventType eq "a\\q"', 16, 'expected escape sequence but found "q"'],
      ['eventType eq "\\u12G4"', 18, 'expected hex digit but found "G4"'],
      ['foo eq "a"', 0, 'unknown attribute "foo"'],
      ['eventType eq "a" and actor.email eq "b"', 21, 'unknown attribute "actor.email"'],
      ["debugContext.a.b pr", 0, 'unknown attribute "debugContext.a.b"'],
      ["debugContext. pr", 12, /^expected/],
      ['(eventType eq "a"', 17, 'expected "and", "or", or ")" but found end of input'],
      ['eventType eq "a")', 16, 'expected "and", "or", or end of input but found ")"'],
      ['eventType eq "a" severity eq "b"', 17, 'expected "and", "or", or end of input but found "severity"'],
      ['eventType eq "a" and', 20, 'expected "not", "(", or attribute but found end of input'],
      ["not", 3, 'expected "not", "(", or attribute but found end of input'],
      ["()", 1, /^expected "not", "\(", or attribute/],
      ['eventType eq "a" andseverity eq "b"', 17, /found "andseverity"/],
      ["severity eq 3", 12, "severity must be compared with a string"],
      ["severity eq true", 12, "severity must be compared with a string"],
      ["severity gt null", 12, "null can only be compared with eq or ne"],
      ["debugContext.flag gt true", 21, "true and false can only be compared with eq or ne"],
      ["debugContext.count co 3", 22, "co must be used with a string"],
      ['published co "2024"', 10, "co is not supported on published"],
      ['published gt "2024-02-30"', 13, 'invalid ISO-8601 timestamp "2024-02-30"'],
      ['published gt "2024-01-31T12:00:00"', 13, /invalid ISO-8601 timestamp/],
      ['published gt "yesterday"', 13, /invalid ISO-8601 timestamp/],
      ["published gt 1706702400000", 13, "published must be compared with an ISO-8601 timestamp string"],
      ['published eq "2024-01-31T12:00:00.1235Z"', 13, "published is kept to the millisecond: eq and ne take at most 3 fractional digits"],
      [
        'published ne "2024-01-31T12:00:00.0000001Z"',
        13,
        "published is kept to the millisecond: eq and ne take at most 3 fractional digits",
      ],
      ["debugContext.x eq 1e999", 18, "number out of range"],
      ["debugContext.x eq -", 18, /^expected string, number/],
      ["", 0, "empty filter"],
      ["   ", 0, "empty filter"],
    ])("%s", (text, position, reason) => {
      const error = filterErrorOf(text);
      expect(error.position).toBe(position);
      if (typeof reason === "string") expect(error.reason).toBe(reason);
      else expect(error.reason).toMatch(reason);
      expect(error.message).toContain(`position ${position}`);
    });

    it("lists the allowed attributes when an attribute is unknown", () => {
      const { message } = filterErrorOf('foo eq "a"');
      expect(message).toContain('unknown attribute "foo"');
      expect(message).toContain("eventType, severity, displayMessage");
      expect(message).toContain("debugContext.<key>");
    });
  });

  describe("limits", () => {
    const nested = (depth: number): string => `${"(".repeat(depth)}uuid pr${")".repeat(depth)}`;

    it(`accepts ${MAX_LOG_FILTER_DEPTH} levels of nesting and rejects one more at the opening token`, () => {
      expect(parseLogFilter(nested(MAX_LOG_FILTER_DEPTH))).toEqual({ kind: "present", path: "uuid" });
      expect(filterErrorOf(nested(MAX_LOG_FILTER_DEPTH + 1))).toMatchObject({
        position: MAX_LOG_FILTER_DEPTH,
        reason: `nesting deeper than ${MAX_LOG_FILTER_DEPTH} levels`,
      });
    });

    it("counts not as a nesting level", () => {
      expect(() => parseLogFilter(`${"not ".repeat(16)}${nested(16)}`)).not.toThrow();
      expect(filterErrorOf(`${"not ".repeat(17)}${nested(16)}`).reason).toMatch(/nesting deeper/);
    });

    it("does not count sibling groups as nesting", () => {
      const siblings = Array.from({ length: 60 }, () => "(uuid pr)").join(" and ");
      expect(() => parseLogFilter(siblings)).not.toThrow();
    });

    it("rejects hostile nesting without overflowing the stack", () => {
      expect(filterErrorOf(nested(996)).reason).toMatch(/nesting deeper/);
      expect(filterErrorOf("(".repeat(MAX_LOG_FILTER_LENGTH)).reason).toMatch(/nesting deeper/);
      expect(filterErrorOf("not ".repeat(498) + "uuid pr").reason).toMatch(/nesting deeper/);
    });

    it("rejects the escape of U+0000, which no stored text can hold, where the escape is", () => {
      expect(filterErrorOf(String.raw`displayMessage co "abc\u0000"`)).toMatchObject({ position: 23, reason: expect.stringMatching(/NUL/) });
      expect(() => parseLogFilter(String.raw`displayMessage co "abc\u0001"`)).not.toThrow();
    });

    it(`rejects filters longer than ${MAX_LOG_FILTER_LENGTH} characters`, () => {
      const padded = `uuid pr${" ".repeat(MAX_LOG_FILTER_LENGTH - 7)}`;
      expect(() => parseLogFilter(padded)).not.toThrow();
      expect(filterErrorOf(`${padded} `)).toMatchObject({
        position: MAX_LOG_FILTER_LENGTH,
        reason: `filter longer than ${MAX_LOG_FILTER_LENGTH} characters`,
      });
    });
  });
});

describe("compileLogFilter", () => {
  it("emits only named parameters, never literal values", () => {
    const hostile = `x' OR 1=1; DROP TABLE log_events; --`;
    const node = parseLogFilter(
      `eventType eq ${JSON.stringify(hostile)} or displayMessage co ${JSON.stringify(hostile)} or ` +
        `target.id sw ${JSON.stringify(hostile)} or debugContext.k ew ${JSON.stringify(hostile)}`,
    );
    for (const dialect of ["sqlite", "postgres"] as const) {
      const { where, parameters } = compileLogFilter(node, { dialect, alias: "e" });
      expect(where).not.toContain("DROP");
      expect(where).not.toContain("1=1");
      expect(Object.keys(parameters)).toEqual(["f0", "f1", "f2", "f3"]);
      expect(where.match(/:f\d+/g)).toEqual([":f0", ":f1", ":f2", ":f3"]);
    }
  });

  it("compiles the documented shapes", () => {
    const node = parseLogFilter('eventType eq "a" and not (target.type ne "User" or debugContext.count gt 3) and displayMessage co "50%"');
    expect(compileLogFilter(node, { dialect: "sqlite", alias: "ev", paramPrefix: "q" })).toEqual({
      where:
        "(ev.event_type = :q0 AND NOT ((EXISTS (SELECT 1 FROM log_event_targets t_0 WHERE t_0.event_uuid = ev.uuid " +
        "AND NOT (t_0.type = :q1)) OR COALESCE(CASE WHEN json_type(ev.debug_context, " +
        "'$.\"count\"') IN ('integer', 'real') THEN CAST(json_extract(ev.debug_context, '$.\"count\"') AS REAL) END " +
        "> :q2, FALSE))) AND lower(ev.display_message) LIKE :q3 ESCAPE '\\')",
      parameters: { q0: "a", q1: "User", q2: 3, q3: "%50\\%%" },
    });
    expect(compileLogFilter(node, { dialect: "postgres", alias: "ev" })).toEqual({
      where:
        "(ev.event_type = :f0 AND NOT ((EXISTS (SELECT 1 FROM log_event_targets t_0 WHERE t_0.event_uuid = ev.uuid " +
        "AND NOT (t_0.type = :f1)) OR COALESCE(CASE WHEN jsonb_typeof(CAST(ev.debug_context AS jsonb) -> 'count') " +
        "IN ('number') THEN CAST(CAST(ev.debug_context AS jsonb) ->> 'count' AS double precision) END > :f2, FALSE))) " +
        "AND lower(ev.display_message COLLATE \"C\") LIKE :f3 ESCAPE '\\')",
      parameters: { f0: "a", f1: "User", f2: 3, f3: "%50\\%%" },
    });
  });

  it("escapes LIKE and GLOB metacharacters and lowercases case-insensitive literals", () => {
    const sqlite = compileLogFilter(parseLogFilter('displayMessage sw "A_b%\\\\" and eventType ew "*?[x]"'), {
      dialect: "sqlite",
      alias: "e",
    });
    expect(sqlite.parameters).toEqual({ f0: "a\\_b\\%\\\\%", f1: "*[*][?][[]x]" });
    const postgres = compileLogFilter(parseLogFilter('eventType ew "*?[x]_%"'), { dialect: "postgres", alias: "e" });
    expect(postgres.parameters).toEqual({ f0: "%*?[x]\\_\\%" });
  });

  it("rejects aliases and prefixes that are not plain identifiers", () => {
    const node = parseLogFilter("uuid pr");
    expect(() => compileLogFilter(node, { dialect: "sqlite", alias: "e; DROP" })).toThrow(/alias/);
    expect(() => compileLogFilter(node, { dialect: "sqlite", alias: "e", paramPrefix: "f-" })).toThrow(/prefix/);
    expect(() => compileLogFilter(node, { dialect: "sqlite", alias: "e", paramPrefix: "f1" })).toThrow(/prefix/);
  });

  it("refuses hand-built ASTs that parseLogFilter would reject", () => {
    expect(() => compileLogFilter(eq("severity", 3), { dialect: "sqlite", alias: "e" })).toThrow(/Invalid log filter AST/);
    expect(() => matchesLogFilter(eq("nope" as "uuid", "x"), LOG_EVENT_FIXTURES[0])).toThrow(/unknown attribute/);
  });
});

describe("matchesLogFilter", () => {
  const base: LogEventShape = {
    uuid: "e1",
    published: new Date("2024-03-01T10:00:00.000Z"),
    eventType: "user.session.start",
    severity: "INFO",
    displayMessage: "User Login 50%_off",
    actor: { id: "00u1", type: "User", alternateId: "Alice@Example.com", displayName: null },
    target: [
      { id: "00u1", type: "User", alternateId: null },
      { id: "ph1", type: "PhoneNumber", displayName: "Mobile" },
    ],
    outcome: { result: "SUCCESS" },
    client: { ipAddress: "10.0.0.1" },
    debugContext: { count: 3, text: "3", flag: true, none: null, nested: { a: 1 }, when: new Date(0), skip: undefined },
  };

  it.each<[string, boolean]>([
    ['eventType eq "user.session.start"', true],
    ['eventType eq "USER.SESSION.START"', false],
    ['eventType co "Session"', false],
    ['displayMessage eq "user login 50%_off"', true],
    ['displayMessage co "50%_"', true],
    ['displayMessage co "50%x"', false],
    ['displayMessage sw "USER"', true],
    ['displayMessage ew "OFF"', true],
    ['displayMessage gt "user"', true],
    ['actor.alternateId eq "alice@example.com"', true],
    ["actor.displayName pr", false],
    ['actor.displayName ne "x"', true],
    ['actor.displayName eq "x"', false],
    ["actor.displayName eq null", true],
    ['not (actor.displayName eq "x")', true],
    ["outcome.reason pr", false],
    ['outcome.reason ne "x"', true],
    ["client.userAgent eq null", true],
    ['client.ipAddress eq "10.0.0.1"', true],
    ['target.type eq "PhoneNumber"', true],
    ['target.type ne "User"', true],
    ['not (target.type eq "User")', false],
    ["target.alternateId pr", false],
    ["target.alternateId eq null", true],
    ['target.displayName eq "mobile"', true],
    ['target.id eq "ph1" and target.type eq "User"', true],
    ['published eq "2024-03-01T10:00:00Z"', true],
    ['published eq "2024-03-01T11:00:00+01:00"', true],
    ['published gt "2024-03-01T10:00:00Z"', false],
    ['published ge "2024-03-01"', true],
    ["debugContext.count eq 3", true],
    ["debugContext.count eq 3.0", true],
    ['debugContext.count eq "3"', false],
    ['debugContext.text eq "3"', true],
    ["debugContext.text eq 3", false],
    ["debugContext.count ge 2.5 and debugContext.count lt 4", true],
    ["debugContext.count ne 3", false],
    ["debugContext.text ne 3", true],
    ["debugContext.flag eq true", true],
    ['debugContext.flag eq "true"', false],
    ["debugContext.none pr", false],
    ["debugContext.none eq null", true],
    ["debugContext.missing eq null", true],
    ["debugContext.missing ne 1", true],
    ["debugContext.skip pr", false],
    ["debugContext.nested pr", true],
    ['debugContext.nested eq "x"', false],
    ['debugContext.when eq "1970-01-01T00:00:00.000Z"', true],
    ["debugContext.COUNT pr", false],
  ])("%s → %s", (text, expected) => {
    expect(matchesLogFilter(parseLogFilter(text), base)).toBe(expected);
  });

  it("matches no target.* comparison on an event without targets", () => {
    const noTargets = { ...base, target: [] };
    expect(matchesLogFilter(parseLogFilter('target.type ne "User"'), noTargets)).toBe(false);
    expect(matchesLogFilter(parseLogFilter("target.id eq null"), noTargets)).toBe(false);
    expect(matchesLogFilter(parseLogFilter('not (target.type eq "User")'), noTargets)).toBe(true);
  });

  it("treats a missing or null debugContext as all keys absent", () => {
    for (const debugContext of [null, undefined]) {
      const event = { ...base, debugContext };
      expect(matchesLogFilter(parseLogFilter("debugContext.count pr"), event)).toBe(false);
      expect(matchesLogFilter(parseLogFilter("debugContext.count ne 3"), event)).toBe(true);
    }
  });

  it("orders strings by code point, as UTF-8 byte comparison does", () => {
    const event = (displayMessage: string): LogEventShape => ({ ...base, displayMessage });
    // UTF-16 code units would put U+FF5E (fullwidth tilde) after the emoji U+1F600.
    expect(matchesLogFilter(parseLogFilter('displayMessage gt "\\uFF5E"'), event("😀"))).toBe(true);
    expect(matchesLogFilter(parseLogFilter('displayMessage lt "😀"'), event("\uFF5E"))).toBe(true);
  });
});

describe("SQLite: compiled SQL selects exactly the events matchesLogFilter accepts", () => {
  let db: Database.Database;

  beforeAll(() => {
    db = new Database(":memory:");
    db.exec(`
      CREATE TABLE log_events (
        uuid TEXT PRIMARY KEY,
        published BIGINT NOT NULL,
        event_type TEXT NOT NULL,
        severity TEXT NOT NULL,
        display_message TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_type TEXT NOT NULL,
        actor_alternate_id TEXT,
        actor_display_name TEXT,
        outcome_result TEXT NOT NULL,
        outcome_reason TEXT,
        client_ip TEXT,
        client_user_agent TEXT,
        transaction_id TEXT,
        debug_context TEXT
      );
      CREATE TABLE log_event_targets (
        event_uuid TEXT NOT NULL REFERENCES log_events (uuid),
        position INTEGER NOT NULL,
        id TEXT,
        type TEXT,
        alternate_id TEXT,
        display_name TEXT,
        PRIMARY KEY (event_uuid, position)
      );
    `);
    const insertEvent = db.prepare(
      `INSERT INTO log_events VALUES (@uuid, @published, @event_type, @severity, @display_message, @actor_id,
        @actor_type, @actor_alternate_id, @actor_display_name, @outcome_result, @outcome_reason, @client_ip,
        @client_user_agent, @transaction_id, @debug_context)`,
    );
    const insertTarget = db.prepare(
      "INSERT INTO log_event_targets VALUES (@event_uuid, @position, @id, @type, @alternate_id, @display_name)",
    );
    db.transaction(() => {
      for (const event of LOG_EVENT_FIXTURES) {
        insertEvent.run(logEventRow(event));
        for (const target of logEventTargetRows(event)) insertTarget.run(target);
      }
    })();
  });

  afterAll(() => db.close());

  const selectUuids = (filter: string): string[] => {
    const { where, parameters } = compileLogFilter(parseLogFilter(filter), { dialect: "sqlite", alias: "e" });
    const rows = db.prepare(`SELECT e.uuid FROM log_events e WHERE ${where} ORDER BY e.uuid`).all(parameters);
    return (rows as { uuid: string }[]).map((row) => row.uuid);
  };

  const matchingUuids = (filter: string): string[] => {
    const node = parseLogFilter(filter);
    return LOG_EVENT_FIXTURES.filter((event) => matchesLogFilter(node, event))
      .map((event) => event.uuid)
      .sort();
  };

  it.each(EQUIVALENCE_FILTERS)("%s", (filter) => {
    expect(selectUuids(filter)).toEqual(matchingUuids(filter));
  });

  it("uses filters that actually discriminate between the events", () => {
    const discriminating = EQUIVALENCE_FILTERS.filter((filter) => {
      const count = matchingUuids(filter).length;
      return count > 0 && count < LOG_EVENT_FIXTURES.length;
    });
    expect(EQUIVALENCE_FILTERS.filter((filter) => !discriminating.includes(filter))).toEqual([]);
  });

  it("runs the deepest and longest filters the parser accepts", () => {
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
      expect(filter.length).toBeLessThanOrEqual(MAX_LOG_FILTER_LENGTH);
      expect(selectUuids(filter)).toEqual(matchingUuids(filter));
    }
  });

  it("works as a TypeORM QueryBuilder where-fragment alongside other named parameters", async () => {
    const dataSource = new DataSource({ type: "better-sqlite3", database: ":memory:" });
    await dataSource.initialize();
    try {
      await dataSource.query(
        "CREATE TABLE log_events (uuid TEXT PRIMARY KEY, severity TEXT NOT NULL, display_message TEXT NOT NULL, debug_context TEXT)",
      );
      await dataSource.query("CREATE TABLE log_event_targets (event_uuid TEXT, position INTEGER, id TEXT, type TEXT)");
      await dataSource.query(
        `INSERT INTO log_events VALUES ('a', 'INFO', 'SMS 50% sent', '{"n":1}'), ('b', 'WARN', 'sms 50x', NULL), ('c', 'INFO', 'other', '{"n":2}')`,
      );
      await dataSource.query(`INSERT INTO log_event_targets VALUES ('a', 0, 'ph1', 'PhoneNumber'), ('c', 0, 'u1', 'User')`);

      const compiled = compileLogFilter(parseLogFilter('(displayMessage co "50%" or target.type eq "User") and debugContext.n ge 1'), {
        dialect: "sqlite",
        alias: "e",
      });
      const rows = await dataSource
        .createQueryBuilder()
        .select("e.uuid", "uuid")
        .from("log_events", "e")
        .where("e.severity = :severity", { severity: "INFO" })
        .andWhere(compiled.where, compiled.parameters)
        .orderBy("e.uuid")
        .getRawMany<{ uuid: string }>();
      expect(rows.map((row) => row.uuid)).toEqual(["a", "c"]);
    } finally {
      await dataSource.destroy();
    }
  });
});
