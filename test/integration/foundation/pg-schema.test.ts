/**
 * DATABASE_SCHEMA on PostgreSQL as operators run it: a role that owns its schema and nothing
 * more of the database, and several instances starting at once against a schema not yet made.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { startTestGateway } from "../../support/gateway";

const databaseUrl = process.env.DATABASE_URL ?? "";
const describeOnPostgres = databaseUrl.startsWith("postgres") ? describe : describe.skip;

describeOnPostgres("the gateway's PostgreSQL schema", () => {
  const admin = new Client({ connectionString: databaseUrl });
  beforeAll(() => admin.connect());
  afterAll(() => admin.end());
  const urlAs = (user: string) => {
    const url = new URL(databaseUrl);
    url.username = user;
    url.password = "";
    return url.toString();
  };

  test("a role that owns its schema and may not create schemas in the database starts the gateway", async () => {
    const suffix = randomBytes(4).toString("hex");
    const [role, schema] = [`rf_owner_${suffix}`, `rf_owned_${suffix}`];
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    await admin.query(`CREATE SCHEMA "${schema}" AUTHORIZATION "${role}"`);
    try {
      const gateway = await startTestGateway({ DATABASE_URL: urlAs(role), DATABASE_SCHEMA: schema });
      await gateway.stop();
      const { rows } = await admin.query(`SELECT COUNT(*) AS tables FROM information_schema.tables WHERE table_schema = $1`, [schema]);
      expect(Number(rows[0].tables)).toBeGreaterThan(10);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    }
  });

  test("two instances started at once make the missing schema once, and both start", async () => {
    const schema = `rf_race_${randomBytes(4).toString("hex")}`;
    try {
      const gateways = await Promise.all([startTestGateway({ DATABASE_SCHEMA: schema }), startTestGateway({ DATABASE_SCHEMA: schema })]);
      for (const gateway of gateways) await gateway.stop();
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
