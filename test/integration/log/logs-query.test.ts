import { LogsDocument, type LogsQueryVariables } from "../../../src/generated/graphql";
import { In } from "typeorm";
import type { LogEventShape } from "../../../src/log/filter";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { ownStatements, startTestGateway, type TestGateway } from "../../support/gateway";
import { eventAt, insertEvents, recordMarker } from "../../support/log";

const SECOND = 1000;
const DAY = 86_400_000;

const key = (event: Pick<LogEventShape, "published" | "uuid">) => [event.published.getTime(), event.uuid] as const;
const compareKeys = (a: Pick<LogEventShape, "published" | "uuid">, b: Pick<LogEventShape, "published" | "uuid">) => {
  const [aAt, aUuid] = key(a);
  const [bAt, bUuid] = key(b);
  return aAt - bAt || (aUuid < bUuid ? -1 : aUuid > bUuid ? 1 : 0);
};
const uuids = (events: readonly Pick<LogEventShape, "uuid">[]) => events.map((event) => event.uuid);

describe("logs: pages, order, time bounds and keywords", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  /** Every page of a query, following endCursor; the pages' sizes too. */
  async function allPages(variables: LogsQueryVariables) {
    const nodes: { uuid: string; published: string }[] = [];
    const sizes: number[] = [];
    let after: string | null | undefined = variables.after;
    for (;;) {
      const { logs } = await gateway.admin.ok(LogsDocument, { ...variables, after });
      nodes.push(...logs.edges.map((edge) => edge.node));
      sizes.push(logs.edges.length);
      if (!logs.pageInfo.hasNextPage) return { nodes, sizes };
      expect(logs.pageInfo.endCursor).toBe(logs.edges.at(-1)?.cursor);
      after = logs.pageInfo.endCursor;
    }
  }

  describe("keyset pages", () => {
    const start = new Date("2030-01-01T00:00:00.000Z");
    const window = { since: "2029-12-31T00:00:00.000Z", until: "2030-01-02T00:00:00.000Z" };
    // Three events per second: ties on published are broken by uuid.
    const events = Array.from({ length: 25 }, (_, index) => eventAt(new Date(start.getTime() + Math.floor(index / 3) * SECOND)));
    beforeAll(() => insertEvents(gateway, events));

    test("ASCENDING by default: pages of `first` in (published, uuid) order, hasNextPage until the last", async () => {
      const { nodes, sizes } = await allPages({ ...window, first: 10 });
      expect(sizes).toEqual([10, 10, 5]);
      expect(uuids(nodes)).toEqual(uuids([...events].sort(compareKeys)));
    });

    test("a cursor is for the next page of the same query: another order, filter, keywords or window is BAD_USER_INPUT", async () => {
      const { logs } = await gateway.admin.ok(LogsDocument, { ...window, first: 10 });
      const after = logs.pageInfo.endCursor!;
      expect((await gateway.admin.ok(LogsDocument, { ...window, first: 10, after })).logs.edges).toHaveLength(10);
      for (const changed of [
        { sortOrder: "DESCENDING" as const },
        { filter: 'eventType eq "user.session.start"' },
        { q: "session" },
        { until: "2030-01-01T12:00:00.000Z" },
      ]) {
        expect(await gateway.admin.fails(LogsDocument, { ...window, first: 10, after, ...changed })).toMatchObject({
          code: "BAD_USER_INPUT",
          extensions: expect.objectContaining({ field: "after" }),
        });
      }
    });

    test("DESCENDING: the same events newest first", async () => {
      const { nodes, sizes } = await allPages({ ...window, first: 10, sortOrder: "DESCENDING" });
      expect(sizes).toEqual([10, 10, 5]);
      expect(uuids(nodes)).toEqual(uuids([...events].sort(compareKeys).reverse()));
    });

    test.each(["ASCENDING", "DESCENDING"] as const)(
      "%s: a cursor stays put when events are inserted before, at and after it",
      async (sortOrder) => {
        const sign = sortOrder === "ASCENDING" ? 1 : -1;
        const { logs: firstPage } = await gateway.admin.ok(LogsDocument, { ...window, first: 10, sortOrder });
        const cursorEvent = events.find((event) => event.uuid === firstPage.edges.at(-1)?.node.uuid)!;
        const cursorAt = cursorEvent.published.getTime();
        const inserted = [
          // Already passed: must not show up on the pages after the cursor.
          eventAt(new Date(cursorAt - sign * 1000 * SECOND)),
          // The cursor's own instant with a later uuid: after it ascending, already passed descending.
          eventAt(cursorEvent.published),
          // Still to come: on a later page.
          eventAt(new Date(cursorAt + sign * 1.5 * SECOND)),
        ];
        await insertEvents(gateway, inserted);
        try {
          const { nodes } = await allPages({ ...window, first: 10, sortOrder, after: firstPage.pageInfo.endCursor });
          const everything = [...events, ...inserted].sort((a, b) => sign * compareKeys(a, b));
          const beyondCursor = everything.filter((event) => sign * compareKeys(event, cursorEvent) > 0);
          expect(uuids(nodes)).toEqual(uuids(beyondCursor));
          const firstPageUuids = uuids(firstPage.edges.map((edge) => edge.node));
          expect(nodes.filter((node) => firstPageUuids.includes(node.uuid))).toEqual([]);
        } finally {
          await gateway.db.transaction(({ manager }) => manager.delete(LogEventRecord, { uuid: In(uuids(inserted)) }));
        }
      },
    );

    test("since is inclusive, until exclusive", async () => {
      const at = (seconds: number) => new Date(start.getTime() + seconds * SECOND).toISOString();
      const { nodes } = await allPages({ since: at(1), until: at(3), first: 100 });
      const expected = events.filter(
        (event) => event.published.getTime() >= start.getTime() + SECOND && event.published.getTime() < start.getTime() + 3 * SECOND,
      );
      expect(expected).toHaveLength(6);
      expect(uuids(nodes)).toEqual(uuids(expected.sort(compareKeys)));
    });

    test("first defaults to 100 and may be at most 1000", async () => {
      const many = Array.from({ length: 120 }, (_, index) => eventAt(new Date(Date.UTC(2031, 0, 1) + index)));
      await insertEvents(gateway, many);
      const { logs } = await gateway.admin.ok(LogsDocument, { since: "2031-01-01T00:00:00Z", until: "2031-01-02T00:00:00Z" });
      expect(logs.edges).toHaveLength(100);
      expect(logs.pageInfo.hasNextPage).toBe(true);
      for (const first of [0, -1, 1001]) {
        const error = await gateway.admin.fails(LogsDocument, { first });
        expect(error).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "first" } });
      }
    });
  });

  test("a page of events with their targets costs the same few statements for 10 events as for 200", async () => {
    const targets = [
      { id: "usr_t", type: "User", alternateId: "t@example.com", displayName: "T" },
      { id: "msg_t", type: "Message", alternateId: "+44 XXXX XX0000", displayName: null },
    ];
    await insertEvents(
      gateway,
      Array.from({ length: 200 }, (_, index) => eventAt(new Date(Date.UTC(2033, 0, 1) + index), { target: targets })),
    );
    const measure = async (first: number) => {
      const requestId = `measure-logs-${first}`;
      const response = await gateway.admin.request(
        LogsDocument,
        { since: "2033-01-01T00:00:00Z", until: "2033-01-02T00:00:00Z", first },
        { "x-request-id": requestId },
      );
      expect(response.data?.logs.edges).toHaveLength(first);
      expect(response.data?.logs.edges.every((edge) => edge.node.target.length === 2)).toBe(true);
      return ownStatements(gateway, requestId);
    };
    // The first request of a token also records its use, in a transaction of its own: not the query's cost.
    await measure(1);
    const ten = await measure(10);
    expect(await measure(200)).toBe(ten);
    expect(ten).toBeLessThanOrEqual(4);
  });

  test("an event naming the same target twice is listed once", async () => {
    const twice = eventAt(new Date(Date.UTC(2034, 0, 1)), {
      target: [
        { id: "usr_twice", type: "User" },
        { id: "usr_twice", type: "User" },
      ],
    });
    await insertEvents(gateway, [twice]);
    const { logs } = await gateway.admin.ok(LogsDocument, {
      filter: 'target.id eq "usr_twice"',
      since: "2034-01-01T00:00:00Z",
      until: "2034-01-02T00:00:00Z",
    });
    expect(logs.edges.map((edge) => edge.node.uuid)).toEqual([twice.uuid]);
    expect(logs.edges[0]?.node.target).toHaveLength(2);
  });

  test("by default, the 7 days up to now (inclusive) on the gateway's clock", async () => {
    const now = gateway.clock.now();
    const old = eventAt(new Date(now.getTime() - 8 * DAY), { displayMessage: "eight days old" });
    const recent = eventAt(new Date(now.getTime() - 6 * DAY), { displayMessage: "six days old" });
    await insertEvents(gateway, [old, recent]);
    const marker = await recordMarker(gateway, "now");
    const { logs } = await gateway.admin.ok(LogsDocument, { first: 1000 });
    const seen = uuids(logs.edges.map((edge) => edge.node));
    expect(seen).toContain(recent.uuid);
    expect(seen).toContain(marker);
    expect(seen).not.toContain(old.uuid);
    const { logs: wider } = await gateway.admin.ok(LogsDocument, { since: new Date(now.getTime() - 9 * DAY).toISOString(), first: 1000 });
    expect(uuids(wider.edges.map((edge) => edge.node))).toContain(old.uuid);
  });

  test("ascending pages by cursor go on from the cursor, however far the default 7 days have moved meanwhile", async () => {
    const now = gateway.clock.now();
    const edge = now.getTime() - 7 * DAY + 30 * 60_000;
    const events = [0, 1, 2].map((hour) => eventAt(new Date(edge + hour * 3_600_000), { displayMessage: `near the edge ${hour}` }));
    await insertEvents(gateway, events);
    const variables = { filter: 'displayMessage sw "near the edge"', first: 1 };
    const { logs: first } = await gateway.admin.ok(LogsDocument, variables);
    expect(uuids(first.edges.map((e) => e.node))).toEqual([events[0]!.uuid]);
    // Two hours on, the default window starts after the second event.
    gateway.clock.advance(2 * 3_600_000);
    const { logs: second } = await gateway.admin.ok(LogsDocument, { ...variables, after: first.pageInfo.endCursor });
    expect(uuids(second.edges.map((e) => e.node))).toEqual([events[1]!.uuid]);
  });

  test("descending pages by cursor keep the first page's 7 days, however far the clock has moved meanwhile", async () => {
    const now = gateway.clock.now();
    const edge = now.getTime() - 7 * DAY + 30 * 60_000;
    const events = [2, 1, 0].map((hour) => eventAt(new Date(edge + hour * 3_600_000), { displayMessage: `falling to the edge ${hour}` }));
    await insertEvents(gateway, events);
    const variables = { filter: 'displayMessage sw "falling to the edge"', sortOrder: "DESCENDING" as const, first: 1 };
    const { logs: first } = await gateway.admin.ok(LogsDocument, variables);
    expect(uuids(first.edges.map((e) => e.node))).toEqual([events[0]!.uuid]);
    // Two hours on, a window counted from now would start after the last two events.
    gateway.clock.advance(2 * 3_600_000);
    const { logs: second } = await gateway.admin.ok(LogsDocument, { ...variables, first: 5, after: first.pageInfo.endCursor });
    expect(uuids(second.edges.map((e) => e.node))).toEqual([events[1]!.uuid, events[2]!.uuid]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  test("malformed bounds and cursors are BAD_USER_INPUT", async () => {
    expect(await gateway.admin.fails(LogsDocument, { since: "2030-01-02T00:00:00Z", until: "2030-01-01T00:00:00Z" })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: { field: "since" },
    });
    expect(await gateway.admin.fails(LogsDocument, { after: "not-a-cursor" })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: { field: "after" },
    });
  });

  describe("q: keywords", () => {
    const day = { since: "2032-01-01T00:00:00Z", until: "2032-01-02T00:00:00Z", first: 100 };
    const at = new Date("2032-01-01T12:00:00Z");
    const byMessage = eventAt(at, { displayMessage: "Verification SMS to Mobile phone" });
    const byActor = eventAt(at, {
      displayMessage: "Something",
      actor: { id: "usr_b", type: "User", alternateId: "Bob.Builder@Example.com", displayName: "Bob" },
    });
    const byTarget = eventAt(at, {
      displayMessage: "Something else",
      actor: { id: "ringfence", type: "SystemPrincipal", alternateId: null, displayName: "Ringfence" },
      target: [{ id: "msg_1", type: "Message", alternateId: "+44 XXXX XX3456", displayName: "Carol's phone" }],
    });
    const wildcards = eventAt(at, {
      displayMessage: "Discount 100% off_today",
      actor: { id: "usr_w", type: "User", alternateId: null, displayName: null },
    });
    const plain = eventAt(at, {
      displayMessage: "Discount 1000 offXtoday",
      actor: { id: "usr_p", type: "User", alternateId: null, displayName: null },
    });
    beforeAll(() => insertEvents(gateway, [byMessage, byActor, byTarget, wildcards, plain]));

    const search = async (q: string) =>
      uuids((await gateway.admin.ok(LogsDocument, { ...day, q })).logs.edges.map((edge) => edge.node)).sort();

    test.each([
      ["mobile", [byMessage]],
      ["SMS mobile", [byMessage]],
      ["sms bob", []],
      ["bob.builder@EXAMPLE", [byActor]],
      ["carol", [byTarget]],
      ["xx3456", [byTarget]],
      ["100%", [wildcards]],
      ["off_today", [wildcards]],
      ["discount", [wildcards, plain]],
      ["   ", [byMessage, byActor, byTarget, wildcards, plain]],
    ])("%s", async (q, expected) => {
      expect(await search(q)).toEqual(uuids(expected).sort());
    });

    test("at most 10 keywords", async () => {
      const error = await gateway.admin.fails(LogsDocument, { ...day, q: "a b c d e f g h i j k" });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "q" } });
    });
  });

  test("admins only: the public is UNAUTHENTICATED (401)", async () => {
    const error = await gateway.anonymous.fails(LogsDocument, {});
    expect(error).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
  });
});
