import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../../platform/columns";
import type { MessageStatus, PhoneMethod } from "../../phone/phone.enums";

/** The simulator's handset inbox: what a real phone would have received. */
@Entity("simulator_messages")
@Index("simulator_messages_to", ["toE164", "created"])
export class SimulatorMessageRecord {
  @PrimaryColumn({ type: "varchar", length: 64 })
  id: string;

  /** The attempt's idempotency key: a second hand-over of the same attempt is the same message. */
  @Index("simulator_messages_idempotency", { unique: true })
  @Column({ name: "idempotency_key", type: "varchar", length: 64 })
  idempotencyKey: string;

  @Column({ name: "to_e164", type: "varchar", length: 20 })
  toE164: string;

  @Column({ type: "varchar", length: 8 })
  channel: PhoneMethod;

  @Column({ type: "text" })
  body: string;

  @Column({ type: "varchar", length: 12 })
  status: MessageStatus;

  @TimestampColumn()
  created: Date;
}

@Entity("simulator_rules")
export class SimulatorRuleRecord {
  @PrimaryColumn({ type: "integer" })
  position: number;

  @Column({ type: "varchar", length: 20 })
  prefix: string;

  @Column({ type: "varchar", length: 12 })
  outcome: MessageStatus;

  @Column({ name: "error_code", type: "varchar", length: 32, nullable: true })
  errorCode: string | null;

  @Column({ name: "delay_ms", type: "integer", nullable: true })
  delayMs: number | null;
}
