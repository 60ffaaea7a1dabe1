import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";
import { FactorStatus, PhoneMethod } from "./phone.enums";

@ObjectType()
@Entity("phone_factors")
@Index("phone_factors_user_number", ["userId", "e164"], { unique: true })
@Index("phone_factors_number", ["e164"])
export class PhoneFactor {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "user_id", type: "varchar", length: 40 })
  userId: string;

  @Field(() => PhoneMethod)
  @Column({ type: "varchar", length: 8 })
  method: PhoneMethod;

  /** Always E.164; the `phoneNumber` field masks it for anyone but admins. */
  @Column({ type: "varchar", length: 20 })
  e164: string;

  @Field({ description: "ISO 3166-1 alpha-2" })
  @Column({ type: "varchar", length: 2 })
  country: string;

  @Field(() => FactorStatus)
  @Column({ type: "varchar", length: 20 })
  status: FactorStatus;

  @Field()
  @TimestampColumn()
  created: Date;

  @Field(() => Date, { nullable: true })
  @TimestampColumn({ name: "last_verified", nullable: true })
  lastVerified: Date | null;
}
