/**
 * Threat: a revoked admin token that keeps reading the System Log. A WebSocket is
 * authenticated once, when it connects; its subscriptions could otherwise outlive the token
 * by days. Each subscription re-checks its credential before handing over an event, at most
 * every 30 seconds (by the gateway's clock), and ends with UNAUTHENTICATED once it is revoked;
 * one that gets no event is ended by the sweep that runs every 30 seconds.
 */
import type { Client } from "graphql-ws";
import { CreateApiTokenDocument, RevokeApiTokenDocument, SystemLogDocument } from "../../../src/generated/graphql";
import { REVALIDATE_AFTER_MS } from "../../../src/auth/credential-revalidation";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { recordMarker, subscribeSystemLog } from "../../support/log";
import { record, wsClient } from "../../support/subscriptions";

describe("systemLog with a token revoked after subscribing", () => {
  let gateway: TestGateway;
  let dashboard: Client;
  let tokenId: string;
  beforeAll(async () => {
    gateway = await startTestGateway();
    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "dashboard" });
    tokenId = createApiToken.apiToken.id;
    dashboard = wsClient(gateway, `SSWS ${createApiToken.token}`);
  });
  afterAll(async () => {
    await dashboard.dispose();
    await gateway.stop();
  });

  test("the subscription ends with UNAUTHENTICATED, at the first event once the last check is 30 s old, and no new one opens", async () => {
    // Matches nothing, so it is never re-checked: it keeps the socket, authenticated at connect, open.
    const idle = await subscribeSystemLog(gateway, dashboard, 'eventType eq "nothing.at.all"');
    const live = await subscribeSystemLog(gateway, dashboard);
    const seen = (uuid: string) => live.data.some((data) => data.systemLog.uuid === uuid);
    const before = await recordMarker(gateway, "before revocation");
    await live.until(() => seen(before), "an event before revocation");

    await gateway.admin.ok(RevokeApiTokenDocument, { id: tokenId });
    // Inside the 30 s since the last check, the revocation may not be known yet: that is the bound.
    const within = await recordMarker(gateway, "within the window");
    await live.until(() => seen(within), "an event within the window");

    gateway.clock.advance(REVALIDATE_AFTER_MS);
    const after = await recordMarker(gateway, "after the window");
    const error = await live.firstError();
    expect(error.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await live.ended()).toEqual({ kind: "complete" });
    expect(seen(after)).toBe(false);
    expect(gateway.services.liveLog.subscriberCount).toBe(1);

    // The same socket, still open, cannot start a new one: refused before it runs.
    const again = record(dashboard, SystemLogDocument, {});
    expect(await again.ended()).toEqual({
      kind: "error",
      error: [expect.objectContaining({ extensions: expect.objectContaining({ code: "UNAUTHENTICATED" }) })],
    });
    idle.stop();
  });

  test("a subscription that gets no event ends with UNAUTHENTICATED at the sweep after its token is revoked", async () => {
    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "quiet dashboard" });
    const quiet = wsClient(gateway, `SSWS ${createApiToken.token}`);
    const admin = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    try {
      const idle = await subscribeSystemLog(gateway, quiet, 'eventType eq "nothing.at.all"');
      const untouched = await subscribeSystemLog(gateway, admin, 'eventType eq "nothing.at.all"');
      await gateway.admin.ok(RevokeApiTokenDocument, { id: createApiToken.apiToken.id });
      gateway.clock.advance(REVALIDATE_AFTER_MS);
      await gateway.services.credentialSweep.runOnce();
      expect((await idle.firstError()).extensions?.code).toBe("UNAUTHENTICATED");
      expect(await idle.ended()).toEqual({ kind: "complete" });
      expect(untouched.results.filter((result) => result.errors?.length)).toEqual([]);
      untouched.stop();
    } finally {
      await quiet.dispose();
      await admin.dispose();
    }
  });
});
