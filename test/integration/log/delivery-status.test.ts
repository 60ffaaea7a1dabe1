import type { Client } from "graphql-ws";
import {
  DeliveryStatusDocument,
  SetSimulatorRulesDocument,
  type DeliveryStatusSubscription,
  type MessageStatus,
} from "../../../src/generated/graphql";
import { Message } from "../../../src/telephony/message.entity";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll } from "../../support/phone";
import { record, wsClient, type RecordedSubscription, type SubscriptionResult } from "../../support/subscriptions";

/** Receipts for these come half a second after the hand-over, so SENT is there to be seen before DELIVERED. */
const SLOW_RECEIPTS = "+4474009";
const INACTIVE = "+4474008";

const statuses = (live: RecordedSubscription<DeliveryStatusSubscription>): MessageStatus[] =>
  live.data.map((data) => data.deliveryStatus.status);
const reached =
  (status: MessageStatus) =>
  (results: SubscriptionResult<DeliveryStatusSubscription>[]): boolean =>
    results.some((result) => result.data?.deliveryStatus.status === status);

describe("deliveryStatus: a login page watches its code being delivered", () => {
  let gateway: TestGateway;
  let admin: Client;
  beforeAll(async () => {
    gateway = await startTestGateway();
    admin = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    await gateway.admin.ok(SetSimulatorRulesDocument, {
      rules: [
        { prefix: SLOW_RECEIPTS, outcome: "DELIVERED", delayMs: 500 },
        { prefix: INACTIVE, outcome: "UNDELIVERED", errorCode: "NUMBER_INACTIVE" },
      ],
    });
  });
  afterAll(async () => {
    await admin.dispose();
    await gateway.stop();
  });

  test("the current state first (QUEUED, or SENT if the dispatcher was quicker), then SENT and DELIVERED; nothing of another challenge", async () => {
    const [mine, other] = await Promise.all([createUser(gateway), createUser(gateway)]);
    const { challenge } = await enroll(gateway, mine.id, `${SLOW_RECEIPTS}00001`, "SMS");
    const live = record(admin, DeliveryStatusDocument, { challengeId: challenge.id });
    const { challenge: otherChallenge } = await enroll(gateway, other.id, `${SLOW_RECEIPTS}00002`, "SMS");
    await live.until(reached("DELIVERED"), "DELIVERED");

    expect(live.results.every((result) => !result.errors)).toBe(true);
    expect([
      ["QUEUED", "SENT", "DELIVERED"],
      ["SENT", "DELIVERED"],
    ]).toContainEqual(statuses(live));
    const [messageId] = challenge.messages.map((message) => message.id);
    expect(live.data.map((data) => data.deliveryStatus.id)).toEqual(statuses(live).map(() => messageId));
    expect(live.data.map((data) => data.deliveryStatus.id)).not.toContain(otherChallenge.messages[0]?.id);
    expect(live.data.at(-1)?.deliveryStatus).toMatchObject({
      to: `${SLOW_RECEIPTS}00001`,
      provider: "simulator",
      errorCode: null,
      channel: "SMS",
    });
    live.stop();
  });

  test("a status that cannot be loaded ends the subscription with INTERNAL rather than going missing", async () => {
    const user = await createUser(gateway);
    const { challenge } = await enroll(gateway, user.id, `${SLOW_RECEIPTS}00003`, "SMS");
    const manager = gateway.db.manager;
    const findBy = manager.findBy.bind(manager);
    // The feed's first read passes; the load after the next publication fails once, as a dropped connection would.
    let reads = 0;
    const failing = jest.spyOn(manager, "findBy").mockImplementation(((entity: unknown, where: unknown) => {
      if (entity === Message && ++reads === 1) return Promise.reject(new Error("connection terminated"));
      return findBy(entity as never, where as never);
    }) as typeof manager.findBy);
    try {
      const live = record(admin, DeliveryStatusDocument, { challengeId: challenge.id });
      // Ended as an overflow is: a last result carrying the error, then complete.
      expect((await live.ended()).kind).toBe("complete");
      const errors = live.results.flatMap((result) => result.errors ?? []);
      expect(errors.at(-1)?.extensions).toMatchObject({ code: "INTERNAL" });
    } finally {
      failing.mockRestore();
    }
  });

  test("a subscription opened after the message is final gets its final state, once", async () => {
    const user = await createUser(gateway);
    const { challenge } = await enroll(gateway, user.id, "+447400123100", "SMS");
    const first = record(admin, DeliveryStatusDocument, { challengeId: challenge.id });
    await first.until(reached("DELIVERED"), "DELIVERED");
    first.stop();

    const late = record(admin, DeliveryStatusDocument, { challengeId: challenge.id });
    await late.count(1, "the current state");
    expect(statuses(late)).toEqual(["DELIVERED"]);
    late.stop();
  });

  test("an SMS to an inactive number arrives as UNDELIVERED with errorCode NUMBER_INACTIVE", async () => {
    const user = await createUser(gateway);
    const { challenge } = await enroll(gateway, user.id, `${INACTIVE}00001`, "SMS");
    const live = record(admin, DeliveryStatusDocument, { challengeId: challenge.id });
    await live.until(reached("UNDELIVERED"), "UNDELIVERED");
    expect(live.data.at(-1)?.deliveryStatus).toMatchObject({
      status: "UNDELIVERED",
      errorCode: "NUMBER_INACTIVE",
      id: challenge.messages[0]?.id,
    });
    expect(statuses(live)).not.toContain("DELIVERED");
    live.stop();
  });

  test("an unknown challenge is NOT_FOUND when subscribing", async () => {
    const live = record(admin, DeliveryStatusDocument, { challengeId: "chl_doesnotexist" });
    expect((await live.firstError()).extensions?.code).toBe("NOT_FOUND");
    expect(await live.ended()).toEqual({ kind: "complete" });
  });
});
