import { once } from "node:events";
import type { Client } from "graphql-ws";
import { SystemLogDocument, type SystemLogSubscription } from "../../src/generated/graphql";
import { EventType } from "../../src/log/event-types";
import { LogEventRecord, LogEventTargetRecord, type DebugContext } from "../../src/log/log-event.entity";
import { SYSTEM_ACTOR, targetRows } from "../../src/log/log.service";
import { uuidv7 } from "../../src/platform/uuid";
import type { LogEventShape } from "../../src/log/filter";
import { withTimeout } from "./deferred";
import type { TestGateway } from "./gateway";
import { record, type RecordedSubscription } from "./subscriptions";

/**
 * Writes an event through the LogService (so it is published like any other) whose only job is
 * to be seen: a live subscriber that has received it is known to be listening, and events
 * between two markers are exactly those published between them. `system.sms.fraud_blocked`
 * because it matches the `system.sms` filters the tests use.
 */
export async function recordMarker(gateway: TestGateway, label: string, debugContext: DebugContext | null = null): Promise<string> {
  const record = await gateway.db.transaction((tx) =>
    gateway.services.log.record(tx, {
      eventType: EventType.SMS_FRAUD_BLOCKED,
      displayMessage: `test marker ${label}`,
      actor: SYSTEM_ACTOR,
      outcome: { result: "SKIPPED" },
      debugContext,
    }),
  );
  return record.uuid;
}

/** Stores events as they are, without publishing them: for queries over chosen times and values. */
export async function insertEvents(gateway: TestGateway, events: readonly LogEventShape[]): Promise<void> {
  await gateway.db.transaction(async ({ manager }) => {
    for (const event of events) {
      await manager.insert(LogEventRecord, {
        uuid: event.uuid,
        published: event.published,
        eventType: event.eventType,
        severity: event.severity,
        displayMessage: event.displayMessage,
        actorId: event.actor.id,
        actorType: event.actor.type,
        actorAlternateId: event.actor.alternateId ?? null,
        actorDisplayName: event.actor.displayName ?? null,
        outcomeResult: event.outcome.result,
        outcomeReason: event.outcome.reason ?? null,
        clientIp: event.client?.ipAddress ?? null,
        clientUserAgent: event.client?.userAgent ?? null,
        transactionId: event.transactionId ?? null,
        // Fixtures hold nested values on purpose; the column keeps any JSON.
        debugContext: (event.debugContext ?? null) as DebugContext | null,
      });
      if (event.target.length) {
        await manager.insert(LogEventTargetRecord, targetRows(event.uuid, event.target));
      }
    }
  });
}

/** An event published at `published`, with a time-ordered uuid; `overrides` for the rest. */
export function eventAt(published: Date, overrides: Partial<LogEventShape> = {}): LogEventShape {
  return {
    uuid: uuidv7(published),
    published,
    eventType: "user.session.start",
    severity: "INFO",
    displayMessage: "User login to Ringfence",
    actor: { id: "usr_test", type: "User", alternateId: "alice@example.com", displayName: "Alice" },
    target: [],
    outcome: { result: "SUCCESS" },
    ...overrides,
  };
}

const patchedFeeds = new WeakSet<object>();

/**
 * Subscribes to systemLog and resolves once the server has registered the subscription, so
 * that every event published afterwards is known to reach it. The feed's `open` is wrapped
 * (once per gateway) to say so on `gateway.events`, as the test gateway does for publications;
 * "systemLog:closed" follows when the server lets a subscription go.
 */
export async function subscribeSystemLog(
  gateway: TestGateway,
  client: Client,
  filter?: string | null,
): Promise<RecordedSubscription<SystemLogSubscription>> {
  const feed = gateway.services.liveLog;
  if (!patchedFeeds.has(feed)) {
    patchedFeeds.add(feed);
    const open = feed.open.bind(feed);
    feed.open = (...args: Parameters<typeof open>) => {
      const channel = open(...args);
      const close = channel.return.bind(channel);
      channel.return = () => {
        const closed = close();
        gateway.events.emit("systemLog:closed");
        return closed;
      };
      gateway.events.emit("systemLog:opened");
      return channel;
    };
  }
  const opened = once(gateway.events, "systemLog:opened");
  const live = record(client, SystemLogDocument, filter === undefined ? {} : { filter });
  await withTimeout(opened, 10_000, "the systemLog subscription to open");
  return live;
}
