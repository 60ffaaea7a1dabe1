import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { JsonColumn, TimestampColumn } from "../platform/columns";

/** Admin overrides of the abuse limits (one row); unset keys keep their defaults. */
@Entity("security_settings")
export class SecuritySettingsRecord {
  @PrimaryColumn({ type: "integer" })
  id: number;

  @JsonColumn()
  settings: Record<string, number | null>;

  @TimestampColumn()
  updated: Date;
}

/** A fraud rule's block on a country or a number range, until it lapses. */
@Entity("fraud_blocks")
@Index("fraud_blocks_scope_key", ["scope", "key", "until"])
export class FraudBlockRecord {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  /** COUNTRY (key: ISO code) or RANGE (key: an E.164 prefix). */
  @Column({ type: "varchar", length: 16 })
  scope: "COUNTRY" | "RANGE";

  @Column({ type: "varchar", length: 20 })
  key: string;

  @Column({ type: "varchar", length: 40 })
  rule: string;

  @JsonColumn()
  figures: Record<string, number | string>;

  @TimestampColumn()
  created: Date;

  @TimestampColumn()
  until: Date;
}
