import type { ClientInfo } from "../platform/context";
import type { Clock } from "../platform/clock";
import type { Transaction } from "../platform/database";
import type { EntityStatements, RowsOf } from "../platform/entity-statements";
import type { GatewayPubSub } from "../platform/pubsub";
import { uuidv7 } from "../platform/uuid";
import type { EventType, LogResult, Severity } from "./event-types";
import type { Initiator } from "./initiator";
import { LogEventRecord, LogEventTargetRecord, type DebugContext } from "./log-event.entity";

export interface LogActor {
  id: string;
  type: "User" | "PublicClientApp" | "SystemPrincipal" | "ApiToken";
  alternateId?: string | null;
  displayName?: string | null;
}

export interface LogTarget {
  id: string;
  type: string;
  alternateId?: string | null;
  displayName?: string | null;
}

export interface LogEventInput {
  eventType: EventType;
  displayMessage: string;
  severity?: Severity;
  actor: LogActor;
  target?: LogTarget[];
  outcome: { result: LogResult; reason?: string | null };
  client?: ClientInfo | null;
  debugContext?: DebugContext | null;
  transactionId?: string | null;
}

/** An administrative change, which succeeded: a change refused is rolled back, and so would its event be. */
export interface ChangeEvent {
  eventType: EventType;
  displayMessage: string;
  target: LogTarget[];
  debugContext?: DebugContext | null;
}

/** The length of the log's name columns (alternate ids, display names). */
const NAME_LENGTH = 256;

/**
 * Cut to `max` characters as PostgreSQL counts them (code points), for a column of that
 * length: a display name is made of fields each within its own limit, and the whole may not be.
 */
function clipped(text: string | null | undefined, max = NAME_LENGTH): string | null {
  if (text == null) return null;
  return text.length <= max ? text : Array.from(text).slice(0, max).join("");
}

/** An event's targets as their table's rows, in order. */
export function targetRows(eventUuid: string, targets: readonly LogTarget[]): LogEventTargetRecord[] {
  return targets.map((target, position) => ({
    eventUuid,
    position,
    id: target.id,
    type: target.type,
    alternateId: clipped(target.alternateId),
    displayName: clipped(target.displayName),
  }));
}

export const SYSTEM_ACTOR: LogActor = { id: "ringfence", type: "SystemPrincipal", displayName: "Ringfence" };

/**
 * Writes System Log events inside the caller's transaction, so an event exists exactly when
 * the change it records does, and publishes each one only after that transaction commits.
 */
export class LogService {
  constructor(
    private readonly clock: Clock,
    private readonly pubsub: GatewayPubSub,
    private readonly statements: EntityStatements,
  ) {}

  /** `alongside`: rows of other tables written in the event's statement (one round trip on PostgreSQL). */
  async record(tx: Transaction, event: LogEventInput, alongside: readonly RowsOf[] = []): Promise<LogEventRecord> {
    const published = this.clock.now();
    // A plain instance: TypeORM's create() walks the entity metadata, three times a passcode round trip.
    const record = Object.assign(new LogEventRecord(), {
      uuid: uuidv7(published),
      published,
      eventType: event.eventType,
      severity: event.severity ?? (event.outcome.result === "FAILURE" ? "WARN" : "INFO"),
      displayMessage: event.displayMessage.slice(0, 512),
      actorId: event.actor.id,
      actorType: event.actor.type,
      actorAlternateId: clipped(event.actor.alternateId),
      actorDisplayName: clipped(event.actor.displayName),
      outcomeResult: event.outcome.result,
      outcomeReason: event.outcome.reason ?? null,
      clientIp: event.client?.ipAddress ?? null,
      clientUserAgent: event.client?.userAgent?.slice(0, 512) ?? null,
      transactionId: event.transactionId ?? null,
      debugContext: event.debugContext ?? null,
    });
    // The event and its targets (one to three) in one statement on PostgreSQL, which goes with
    // the transaction's COMMIT: nothing in a transaction reads its own events back, and the
    // statement would otherwise be a round trip of its own.
    const inserts = [{ entity: LogEventRecord, rows: [record] }, { entity: LogEventTargetRecord, rows: targetRows(record.uuid, event.target ?? []) }, ...alongside];
    const later = tx.commitWith ? this.statements.insertAllLater(inserts) : null;
    if (tx.commitWith && later) tx.commitWith(later);
    else await this.statements.insertAll(tx.manager, inserts);
    tx.afterCommit(() => this.pubsub.publish("LOG_EVENT", { uuid: record.uuid }));
    return record;
  }

  recordChange(tx: Transaction, initiator: Initiator, change: ChangeEvent): Promise<LogEventRecord> {
    return this.record(tx, { ...change, actor: initiator.actor, client: initiator.client, outcome: { result: "SUCCESS" } });
  }
}
