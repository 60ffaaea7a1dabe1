import { IsOptional } from "class-validator";
import { GraphQLJSON } from "graphql-scalars";
import { ArgsType, Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "../platform/pagination";
import { PhoneMethod } from "../phone/phone.enums";
import type { LogResult as LogResultValue, Severity as SeverityValue } from "./event-types";
import type { DebugContext } from "./log-event.entity";
import { PLAIN_DATA } from "../platform/plain-data";
import { MaxLength } from "../platform/text-length";

export const Severity: { readonly [K in SeverityValue]: K } = { DEBUG: "DEBUG", INFO: "INFO", WARN: "WARN", ERROR: "ERROR" };
export type Severity = SeverityValue;

export const LogResult: { readonly [K in LogResultValue]: K } = {
  SUCCESS: "SUCCESS",
  FAILURE: "FAILURE",
  SKIPPED: "SKIPPED",
  ALLOW: "ALLOW",
  DENY: "DENY",
  CHALLENGE: "CHALLENGE",
  UNKNOWN: "UNKNOWN",
};
export type LogResult = LogResultValue;

export const SortOrder = { ASCENDING: "ASCENDING", DESCENDING: "DESCENDING" } as const;
export type SortOrder = keyof typeof SortOrder;

registerEnumType(Severity, { name: "Severity" });
registerEnumType(LogResult, { name: "LogResult" });
registerEnumType(SortOrder, { name: "SortOrder" });

@ObjectType(PLAIN_DATA)
export class LogActor {
  @Field()
  id: string;

  @Field()
  type: string;

  @Field(() => String, { nullable: true })
  alternateId: string | null;

  @Field(() => String, { nullable: true })
  displayName: string | null;
}

@ObjectType(PLAIN_DATA)
export class LogTarget {
  @Field()
  id: string;

  @Field()
  type: string;

  @Field(() => String, { nullable: true })
  alternateId: string | null;

  @Field(() => String, { nullable: true })
  displayName: string | null;
}

@ObjectType(PLAIN_DATA)
export class LogOutcome {
  @Field(() => LogResult)
  result: LogResult;

  @Field(() => String, { nullable: true })
  reason: string | null;
}

@ObjectType(PLAIN_DATA)
export class LogClient {
  @Field(() => String, { nullable: true })
  ipAddress: string | null;

  @Field(() => String, { nullable: true })
  userAgent: string | null;
}

/** A System Log event as the API shows it; also the shape matchesLogFilter reads. */
@ObjectType(PLAIN_DATA)
export class LogEvent {
  @Field(() => ID)
  uuid: string;

  @Field()
  published: Date;

  @Field()
  eventType: string;

  @Field()
  displayMessage: string;

  @Field(() => Severity)
  severity: Severity;

  @Field(() => LogActor)
  actor: LogActor;

  @Field(() => [LogTarget])
  target: LogTarget[];

  @Field(() => LogOutcome)
  outcome: LogOutcome;

  @Field(() => LogClient, { nullable: true })
  client: LogClient | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: "e.g. provider, providerStatus, messageId, segments, encoding, country, errorCode",
  })
  debugContext: DebugContext | null;

  @Field(() => String, { nullable: true })
  transactionId: string | null;
}

@ObjectType(PLAIN_DATA)
export class LogEdge {
  @Field(() => LogEvent)
  node: LogEvent;

  @Field()
  cursor: string;
}

@ObjectType(PLAIN_DATA)
export class LogConnection {
  @Field(() => [LogEdge])
  edges: LogEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

export const DEFAULT_LOG_PAGE_SIZE = 100;
export const MAX_LOG_PAGE_SIZE = 1000;

@ArgsType()
export class LogsArgs {
  @Field(() => String, { nullable: true })
  filter?: string | null;

  @Field(() => String, { nullable: true, description: "keywords, each of which must appear (any case) in the message, actor or a target" })
  @IsOptional()
  @MaxLength(256)
  q?: string | null;

  @Field(() => Date, { nullable: true, description: "inclusive; default: 7 days before until" })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: "exclusive; default: everything published up to now" })
  until?: Date | null;

  @Field(() => SortOrder, { nullable: true, description: "by published, then uuid; default ASCENDING" })
  sortOrder?: SortOrder | null;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_LOG_PAGE_SIZE, description: `at most ${MAX_LOG_PAGE_SIZE}` })
  first?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(512)
  after?: string | null;
}

@ObjectType()
export class UsagePurposeCounts {
  @Field(() => Int)
  phoneVerification: number;

  @Field(() => Int)
  factorVerify: number;

  @Field(() => Int)
  passwordReset: number;

  @Field(() => Int)
  accountUnlock: number;
}

@ObjectType()
export class UsageRow {
  @Field({ description: "YYYY-MM" })
  month: string;

  @Field(() => PhoneMethod)
  channel: PhoneMethod;

  @Field(() => Int)
  domestic: number;

  @Field(() => Int)
  international: number;

  @Field(() => UsagePurposeCounts)
  byPurpose: UsagePurposeCounts;

  @Field(() => Int, { description: "SMS segments; for VOICE, call minutes" })
  segments: number;

  @Field(() => Float, { description: "US dollars, as estimated when each message was queued" })
  estimatedCost: number;

  @Field(() => Int, {
    description:
      "messages queued that no provider was ever offered: stopped by the fraud rules, or failed before any provider was tried (no route, every circuit open); not in the counts, segments or cost above, as nobody bills for them",
  })
  notSent: number;
}

@ObjectType()
export class UsageReport {
  @Field(() => [UsageRow], { description: "one row per month and channel, zeros included, oldest month first" })
  rows: UsageRow[];
}
