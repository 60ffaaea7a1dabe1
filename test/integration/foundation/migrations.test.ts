import { startTestGateway, type TestGateway } from "../../support/gateway";

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
});
