import { Client } from "pg";
import { startTestGateway, type TestGateway } from "./gateway";

export const describeOnPostgres = process.env.DATABASE_URL?.startsWith("postgres") ? describe : describe.skip;

/**
 * A PostgreSQL connection of the test's own, in the gateway's schema: it plays a request that
 * holds locks (a verification holding its code) while the gateway runs another against it.
 */
export async function rivalConnection(gateway: TestGateway): Promise<Client> {
  const rival = new Client({ connectionString: process.env.DATABASE_URL, options: `-c search_path=${gateway.config.databaseSchema}` });
  await rival.connect();
  return rival;
}

/**
 * For a describe block: a gateway and a rival connection to it, made before its tests and ended
 * after. Read them inside the tests, once they are set.
 */
export function gatewayWithRival(): { gateway: TestGateway; rival: Client } {
  const held = {} as { gateway: TestGateway; rival: Client };
  beforeAll(async () => {
    held.gateway = await startTestGateway();
    held.rival = await rivalConnection(held.gateway);
  });
  afterAll(async () => {
    await held.rival?.end();
    await held.gateway?.stop();
  });
  return held;
}

/** Resolves once some backend waits for a lock `holder` holds; `what` names the waiter in the error if none does. */
export async function someoneWaitsFor(holder: Client, what: string): Promise<void> {
  const { rows } = await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const watcher = new Client({ connectionString: process.env.DATABASE_URL });
  await watcher.connect();
  try {
    for (let tries = 0; tries < 200; tries += 1) {
      const waiting = await watcher.query("SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [rows[0]!.pid]);
      if (waiting.rowCount) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`${what} never waited`);
  } finally {
    await watcher.end();
  }
}
