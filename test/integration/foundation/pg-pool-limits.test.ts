/**
 * The threats: an instance that stops inside a transaction (its host gone, its event loop stuck)
 * holding row locks every other instance then waits on, until the server notices its connection
 * dead, two hours on default TCP settings; and a server gone silent, which answers a statement
 * with no statement_timeout error, leaving the instance's requests hanging on it.
 */
import type { Pool } from "pg";
import type { PostgresDriver } from "typeorm/driver/postgres/PostgresDriver";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { describeOnPostgres } from "../../support/pg-locks";

describeOnPostgres("the gateway's PostgreSQL connections", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("have the server end a transaction left idle a little longer than a statement may run", async () => {
    const [limits] = (await gateway.db.manager.query("SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle")) as Array<{
      statement: string;
      idle: string;
    }>;
    expect(limits).toEqual({ statement: "15s", idle: "20s" });
  });

  test("give up on a server that stops answering, a little after the statement timeout, and probe idle connections", () => {
    const { options } = (gateway.db.dataSource.driver as PostgresDriver).master as Pool & { options: Record<string, unknown> };
    expect(options).toMatchObject({ query_timeout: 20_000, keepAlive: true });
  });
});
