/**
 * Several gateway processes on one PostgreSQL database and one Redis: subscriptions, limits
 * and dispatch are shared across instances. Runs when DATABASE_URL names PostgreSQL and
 * REDIS_URL is set (CI does both); skipped, saying so, otherwise.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  ActivatePhoneFactorDocument,
  ChallengePhoneFactorDocument,
  CreateUserDocument,
  EnrollPhoneFactorDocument,
  SimulatorMessagesDocument,
} from "../../src/generated/graphql";
import { ADMIN_TOKEN } from "../support/gateway";
import { clusterAvailable, startCluster, type Cluster, type Instance } from "../support/cluster";
import { codeIn } from "../support/phone";

const describeCluster = clusterAvailable() ? describe : describe.skip;
if (!clusterAvailable()) console.warn("scale-out tests skipped: set DATABASE_URL=postgres://... and REDIS_URL=redis://... to run them");

jest.setTimeout(420_000);

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let sequence = 0;
async function newUser(instance: Instance) {
  sequence += 1;
  const { createUser } = await instance.admin.ok(CreateUserDocument, { input: { login: `cluster${sequence}-${Date.now()}@example.com`, password: "a long enough password" } });
  return createUser;
}

async function readCode(instance: Instance, to: string): Promise<string> {
  const message = await until(`a simulated message to ${to}`, async () => (await instance.admin.ok(SimulatorMessagesDocument, { to, first: 1 })).simulatorMessages[0]);
  return codeIn(message.body);
}

describeCluster("several instances", () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let c: Instance;

  beforeAll(async () => {
    cluster = await startCluster(
      [
        { name: "A", env: { DISPATCH_ENABLED: "false" } },
        { name: "B", env: { DISPATCH_ENABLED: "false" } },
        { name: "C", env: { DISPATCH_ENABLED: "true" } },
      ],
      {
        LIMIT_SENDS_PER_NUMBER_PER30S: "5",
        LIMIT_SENDS_PER_NUMBER_PER10M: "5",
        LIMIT_SENDS_PER_USER_PER_HOUR: "10000",
        LIMIT_SENDS_PER_COUNTRY_PER_MINUTE: "100000",
        LIMIT_PUBLIC_REQUESTS_PER_IP_PER_MINUTE: "100000",
        LIMIT_PUMPING_COUNTRY_BURST: "100000",
        LIMIT_PUMPING_RANGE_BURST: "1000",
        LIMIT_PUMPING_RATIO_MINIMUM_SENDS: "100000",
        LIMIT_DAILY_SPEND_CAP_USD: "1000000",
        LIMIT_MONTHLY_SPEND_CAP_USD: "1000000",
        DISPATCH_LEASE_MS: "2000",
        RECEIPT_WINDOW_MS: "5000",
      },
    );
    [a, b, c] = cluster.instances as [Instance, Instance, Instance];
  });
  afterAll(() => cluster?.stop());

  test("a subscriber on A receives the delivery status of a challenge made on B and sent by C's dispatcher", async () => {
    const user = await newUser(b);
    const { enrollPhoneFactor } = await b.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400950001", method: "SMS" } });
    await b.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: enrollPhoneFactor.factor.id, code: await readCode(b, "+447400950001") } });
    const client = createClient({ url: a.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `SSWS ${ADMIN_TOKEN}` }, retryAttempts: 0 });
    const statuses: string[] = [];
    try {
      // Subscribe first, on A, to a challenge that does not exist yet: create it on B after.
      const { challengePhoneFactor } = await b.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: enrollPhoneFactor.factor.id } });
      const done = new Promise<void>((resolve, reject) => {
        client.subscribe(
          { query: `subscription ($id: ID!) { deliveryStatus(challengeId: $id) { id status provider } }`, variables: { id: challengePhoneFactor.id } },
          {
            next: (result) => {
              if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
              const status = (result.data as { deliveryStatus: { status: string } }).deliveryStatus.status;
              statuses.push(status);
              if (status === "DELIVERED") resolve();
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`no DELIVERED on A: ${statuses}`)), 30_000))]);
    } finally {
      await client.dispose();
    }
    expect(statuses.at(-1)).toBe("DELIVERED");
    const attempts = await cluster.query<{ lease_owner: string | null; provider: string }>(
      `SELECT m.provider, m.lease_owner FROM messages m JOIN challenges ch ON ch.id = m.challenge_id WHERE ch.user_id = $1`,
      [user.id],
    );
    expect(attempts.every((row) => row.provider === "simulator")).toBe(true);
  });

  test("a burst of sends through all instances trips the per-number limit at exactly its value", async () => {
    const user = await newUser(a);
    const { enrollPhoneFactor } = await a.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+447400950002", method: "SMS" } });
    await a.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: enrollPhoneFactor.factor.id, code: await readCode(a, "+447400950002") } });
    const instances = [a, b, c];
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => instances[i % 3]!.admin.request(ChallengePhoneFactorDocument, { input: { factorId: enrollPhoneFactor.factor.id } })),
    );
    const sent = results.filter((result) => !result.errors).length;
    const limited = results.filter((result) => result.errors?.[0]?.extensions?.code === "RATE_LIMITED").length;
    // Five sends per number: one went to enrollment, four remain for the burst.
    expect({ sent, limited }).toEqual({ sent: 4, limited: 8 });
  });

  test("1,000 messages queued through all instances are each sent exactly once, and a SIGKILLed dispatcher loses none", async () => {
    let killed = false;
    const d = await cluster.start("D", { DISPATCH_ENABLED: "true" });
    let live = [a, b, c, d];
    const users: Array<{ id: string }> = [];
    for (let i = 0; i < 40; i += 1) users.push(await newUser(live[i % 4]!));
    let next = 0;
    const enrollOne = async (i: number, attempt = 0): Promise<void> => {
      const instance = live[i % live.length]!;
      const user = users[i % users.length]!;
      const input = { userId: user.id, phoneNumber: `+4474096${String(i).padStart(5, "0")}`, method: "SMS" as const };
      try {
        const result = await instance.admin.request(EnrollPhoneFactorDocument, { input });
        // A retry after the first try committed on an instance that then died finds the number
        // waiting for the code just sent: enrolling it again is a resend, inside its cooldown.
        if (result.errors && !(attempt > 0 && result.errors[0]?.extensions?.code === "RESEND_TOO_SOON")) {
          throw new Error(JSON.stringify(result.errors));
        }
      } catch (error) {
        // A balancer would send the request elsewhere once the instance is gone.
        if (instance === c && killed && attempt === 0) return enrollOne(i, attempt + 1);
        throw error;
      }
    };
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 1000) {
          const i = next++;
          await enrollOne(i);
          if (i === 400 && !killed) {
            killed = true;
            live = [a, b, d];
            // Mid-dispatch: C is sending while the queue fills; it dies without a word.
            await c.kill("SIGKILL");
          }
        }
      }),
    );
    const finals = await until(
      "every message to be final",
      async () => {
        const [row] = await cluster.query<{ open: string; total: string }>(
          `SELECT COUNT(*) FILTER (WHERE final_at IS NULL) AS open, COUNT(*) AS total FROM messages WHERE to_e164 LIKE '+4474096%'`,
        );
        return Number(row?.open) === 0 && Number(row?.total) === 1000 ? row : null;
      },
      300_000,
    );
    expect(Number(finals.total)).toBe(1000);
    const duplicates = await cluster.query<{ message_id: string; sent: string }>(
      `SELECT a.message_id, COUNT(DISTINCT a.id) AS sent FROM message_attempts a JOIN messages m ON m.id = a.message_id
       WHERE m.to_e164 LIKE '+4474096%' AND a.outcome = 'SENT' GROUP BY a.message_id HAVING COUNT(DISTINCT a.id) > 1`,
    );
    expect(duplicates).toEqual([]);
    const [inbox] = await cluster.query<{ handed: string; numbers: string }>(
      `SELECT COUNT(*) AS handed, COUNT(DISTINCT to_e164) AS numbers FROM simulator_messages WHERE to_e164 LIKE '+4474096%'`,
    );
    // Each message reached the handset once: one inbox row per number, none twice.
    expect(Number(inbox?.handed)).toBe(Number(inbox?.numbers));
    expect(Number(inbox?.numbers)).toBe(1000);
    const [events] = await cluster.query<{ sends: string; receipts: string }>(
      `SELECT COUNT(*) FILTER (WHERE event_type LIKE 'system.sms.send_%') AS sends,
              COUNT(*) FILTER (WHERE event_type = 'system.sms.receive_status') AS receipts
       FROM log_events WHERE debug_context::jsonb ->> 'messageId' IN (SELECT id FROM messages WHERE to_e164 LIKE '+4474096%')`,
    );
    expect({ sends: Number(events?.sends), receipts: Number(events?.receipts) }).toEqual({ sends: 1000, receipts: 1000 });
  });
});
