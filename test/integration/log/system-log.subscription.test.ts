import { once } from "node:events";
import type { Client } from "graphql-ws";
import {
  ActivatePhoneFactorDocument,
  ChallengePhoneFactorDocument,
  LogsDocument,
  SignInDocument,
  SystemLogDocument,
  VerifyChallengeDocument,
  type LogEventFieldsFragment,
} from "../../../src/generated/graphql";
import { withTimeout } from "../../support/deferred";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { recordMarker, subscribeSystemLog } from "../../support/log";
import { createUser, enroll, receivedCode, settleMessages } from "../../support/phone";
import { record, wsClient, type RecordedSubscription } from "../../support/subscriptions";
import { PASSWORD, passwordOnly } from "../../support/transactions";
import type { SystemLogSubscription } from "../../../src/generated/graphql";

const SMS_EVENTS = 'eventType sw "system.sms"';

const received = (live: RecordedSubscription<SystemLogSubscription>): LogEventFieldsFragment[] => live.data.map((data) => data.systemLog);
const hasReceived = (uuid: string) => (results: { data?: SystemLogSubscription | null }[]) =>
  results.some((result) => result.data?.systemLog.uuid === uuid);

/** The events strictly between two markers, in the order given. */
function between<T extends { uuid: string }>(events: T[], first: string, last: string): T[] {
  const start = events.findIndex((event) => event.uuid === first);
  const end = events.findIndex((event) => event.uuid === last);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  return events.slice(start + 1, end);
}

describe("systemLog: a dashboard's live System Log", () => {
  let gateway: TestGateway;
  let dashboard: Client;
  beforeAll(async () => {
    gateway = await startTestGateway();
    dashboard = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
  });
  afterAll(async () => {
    await dashboard.dispose();
    await gateway.stop();
  });

  test("receives exactly the events of an SMS enroll and verify that match its filter, in the order the logs query gives", async () => {
    const live = await subscribeSystemLog(gateway, dashboard, SMS_EVENTS);
    const everything = await subscribeSystemLog(gateway, dashboard);
    const start = await recordMarker(gateway, "start");
    await live.until(hasReceived(start), "the start marker");
    await everything.until(hasReceived(start), "the start marker, unfiltered");

    const user = await createUser(gateway);
    const { factor } = await enroll(gateway, user.id, "+447400123001", "SMS");
    await gateway.admin.ok(ActivatePhoneFactorDocument, {
      input: { factorId: factor.id, code: await receivedCode(gateway, "+447400123001") },
    });
    const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const code = await receivedCode(gateway, "+447400123001");
    await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code } });
    await settleMessages(gateway);
    const end = await recordMarker(gateway, "end");
    await live.until(hasReceived(end), "the end marker");
    await everything.until(hasReceived(end), "the end marker, unfiltered");

    const { logs } = await gateway.admin.ok(LogsDocument, { filter: SMS_EVENTS, first: 1000 });
    const expected = between(
      logs.edges.map((edge) => edge.node),
      start,
      end,
    );
    const matching = between(received(live), start, end);
    expect(matching).toEqual(expected);
    expect(matching.map((event) => event.eventType).sort()).toEqual([
      "system.sms.receive_status",
      "system.sms.receive_status",
      "system.sms.send_factor_verify_message",
      "system.sms.send_phone_verification_message",
    ]);
    expect(matching.every((event) => event.debugContext !== null && typeof event.debugContext === "object")).toBe(true);

    // The unfiltered subscription saw the rest of the flow too, and the filtered one none of it.
    const all = between(received(everything), start, end);
    expect(all.map((event) => event.eventType)).toEqual(
      expect.arrayContaining(["user.mfa.factor.activate", "user.authentication.auth_via_mfa"]),
    );
    expect(all.filter((event) => event.eventType.startsWith("system.sms")).map((event) => event.uuid)).toEqual(
      matching.map((event) => event.uuid),
    );
    live.stop();
    everything.stop();
  });

  test("a bad filter is refused when subscribing, with BAD_FILTER and its position", async () => {
    const live = record(dashboard, SystemLogDocument, { filter: 'eventType eq "a" and actor.email eq "b"' });
    const error = await live.firstError();
    expect(error.extensions).toMatchObject({ code: "BAD_FILTER", position: 21, reason: 'unknown attribute "actor.email"' });
    expect(await live.ended()).toEqual({ kind: "complete" });
    expect(gateway.services.liveLog.subscriberCount).toBe(0);
  });

  test("an empty or blank filter means every event", async () => {
    const live = await subscribeSystemLog(gateway, dashboard, "   ");
    const marker = await recordMarker(gateway, "blank filter");
    await live.until(hasReceived(marker), "the marker");
    live.stop();
  });

  test("the public gets UNAUTHENTICATED and a signed-in user FORBIDDEN, when subscribing", async () => {
    const anonymous = wsClient(gateway);
    try {
      const live = record(anonymous, SystemLogDocument, { filter: SMS_EVENTS });
      expect((await live.firstError()).extensions?.code).toBe("UNAUTHENTICATED");
      expect(await live.ended()).toEqual({ kind: "complete" });
    } finally {
      await anonymous.dispose();
    }

    await passwordOnly(gateway);
    const user = await createUser(gateway, { password: PASSWORD });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const signedIn = wsClient(gateway, `Bearer ${signIn.sessionToken}`);
    try {
      const live = record(signedIn, SystemLogDocument, {});
      expect((await live.firstError()).extensions?.code).toBe("FORBIDDEN");
    } finally {
      await signedIn.dispose();
    }
  });

  test("an unsubscribed dashboard is forgotten at once", async () => {
    const before = gateway.services.liveLog.subscriberCount;
    const live = await subscribeSystemLog(gateway, dashboard);
    expect(gateway.services.liveLog.subscriberCount).toBe(before + 1);
    const closed = once(gateway.events, "systemLog:closed");
    live.stop();
    await withTimeout(closed, 5_000, "the server to let the subscription go");
    expect(gateway.services.liveLog.subscriberCount).toBe(before);
  });

  test("an event that cannot be loaded ends the feeds that were to get it, with INTERNAL, rather than going missing from them", async () => {
    const live = await subscribeSystemLog(gateway, dashboard);
    const ready = await recordMarker(gateway, "before the failure");
    await live.until(hasReceived(ready), "the marker before the failure");
    const failing = jest.spyOn(gateway.services.logQueries, "loadEvents").mockRejectedValueOnce(new Error("connection terminated"));
    try {
      await recordMarker(gateway, "lost to a failed load");
      expect((await live.ended()).kind).toBe("complete");
      expect(live.results.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: "INTERNAL" });
    } finally {
      failing.mockRestore();
    }
  });
});
