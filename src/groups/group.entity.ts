import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";

@ObjectType()
@Entity("groups")
export class Group {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Field()
  @Column({ type: "varchar", length: 128 })
  name: string;

  @Index("groups_name_normalized", { unique: true })
  @Column({ name: "name_normalized", type: "varchar", length: 128 })
  nameNormalized: string;

  @Field(() => String, { nullable: true })
  @Column({ type: "varchar", length: 1024, nullable: true })
  description: string | null;

  @TimestampColumn()
  created: Date;
}

@Entity("group_members")
@Index("group_members_user", ["userId"])
export class GroupMember {
  @PrimaryColumn({ name: "group_id", type: "varchar", length: 40 })
  groupId: string;

  @PrimaryColumn({ name: "user_id", type: "varchar", length: 40 })
  userId: string;

  @TimestampColumn()
  added: Date;
}
