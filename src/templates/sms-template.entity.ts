import { Column, Entity, PrimaryColumn } from "typeorm";
import { JsonColumn, TimestampColumn } from "../platform/columns";
import type { ChallengePurpose, TemplateTranslation } from "./defaults";

/** An admin's SMS template for one purpose; a purpose without a row sends the defaults. */
@Entity("sms_templates")
export class SmsTemplateRecord {
  @PrimaryColumn({ type: "varchar", length: 24 })
  purpose: ChallengePurpose;

  @Column({ type: "text" })
  template: string;

  /** Locales canonical (BCP 47) and unique; they replace the default translations entirely. */
  @JsonColumn()
  translations: TemplateTranslation[];

  /**
   * Imported from before length validation existed: sent as written, concatenated when long,
   * until an admin saves the template again and it must pass validation like any other.
   */
  @Column({ type: "boolean" })
  legacy: boolean;

  @TimestampColumn()
  updated: Date;
}
