import { migrate } from "../../../src/platform/data-source";
import { engine, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll } from "../../support/phone";

/**
 * The gateway's schema comes only from migrations (synchronize is off), so an entity change
 * without its migration would reach production as a missing column or index. On each engine
 * the suite runs on, a freshly migrated database must already be what the entities describe.
 */
describe("migrations", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("bring a fresh database exactly to the entities: nothing is left for the schema builder to do", async () => {
    const pending = await gateway.db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  test("build every index with the entity's columns in the entity's order, which the schema builder does not compare", async () => {
    const runner = gateway.db.dataSource.createQueryRunner();
    try {
      const columnsOf = async (index: string): Promise<string[]> =>
        engine === "postgres"
          ? ((await runner.query(
              `SELECT "a"."attname" AS "name" FROM "pg_index" "i" JOIN "pg_class" "c" ON "c"."oid" = "i"."indexrelid" ` +
                `CROSS JOIN LATERAL unnest("i"."indkey") WITH ORDINALITY AS "k"("attnum", "position") ` +
                `JOIN "pg_attribute" "a" ON "a"."attrelid" = "i"."indrelid" AND "a"."attnum" = "k"."attnum" ` +
                `WHERE "c"."relname" = $1 AND "c"."relnamespace" = current_schema()::regnamespace ORDER BY "k"."position"`,
              [index],
            )) as { name: string }[]).map((column) => column.name)
          : ((await runner.query(`SELECT "name" FROM pragma_index_info(?) ORDER BY "seqno"`, [index])) as { name: string }[]).map((column) => column.name);
      const declared = gateway.db.dataSource.entityMetadatas.flatMap((metadata) =>
        metadata.indices.filter((index) => index.name).map((index) => ({ index: index.name, columns: index.columns.map((column) => column.databaseName) })),
      );
      expect(declared.length).toBeGreaterThan(10);
      const built = [];
      for (const { index } of declared) built.push({ index, columns: await columnsOf(index) });
      expect(built).toEqual(declared);
    } finally {
      await runner.release();
    }
  });

  test("index the lookups by a challenge's flow (a flow's end cancels them) and by a message's user (a user's deletion masks them)", async () => {
    const runner = gateway.db.dataSource.createQueryRunner();
    try {
      const indexes = async (table: string) => Object.fromEntries((await runner.getTable(table))!.indices.map((index) => [index.name, index.columnNames]));
      expect(await indexes("challenges")).toMatchObject({ challenges_transaction: ["transaction_id"] });
      expect(await indexes("messages")).toMatchObject({ messages_user: ["user_id"] });
    } finally {
      await runner.release();
    }
  });

  (engine === "postgres" ? test : test.skip)("build a lookup index again that a cancelled CONCURRENTLY build left invalid (PostgreSQL)", async () => {
    const user = await createUser(gateway);
    await enroll(gateway, user.id, "+447400123999", "SMS");
    const runner = gateway.db.dataSource.createQueryRunner();
    const validity = async () =>
      (await runner.query(`SELECT "i"."indisvalid" AS "valid" FROM "pg_index" "i" JOIN "pg_class" "c" ON "c"."oid" = "i"."indexrelid" WHERE "c"."relname" = 'messages_user' AND "c"."relnamespace" = current_schema()::regnamespace`)) as { valid: boolean }[];
    try {
      await runner.query(`DROP INDEX "messages_user"`);
      // Fails on the first row, as a build cancelled by a statement timeout does, and leaves the index behind, invalid.
      await expect(runner.query(`CREATE INDEX CONCURRENTLY "messages_user" ON "messages" ((1 / (length("id") - length("id"))))`)).rejects.toThrow(/division by zero/);
      expect(await validity()).toEqual([{ valid: false }]);
      await runner.query(`DELETE FROM "migrations" WHERE "name" = 'LookupIndexes1796675895646'`);
      await migrate(gateway.db.dataSource);
      expect(await validity()).toEqual([{ valid: true }]);
      expect((await runner.getTable("messages"))!.indices.find((index) => index.name === "messages_user")?.columnNames).toEqual(["user_id"]);
    } finally {
      await runner.release();
    }
  });
});
