/**
 * Scale-out mode with the Redis subscriber connection lost for a moment. Redis pub/sub keeps
 * nothing for a subscriber that is away, so what was published meanwhile never comes; a
 * dashboard's systemLog and a login page's deliveryStatus must still get it once the
 * connection is back, each thing once. Needs a real Redis (REDIS_URL); skipped, saying so,
 * otherwise.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import {
  ActivatePhoneFactorDocument,
  ChallengePhoneFactorDocument,
  CreateGroupDocument,
  DeliveryStatusDocument,
  SetSimulatorRulesDocument,
} from "../../../src/generated/graphql";
import { Message } from "../../../src/telephony/message.entity";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, receivedCode, settleMessages } from "../../support/phone";
import { subscribeSystemLog } from "../../support/log";
import { record, wsClient } from "../../support/subscriptions";

const redisUrl = process.env.REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;
if (!redisUrl) console.warn("fan-out gap tests skipped: set REDIS_URL=redis://... to run them");

describeWithRedis("live feeds after the Redis subscriber connection was lost", () => {
  let gateway: TestGateway;
  let redis: Redis;
  beforeAll(async () => {
    gateway = await startTestGateway({ REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `rf-gaps-${randomBytes(4).toString("hex")}` });
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    redis?.disconnect();
    await gateway?.stop();
  });

  /** Ends this gateway's subscriber connection from the server side; ioredis connects it again. */
  async function cutSubscriber(): Promise<void> {
    const name = `ringfence-sub/${gateway.services.instanceId}`;
    const clients = (await redis.call("CLIENT", "LIST")) as string;
    const line = clients.split("\n").find((candidate) => candidate.includes(` name=${name} `));
    const id = line && /\bid=(\d+)/.exec(line)?.[1];
    if (!id) throw new Error(`no Redis client named ${name}`);
    await redis.call("CLIENT", "KILL", "ID", id);
  }

  /** Runs `change` with its publications dropped, as they are when nobody is subscribed to hear them. */
  async function unheard<T>(change: () => Promise<T>): Promise<T> {
    const { pubsub } = gateway.services;
    const publish = pubsub.publish;
    pubsub.publish = (() => undefined) as typeof publish;
    try {
      return await change();
    } finally {
      pubsub.publish = publish;
    }
  }

  test("systemLog: an event published while the subscriber was away arrives once it is back, and none twice", async () => {
    const client = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    const live = await subscribeSystemLog(gateway, client, 'eventType eq "group.lifecycle.create"');
    const created = (name: string) => live.data.filter((data) => data.systemLog.target.some((target) => target.displayName === name));
    try {
      // Redis confirms a subscription a round trip after it is asked for: until then, events go unheard.
      for (let attempt = 1; !created(`heard-before-${attempt - 1}`).length; attempt += 1) {
        if (attempt > 20) throw new Error("the feed never heard an event");
        await gateway.admin.ok(CreateGroupDocument, { name: `heard-before-${attempt}` });
        await live.until(() => created(`heard-before-${attempt}`).length > 0, "an event before the cut", 500).catch(() => undefined);
      }

      await unheard(() => gateway.admin.ok(CreateGroupDocument, { name: "published-while-away" }));
      await cutSubscriber();
      await live.until(() => created("published-while-away").length === 1, "the event published while the subscriber was away");

      await gateway.admin.ok(CreateGroupDocument, { name: "heard-after" });
      await live.until(() => created("heard-after").length === 1, "the event of the group made after");
      expect(["published-while-away", "heard-after"].map((name) => created(name).length)).toEqual([1, 1]);
      const uuids = live.data.map((data) => data.systemLog.uuid);
      expect(new Set(uuids).size).toBe(uuids.length);
    } finally {
      live.stop();
      await client.dispose();
    }
  });

  test("deliveryStatus: a status reached while the subscriber was away is read again and sent once it is back", async () => {
    const phone = "+447400960001";
    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, phone);
    await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phone) } });
    // The handset's receipt is held back: the message stays SENT until the test says otherwise.
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: phone, outcome: "DELIVERED", delayMs: 60_000 }] });
    const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await settleMessages(gateway, (messages) =>
      messages.some((one) => one.challengeId === challengePhoneFactor.id && one.status === "SENT"),
    );

    const client = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    const live = record(client, DeliveryStatusDocument, { challengeId: challengePhoneFactor.id });
    const statuses = () => live.data.map((data) => data.deliveryStatus.status);
    try {
      await live.until(() => statuses().includes("SENT"), "the message as it is");
      // The receipt lands, and its publication is lost.
      const now = gateway.clock.now();
      await gateway.db.transaction(({ manager }) =>
        manager.update(
          Message,
          { challengeId: challengePhoneFactor.id },
          { status: "DELIVERED", providerStatus: "delivered", finalAt: now, updated: now },
        ),
      );
      await cutSubscriber();

      await live.until(() => statuses().includes("DELIVERED"), "the status reached while the subscriber was away");
      expect(statuses()).toEqual(["SENT", "DELIVERED"]);
    } finally {
      live.stop();
      await client.dispose();
      await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [] });
    }
  });
});

describeWithRedis("readiness with the Redis subscriber connection gone", () => {
  test("/readyz answers 503 degraded while commands still answer, as this instance hears nothing the others publish", async () => {
    const gateway = await startTestGateway({ REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `rf-ready-${randomBytes(4).toString("hex")}` });
    try {
      const readyz = () => fetch(gateway.url.replace(/\/graphql$/, "/readyz"));
      expect((await readyz()).status).toBe(200);
      // Ended for good, where a connection cut from the server side is soon back.
      const { subscriber } = gateway.redis!;
      const ended = new Promise((resolve) => subscriber.once("end", resolve));
      subscriber.disconnect();
      await ended;
      const answer = await readyz();
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ status: "degraded", redis: "unreachable" });
    } finally {
      await gateway.stop();
    }
  });
});
