import { Field, ID, ObjectType } from "type-graphql";
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { TimestampColumn } from "../platform/columns";

@ObjectType()
@Entity("api_tokens")
export class ApiToken {
  @Field(() => ID)
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Field()
  @Column({ type: "varchar", length: 128 })
  name: string;

  /** SHA-256 of the token; the token itself is shown once and never kept. */
  @Index("api_tokens_hash", { unique: true })
  @Column({ name: "token_hash", type: "varchar", length: 64 })
  tokenHash: string;

  @Field()
  @TimestampColumn()
  created: Date;

  @Field(() => Date, { nullable: true })
  @TimestampColumn({ name: "last_used", nullable: true })
  lastUsed: Date | null;

  @TimestampColumn({ nullable: true })
  revoked: Date | null;
}

@ObjectType({ description: "Returned once, when the token is made; only a hash is kept" })
export class CreatedApiToken {
  @Field()
  token: string;

  @Field(() => ApiToken)
  apiToken: ApiToken;
}
