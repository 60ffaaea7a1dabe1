/**
 * EntityStatements stands in for TypeORM's findOneBy, insert and update on the hot paths: what
 * it writes and reads must be exactly what TypeORM would, column types and transformers
 * included (timestamps as epoch milliseconds, booleans, JSON, nulls), on both engines.
 */
import { MessageAttempt } from "../../../src/telephony/message.entity";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { newId } from "../../../src/platform/ids";
import { engine, startTestGateway, type TestGateway } from "../../support/gateway";

describe("EntityStatements", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const attempt = (overrides: Partial<MessageAttempt> = {}): MessageAttempt =>
    Object.assign(new MessageAttempt(), {
      id: newId("att"),
      messageId: "msg_statements",
      provider: "simulator",
      started: new Date("2031-02-03T04:05:06.789Z"),
      finished: null,
      outcome: "PENDING",
      providerMessageId: null,
      retryable: true,
      detail: "first try",
      ...overrides,
    });

  test("a row inserted here reads back through TypeORM as it was given, and through findOneBy as TypeORM reads it", async () => {
    const { db } = gateway;
    const given = attempt();
    await db.transaction((tx) => db.statements.insert(tx.manager, MessageAttempt, given));
    const byTypeOrm = await db.manager.findOneByOrFail(MessageAttempt, { id: given.id });
    expect(byTypeOrm).toEqual(given);
    const byStatements = await db.statements.findOneBy(db.manager, MessageAttempt, { id: given.id });
    expect(byStatements).toBeInstanceOf(MessageAttempt);
    expect(byStatements).toEqual(byTypeOrm);
    expect(await db.statements.findOneBy(db.manager, MessageAttempt, { id: "att_missing" })).toBeNull();
    expect(await db.statements.findOneByOrFail(db.manager, MessageAttempt, { id: given.id })).toEqual(byTypeOrm);
    await expect(db.statements.findOneByOrFail(db.manager, MessageAttempt, { id: "att_missing" })).rejects.toThrow(
      /No MessageAttempt matches/,
    );
  });

  test("JSON columns and nulls survive the round trip", async () => {
    const { db } = gateway;
    const published = new Date("2031-02-03T04:05:06.000Z");
    const event = Object.assign(new LogEventRecord(), {
      uuid: "0190aaaa-0000-7000-8000-000000000001",
      published,
      eventType: "test.statements",
      severity: "INFO",
      displayMessage: "statements",
      actorId: "usr_1",
      actorType: "User",
      actorAlternateId: null,
      actorDisplayName: "Ünïcödé ✓",
      outcomeResult: "SUCCESS",
      outcomeReason: null,
      clientIp: null,
      clientUserAgent: null,
      transactionId: null,
      debugContext: { nested: { list: [1, "two", null], flag: false }, quote: 'say "hi"' },
    });
    await db.transaction((tx) => db.statements.insert(tx.manager, LogEventRecord, event));
    expect(await db.manager.findOneByOrFail(LogEventRecord, { uuid: event.uuid })).toEqual(event);
    expect(await db.statements.findOneBy(db.manager, LogEventRecord, { uuid: event.uuid })).toEqual(event);
  });

  test("an update sets what it is given on the rows that match, may match on the column it changes, and counts them", async () => {
    const { db } = gateway;
    const given = attempt();
    await db.transaction((tx) => db.statements.insert(tx.manager, MessageAttempt, given));
    const finished = new Date("2031-02-03T04:05:07.000Z");
    const moved = await db.transaction((tx) =>
      db.statements.update(
        tx.manager,
        MessageAttempt,
        { id: given.id, outcome: "PENDING" },
        { outcome: "SENT", finished, retryable: false },
      ),
    );
    expect(moved).toBe(1);
    expect(await db.manager.findOneByOrFail(MessageAttempt, { id: given.id })).toEqual({
      ...given,
      outcome: "SENT",
      finished,
      retryable: false,
    });
    // The condition no longer holds: nothing matches, nothing changes.
    const again = await db.transaction((tx) =>
      db.statements.update(tx.manager, MessageAttempt, { id: given.id, outcome: "PENDING" }, { outcome: "FAILED" }),
    );
    expect(again).toBe(0);
    expect((await db.manager.findOneByOrFail(MessageAttempt, { id: given.id })).outcome).toBe("SENT");
  });

  test("a written statement binds its values in order on either engine, counts the rows it changed, and changes none once its condition fails", async () => {
    const { db } = gateway;
    const given = attempt({ started: new Date("2031-02-03T04:05:06.000Z") });
    await db.transaction((tx) => db.statements.insert(tx.manager, MessageAttempt, given));
    const finishOnce = (at: Date) =>
      db.transaction((tx) =>
        db.statements.write(
          tx.manager,
          `UPDATE "message_attempts" SET "outcome" = ?, "finished" = ? WHERE "id" = ? AND "finished" IS NULL AND "started" < ?`,
          ["SENT", at.getTime(), given.id, at.getTime()],
        ),
      );
    const finished = new Date("2031-02-03T04:05:09.000Z");
    expect(await finishOnce(finished)).toBe(1);
    expect(await finishOnce(new Date("2031-02-03T04:05:10.000Z"))).toBe(0);
    expect(await db.manager.findOneByOrFail(MessageAttempt, { id: given.id })).toEqual({ ...given, outcome: "SENT", finished });
  });

  test("a written read binds its values in order, inside or outside a transaction, and gives the raw rows", async () => {
    const { db } = gateway;
    const messageId = `msg_${newId("att").slice(4)}`;
    const early = attempt({ messageId, started: new Date("2031-02-03T04:05:06.000Z"), detail: "early" });
    const late = attempt({ messageId, started: new Date("2031-02-03T04:05:08.000Z"), detail: "late" });
    await db.transaction(async (tx) => {
      await db.statements.insert(tx.manager, MessageAttempt, early);
      await db.statements.insert(tx.manager, MessageAttempt, late);
    });
    const startedAfter = `SELECT "detail" FROM "message_attempts" WHERE "message_id" = ? AND "started" > ? ORDER BY "started"`;
    const details = (rows: Array<{ detail: string }>) => rows.map((row) => row.detail);
    expect(details(await db.statements.query(db.manager, startedAfter, [messageId, early.started.getTime() - 1]))).toEqual([
      "early",
      "late",
    ]);
    expect(details(await db.statements.query(db.manager, startedAfter, [messageId, early.started.getTime()]))).toEqual(["late"]);
    const insideTransaction = await db.transaction((tx) =>
      db.statements.query<{ detail: string }>(tx.manager, startedAfter, [messageId, late.started.getTime()]),
    );
    expect(insideTransaction).toEqual([]);
  });

  test("rows inserted in one statement read back as TypeORM would read each; rows that set different columns are refused", async () => {
    const { db } = gateway;
    const messageId = `msg_${newId("att").slice(4)}`;
    const rows = [
      attempt({ messageId, detail: "first" }),
      attempt({ messageId, detail: null, finished: new Date("2031-02-03T04:05:07.000Z"), retryable: false }),
      attempt({ messageId, providerMessageId: "SM123", outcome: "SENT" }),
    ];
    await db.transaction((tx) => db.statements.insertAll(tx.manager, [{ entity: MessageAttempt, rows }]));
    await db.transaction((tx) => db.statements.insertAll(tx.manager, [{ entity: MessageAttempt, rows: [] }]));
    const read = await db.manager.find(MessageAttempt, { where: { messageId } });
    expect(read.sort((a, b) => a.id.localeCompare(b.id))).toEqual([...rows].sort((a, b) => a.id.localeCompare(b.id)));
    // A statement prepared for three rows is not reused for two.
    const two = [attempt({ messageId }), attempt({ messageId })];
    await db.transaction((tx) => db.statements.insertAll(tx.manager, [{ entity: MessageAttempt, rows: two }]));
    expect(await db.manager.countBy(MessageAttempt, { messageId })).toBe(5);
    const { detail: _omitted, ...withoutDetail } = attempt({ messageId });
    await expect(
      db.transaction((tx) => db.statements.insertAll(tx.manager, [{ entity: MessageAttempt, rows: [attempt({ messageId }), withoutDetail] }])),
    ).rejects.toThrow(/must set the same columns/);
    expect(await db.manager.countBy(MessageAttempt, { messageId })).toBe(5);
  });

  test("inserts into several tables go in order, as one statement on PostgreSQL, and fail together", async () => {
    const { db } = gateway;
    const event = (uuid: string) =>
      Object.assign(new LogEventRecord(), {
        uuid,
        published: new Date("2031-02-03T04:05:06.000Z"),
        eventType: "test.insert_all",
        severity: "INFO",
        displayMessage: "insertAll",
        actorId: "usr_1",
        actorType: "User",
        outcomeResult: "SUCCESS",
        debugContext: { rows: 2 },
      });
    const messageId = `msg_${newId("att").slice(4)}`;
    const written = event("0190aaaa-0000-7000-8000-0000000000a1");
    const attempts = [attempt({ messageId, detail: "one" }), attempt({ messageId, detail: "two" })];
    const statements = await statementsOf("insert-all", () =>
      db.transaction((tx) =>
        db.statements.insertAll(tx.manager, [
          { entity: LogEventRecord, rows: [written] },
          { entity: MessageAttempt, rows: attempts },
          { entity: MessageAttempt, rows: [] },
        ]),
      ),
    );
    expect(await db.manager.findOneByOrFail(LogEventRecord, { uuid: written.uuid })).toMatchObject({
      eventType: "test.insert_all",
      debugContext: { rows: 2 },
    });
    expect(await db.manager.countBy(MessageAttempt, { messageId })).toBe(2);
    const inserts = statements.filter((sql) => /^(WITH|INSERT)\b/.test(sql));
    expect(inserts).toHaveLength(db.engine === "postgres" ? 1 : 2);

    // The attempt's id is taken: the whole call fails, and the event before it is not left behind.
    const refused = event("0190aaaa-0000-7000-8000-0000000000a2");
    await expect(
      db.transaction((tx) =>
        db.statements.insertAll(tx.manager, [
          { entity: LogEventRecord, rows: [refused] },
          { entity: MessageAttempt, rows: [attempts[0]!] },
        ]),
      ),
    ).rejects.toThrow();
    expect(await db.manager.findOneBy(LogEventRecord, { uuid: refused.uuid })).toBeNull();
  });

  test("a transaction queued behind another's is counted for the request that began it", async () => {
    const { db } = gateway;
    // Another transaction, begun outside any request, starts the queue's drain just before.
    const other = db.transaction((tx) => tx.manager.query("SELECT 1 AS one"));
    const statements = await statementsOf("queued-behind", () =>
      db.transaction((tx) => db.statements.query(tx.manager, `SELECT count(*) AS "n" FROM "message_attempts" WHERE "message_id" = ?`, ["msg_queued"])),
    );
    await other;
    expect(statements.filter((sql) => sql.includes("message_attempts"))).toHaveLength(1);
  });

  /** The statements `work` sent, as the gateway's query counter saw them. */
  const statementsOf = async (name: string, work: () => Promise<unknown>): Promise<readonly string[]> => {
    const requestId = `${name}-${newId("att")}`;
    await new Promise<void>((resolve, reject) => {
      let finish = () => {};
      gateway.queries.track(
        requestId,
        (onFinish) => {
          finish = onFinish;
        },
        () => {
          work().then(() => {
            finish();
            resolve();
          }, reject);
        },
      );
    });
    return gateway.queries.statementsFor(requestId) ?? [];
  };

  (engine === "postgres" ? test : test.skip)("on PostgreSQL its statements run as prepared statements, and TypeORM's own do not", async () => {
    const { db } = gateway;
    const prepared = await db.transaction(async (tx) => {
      // One transaction, one connection: pg_prepared_statements lists that connection's.
      await db.statements.findOneBy(tx.manager, MessageAttempt, { id: "att_none" });
      await db.statements.query(tx.manager, `SELECT count(*) AS "n" FROM "message_attempts" WHERE "message_id" = ?`, ["msg_none"]);
      await tx.manager.findOneBy(MessageAttempt, { messageId: "msg_none" });
      const rows: Array<{ statement: string }> = await tx.manager.query("SELECT statement FROM pg_prepared_statements");
      return rows.map((row) => row.statement);
    });
    expect(prepared).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SELECT .* FROM "message_attempts" WHERE "id" = \$1 LIMIT 1$/), `SELECT count(*) AS "n" FROM "message_attempts" WHERE "message_id" = $1`]),
    );
    // TypeORM's query builder, as the System Log's filtered pages use it: planned afresh each time.
    expect(prepared.filter((statement) => statement.includes('"MessageAttempt"'))).toEqual([]);
  });

  test("a write that returns its rows gives them as the write left them, hydrated as TypeORM would, and none when nothing matched", async () => {
    const { db } = gateway;
    const given = attempt({ started: new Date("2031-02-03T04:05:06.000Z") });
    await db.transaction((tx) => db.statements.insert(tx.manager, MessageAttempt, given));
    const finish = (at: Date) =>
      db.transaction((tx) =>
        db.statements.writeReturning(
          tx.manager,
          MessageAttempt,
          `UPDATE "message_attempts" SET "outcome" = ?, "finished" = ? WHERE "id" = ? AND "finished" IS NULL`,
          ["SENT", at.getTime(), given.id],
        ),
      );
    const finished = new Date("2031-02-03T04:05:09.000Z");
    const [changed, ...others] = await finish(finished);
    expect(others).toEqual([]);
    expect(changed).toBeInstanceOf(MessageAttempt);
    expect(changed).toEqual({ ...given, outcome: "SENT", finished });
    expect(changed).toEqual(await db.manager.findOneByOrFail(MessageAttempt, { id: given.id }));
    expect(await finish(new Date("2031-02-03T04:05:10.000Z"))).toEqual([]);
  });

  test("conditions without a value and unknown columns are refused, not guessed at", async () => {
    const { db } = gateway;
    await expect(db.statements.findOneBy(db.manager, MessageAttempt, { providerMessageId: null })).rejects.toThrow(/no value/);
    await expect(db.statements.findOneBy(db.manager, MessageAttempt, {})).rejects.toThrow(/at least one condition/);
    await expect(db.statements.findOneBy(db.manager, MessageAttempt, { nope: "x" } as never)).rejects.toThrow(/no column nope/);
  });
});
