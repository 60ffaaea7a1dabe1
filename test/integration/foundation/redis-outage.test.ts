/**
 * Scale-out mode with Redis gone: the instance keeps serving, with fan-out to other instances
 * degraded and the limits counted in memory. Redis refusing connections is the case here; the
 * event target's commands then fail, and an unhandled failure would end the process.
 */
import { CreateGroupDocument, SystemLogDocument, UsersDocument } from "../../../src/generated/graphql";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { record, wsClient } from "../../support/subscriptions";

describe("Redis unreachable", () => {
  let gateway: TestGateway;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    // Nothing listens on port 1.
    gateway = await startTestGateway({ REDIS_URL: "redis://127.0.0.1:1" });
  });
  afterAll(async () => {
    await gateway.stop();
    process.off("unhandledRejection", onUnhandled);
  });

  test("writes that publish events, and subscriptions that listen, go on without ending the process", async () => {
    const client = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    const live = record(client, SystemLogDocument, {});
    await gateway.admin.ok(CreateGroupDocument, { name: "while-redis-is-down" });
    // ioredis gives up on a queued command after its first failed reconnect (about 200 ms).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await gateway.admin.ok(UsersDocument, {})).users.totalCount).toBeGreaterThanOrEqual(0);
    expect(unhandled).toEqual([]);
    live.stop();
    await client.dispose();
  });
});
