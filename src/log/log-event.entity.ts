import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { JsonColumn, TimestampColumn } from "../platform/columns";

/** Flat key/value pairs, as Okta keeps them (debugContext.debugData). */
export type DebugContext = Record<string, string | number | boolean | null>;

/** A System Log event in Okta's shape, flattened into columns the filter language compiles to. */
@Entity("log_events")
@Index("log_events_published", ["published", "uuid"])
@Index("log_events_type_published", ["eventType", "published"])
@Index("log_events_actor_published", ["actorId", "published"])
@Index("log_events_transaction", ["transactionId"])
// Few distinct values, but the rare ones (ERROR, DENY) are what a dashboard filters on: without
// these, such a page reads every event of its window.
@Index("log_events_severity_published", ["severity", "published"])
@Index("log_events_outcome_published", ["outcomeResult", "published"])
export class LogEventRecord {
  /** UUIDv7: sorts by time, so (published, uuid) is insertion order. */
  @PrimaryColumn({ type: "varchar", length: 36 })
  uuid: string;

  @TimestampColumn()
  published: Date;

  @Column({ name: "event_type", type: "varchar", length: 96 })
  eventType: string;

  @Column({ type: "varchar", length: 8 })
  severity: string;

  @Column({ name: "display_message", type: "varchar", length: 512 })
  displayMessage: string;

  @Column({ name: "actor_id", type: "varchar", length: 64 })
  actorId: string;

  @Column({ name: "actor_type", type: "varchar", length: 32 })
  actorType: string;

  @Column({ name: "actor_alternate_id", type: "varchar", length: 256, nullable: true })
  actorAlternateId: string | null;

  @Column({ name: "actor_display_name", type: "varchar", length: 256, nullable: true })
  actorDisplayName: string | null;

  @Column({ name: "outcome_result", type: "varchar", length: 16 })
  outcomeResult: string;

  @Column({ name: "outcome_reason", type: "varchar", length: 256, nullable: true })
  outcomeReason: string | null;

  @Column({ name: "client_ip", type: "varchar", length: 64, nullable: true })
  clientIp: string | null;

  @Column({ name: "client_user_agent", type: "varchar", length: 512, nullable: true })
  clientUserAgent: string | null;

  @Column({ name: "transaction_id", type: "varchar", length: 64, nullable: true })
  transactionId: string | null;

  @JsonColumn({ name: "debug_context", nullable: true })
  debugContext: DebugContext | null;
}

@Entity("log_event_targets")
// (id, event_uuid) rather than (id): "is this event about target X" is then one index probe.
@Index("log_event_targets_id_event", ["id", "eventUuid"])
export class LogEventTargetRecord {
  @PrimaryColumn({ name: "event_uuid", type: "varchar", length: 36 })
  eventUuid: string;

  @PrimaryColumn({ type: "integer" })
  position: number;

  @Column({ type: "varchar", length: 64 })
  id: string;

  @Column({ type: "varchar", length: 32 })
  type: string;

  @Column({ name: "alternate_id", type: "varchar", length: 256, nullable: true })
  alternateId: string | null;

  @Column({ name: "display_name", type: "varchar", length: 256, nullable: true })
  displayName: string | null;
}
