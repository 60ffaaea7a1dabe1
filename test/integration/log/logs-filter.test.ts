import { LogsDocument } from "../../../src/generated/graphql";
import { matchesLogFilter, parseLogFilter, type LogEventShape } from "../../../src/log/filter";
import { engine, startTestGateway, type TestGateway } from "../../support/gateway";
import { insertEvents } from "../../support/log";
import { EQUIVALENCE_FILTERS, LOG_EVENT_FIXTURES } from "../../unit/log/filter-fixtures";

/**
 * The filter language end to end: every expression of the SQL/memory equivalence table, sent
 * through the `logs` query, selects exactly the events matchesLogFilter accepts (the matcher
 * live subscriptions use), on SQLite, or on PostgreSQL when DATABASE_URL names one.
 */
const SINCE = "2023-12-01T00:00:00.000Z";
const UNTIL = "2025-01-01T00:00:00.000Z";

const byPublishedThenUuid = (a: LogEventShape, b: LogEventShape) =>
  a.published.getTime() - b.published.getTime() || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

/** Beyond the shared table: `target.id eq` as a required conjunct, which SQLite answers through a join. */
const TARGET_FILTERS = [
  'target.id eq "00u1"',
  'target.id eq "ph3" and not (severity eq "WARN")',
  'severity eq "INFO" and (target.id eq "00u2" and target.type eq "User")',
  'target.id eq "00u1" and target.id eq "00u2"',
  'target.id eq "nobody"',
  'not (target.id eq "00u1")',
  'target.id eq "00u1" or target.id eq "ph1"',
];

describe(`logs(filter) on ${engine}`, () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await insertEvents(gateway, LOG_EVENT_FIXTURES);
  });
  afterAll(() => gateway.stop());

  test.each([...EQUIVALENCE_FILTERS, ...TARGET_FILTERS].map((filter) => [filter]))("%s", async (filter) => {
    const { logs } = await gateway.admin.ok(LogsDocument, { filter, since: SINCE, until: UNTIL, first: 1000 });
    const node = parseLogFilter(filter);
    const expected = LOG_EVENT_FIXTURES.filter((event) => matchesLogFilter(node, event))
      .sort(byPublishedThenUuid)
      .map((event) => event.uuid);
    expect(logs.edges.map((edge) => edge.node.uuid)).toEqual(expected);
    expect(logs.pageInfo.hasNextPage).toBe(false);
  });

  test.each<[string, number, string | RegExp]>([
    ["eventType eq", 12, /^expected string, number/],
    ['eventType xx "a"', 10, /^expected "eq"/],
    ['eventType eq "abc', 13, "unterminated string literal"],
    ['foo eq "a"', 0, 'unknown attribute "foo"'],
    ['eventType eq "a" and actor.email eq "b"', 21, 'unknown attribute "actor.email"'],
    ['(eventType eq "a"', 17, /^expected "and", "or", or "\)"/],
    ["severity eq 3", 12, "severity must be compared with a string"],
    ["debugContext.count co 3", 22, "co must be used with a string"],
    ['published gt "2024-02-30"', 13, 'invalid ISO-8601 timestamp "2024-02-30"'],
    ["published gt 1706702400000", 13, "published must be compared with an ISO-8601 timestamp string"],
    ["not", 3, /^expected "not", "\(", or attribute/],
  ])("%s is BAD_FILTER at position %i", async (filter, position, reason) => {
    const error = await gateway.admin.fails(LogsDocument, { filter, since: SINCE, until: UNTIL });
    expect(error.code).toBe("BAD_FILTER");
    expect(error.extensions?.position).toBe(position);
    if (typeof reason === "string") expect(error.extensions?.reason).toBe(reason);
    else expect(error.extensions?.reason).toMatch(reason);
  });

  test("an empty or blank filter is no filter", async () => {
    for (const filter of ["", "   "]) {
      const { logs } = await gateway.admin.ok(LogsDocument, { filter, since: SINCE, until: UNTIL, first: 1000 });
      expect(logs.edges).toHaveLength(LOG_EVENT_FIXTURES.length);
    }
  });
});
