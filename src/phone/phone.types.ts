import { IsOptional } from "class-validator";
import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import { Challenge } from "./challenge.entity";
import { MAX_COUNTRY_COST_USD } from "./country-table";
import { PhoneFactor } from "./phone-factor.entity";
import { AuthenticatorStatus, AuthenticatorUsage, MessageStatus, PhoneMethod, PhoneNumberType, PhoneRejection } from "./phone.enums";
import { connectionTypes } from "../platform/pagination";
import { PLAIN_DATA } from "../platform/plain-data";
import { Length, MaxLength } from "../platform/text-length";

@ObjectType()
export class PhoneNumberCheck {
  @Field()
  input: string;

  @Field(() => String, { nullable: true })
  e164: string | null;

  @Field()
  valid: boolean;

  @Field(() => PhoneNumberType)
  type: PhoneNumberType;

  @Field(() => String, { nullable: true })
  country: string | null;

  @Field(() => [PhoneMethod], { description: "methods this number may be enrolled for, after number type, country and block checks" })
  methods: PhoneMethod[];

  @Field(() => PhoneRejection, { nullable: true })
  rejection: PhoneRejection | null;

  @Field(() => Float, { nullable: true })
  smsCostPerSegment: number | null;

  @Field(() => Float, { nullable: true })
  voiceCostPerMinute: number | null;
}

@ObjectType(PLAIN_DATA)
export class PhoneAuthenticator {
  @Field(() => AuthenticatorStatus)
  status: AuthenticatorStatus;

  @Field(() => [PhoneMethod])
  methods: PhoneMethod[];

  @Field(() => AuthenticatorUsage)
  usage: AuthenticatorUsage;

  @Field(() => Int)
  codeLength: number;

  @Field(() => Int)
  codeTtlSeconds: number;

  @Field(() => Int)
  maxAttempts: number;

  @Field(() => Int)
  resendCooldownSeconds: number;

  @Field(() => Int)
  maxResends: number;

  @Field({ description: "NIST 800-63B: VoIP numbers are refused unless this is on" })
  allowVoip: boolean;
}

@InputType()
export class PhoneAuthenticatorInput {
  @Field(() => AuthenticatorStatus, { nullable: true })
  status?: AuthenticatorStatus | null;

  @Field(() => [PhoneMethod], { nullable: true })
  methods?: PhoneMethod[] | null;

  @Field(() => AuthenticatorUsage, { nullable: true })
  usage?: AuthenticatorUsage | null;

  @Field(() => Int, { nullable: true })
  codeLength?: number | null;

  @Field(() => Int, { nullable: true })
  codeTtlSeconds?: number | null;

  @Field(() => Int, { nullable: true })
  maxAttempts?: number | null;

  @Field(() => Int, { nullable: true })
  resendCooldownSeconds?: number | null;

  @Field(() => Int, { nullable: true })
  maxResends?: number | null;

  @Field(() => Boolean, { nullable: true })
  allowVoip?: boolean | null;
}

@InputType()
export class EnrollPhoneFactorInput {
  @Field(() => ID, { nullable: true, description: "Required with an admin token; a signed-in user enrolls for themself, and may leave it out or give their own id" })
  @IsOptional()
  @MaxLength(40)
  userId?: string | null;

  @Field()
  @Length(1, 64)
  phoneNumber: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2)
  defaultCountry?: string | null;

  @Field(() => PhoneMethod)
  method: PhoneMethod;
}

@ObjectType()
export class EnrollPhoneFactorPayload {
  @Field(() => PhoneFactor)
  factor: PhoneFactor;

  @Field(() => Challenge)
  challenge: Challenge;
}

@InputType()
export class ActivatePhoneFactorInput {
  @Field(() => ID)
  @MaxLength(40)
  factorId: string;

  @Field()
  @Length(1, 32)
  code: string;
}

@InputType()
export class ChallengePhoneFactorInput {
  @Field(() => ID)
  @MaxLength(40)
  factorId: string;

  @Field(() => PhoneMethod, { nullable: true })
  method?: PhoneMethod | null;
}

@InputType()
export class ResendChallengeInput {
  @Field(() => ID)
  @MaxLength(40)
  challengeId: string;

  @Field(() => PhoneMethod, { nullable: true })
  method?: PhoneMethod | null;
}

@InputType()
export class VerifyChallengeInput {
  @Field(() => ID)
  @MaxLength(40)
  challengeId: string;

  @Field()
  @Length(1, 32)
  code: string;
}

@ObjectType({ description: "Only while the built-in simulator provider is enabled" })
export class SimulatedMessage {
  @Field(() => ID)
  id: string;

  @Field()
  to: string;

  @Field(() => PhoneMethod)
  channel: PhoneMethod;

  @Field()
  body: string;

  @Field(() => MessageStatus)
  status: MessageStatus;

  @Field()
  created: Date;
}

@InputType()
export class SimulatorRuleInput {
  @Field({ description: "E.164 prefix" })
  @MaxLength(16)
  prefix: string;

  @Field(() => MessageStatus)
  outcome: MessageStatus;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(32)
  errorCode?: string | null;

  @Field(() => Int, { nullable: true })
  delayMs?: number | null;
}

@ObjectType({ description: "A country as the phone authenticator treats it: the shipped table with an admin's override applied" })
export class Country {
  @Field({ description: "ISO 3166-1 alpha-2" })
  code: string;

  @Field()
  name: string;

  @Field({ description: "without the leading +" })
  callingCode: string;

  @Field({ description: "whether Ringfence can deliver SMS there at all: smsEnabled cannot go beyond it" })
  smsOffered: boolean;

  @Field()
  voiceOffered: boolean;

  @Field()
  smsEnabled: boolean;

  @Field()
  voiceEnabled: boolean;

  @Field(() => Float, { description: "estimated USD per SMS segment" })
  smsCostPerSegment: number;

  @Field(() => Float, { description: "estimated USD per minute of voice call" })
  voiceCostPerMinute: number;

  @Field({ description: "a known toll-fraud destination: both methods start disabled" })
  highRisk: boolean;

  @Field({ description: "whether an admin's override applies; false: the shipped values" })
  overridden: boolean;
}

@InputType({ description: "An omitted field keeps its value; null goes back to the shipped one" })
export class CountryInput {
  @Field(() => Boolean, { nullable: true })
  smsEnabled?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  voiceEnabled?: boolean | null;

  @Field(() => Float, { nullable: true, description: `USD, 0 to ${MAX_COUNTRY_COST_USD}` })
  smsCostPerSegment?: number | null;

  @Field(() => Float, { nullable: true, description: `USD, 0 to ${MAX_COUNTRY_COST_USD}` })
  voiceCostPerMinute?: number | null;
}

@ObjectType("BlockedPhoneNumber", { description: "A number an admin blocked: enrolling, challenging or resending to it is NUMBER_BLOCKED" })
export class BlockedPhoneNumberView {
  @Field({ description: "E.164" })
  phoneNumber: string;

  @Field(() => String, { nullable: true })
  reason: string | null;

  @Field({ description: "ADMIN: blocked with blockPhoneNumber. The fraud rules block countries and ranges apart (fraudBlocks), and a send they stop fails BLOCKED_SUSPICIOUS instead" })
  source: string;

  @Field()
  created: Date;

  @Field(() => Date, { nullable: true, description: "Null: until an admin lifts it" })
  expiresAt: Date | null;
}

export const BlockedPhoneNumberConnection = connectionTypes(BlockedPhoneNumberView, "BlockedPhoneNumber");
export type BlockedPhoneNumberConnection = InstanceType<typeof BlockedPhoneNumberConnection>;
