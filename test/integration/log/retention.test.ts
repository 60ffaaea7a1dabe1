import { In } from "typeorm";
import { LogEventRecord, LogEventTargetRecord } from "../../../src/log/log-event.entity";
import { ConfigError, loadConfig } from "../../../src/platform/config";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { eventAt, insertEvents } from "../../support/log";

const DAY = 86_400_000;
const target = [{ id: "usr_r", type: "User", alternateId: "r@example.com", displayName: "R" }];

describe("System Log retention (LOG_RETENTION_DAYS=30)", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ LOG_RETENTION_DAYS: "30" });
    // The job's first purge runs as the gateway starts; on a busy machine it could still be
    // pending when a test inserts its events, and take the expired one before the test's own run.
    await gateway.services.logRetention.runOnce();
  });
  afterAll(() => gateway.stop());

  const stored = async (uuids: string[]) => {
    const events = await gateway.db.manager.findBy(LogEventRecord, { uuid: In(uuids) });
    const targets = await gateway.db.manager.findBy(LogEventTargetRecord, { eventUuid: In(uuids) });
    return { events: events.map((event) => event.uuid).sort(), targets: [...new Set(targets.map((row) => row.eventUuid))].sort() };
  };

  test("a purge deletes the events older than the retention, with their targets, and keeps the rest; the clock moving on purges more", async () => {
    const now = gateway.clock.now().getTime();
    const expired = eventAt(new Date(now - 30 * DAY - 1), { target });
    const atTheLimit = eventAt(new Date(now - 30 * DAY), { target });
    const recent = eventAt(new Date(now - DAY), { target });
    await insertEvents(gateway, [expired, atTheLimit, recent]);

    expect(await gateway.services.logRetention.runOnce()).toBe(1);
    expect(await stored([expired.uuid, atTheLimit.uuid, recent.uuid])).toEqual({
      events: [atTheLimit.uuid, recent.uuid].sort(),
      targets: [atTheLimit.uuid, recent.uuid].sort(),
    });

    gateway.clock.advance(30 * DAY);
    expect(await gateway.services.logRetention.runOnce()).toBe(2);
    expect(await stored([atTheLimit.uuid, recent.uuid])).toEqual({ events: [], targets: [] });
    expect(await gateway.services.logRetention.runOnce()).toBe(0);
  });

  test("a purge larger than one batch deletes everything past retention", async () => {
    const old = new Date(gateway.clock.now().getTime() - 31 * DAY);
    const events = Array.from({ length: 2500 }, () => eventAt(old, { target }));
    await insertEvents(gateway, events);
    expect(await gateway.services.logRetention.runOnce()).toBe(2500);
    // Only these: the gateway's own events (its first admin token's creation) are younger.
    expect(await stored(events.map((event) => event.uuid))).toEqual({ events: [], targets: [] });
  });

  test("LOG_RETENTION_DAYS is 90 by default and must be a whole number of days", () => {
    expect(loadConfig({}).logRetentionDays).toBe(90);
    expect(gateway.config.logRetentionDays).toBe(30);
    expect(() => loadConfig({ LOG_RETENTION_DAYS: "0" })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_RETENTION_DAYS: "1.5" })).toThrow(ConfigError);
  });
});
