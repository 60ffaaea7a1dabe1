import { IsOptional } from "class-validator";
import { Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import { Challenge } from "../phone/challenge.entity";
import { PhoneMethod } from "../phone/phone.enums";
import { TransactionStatus } from "./auth-transaction.entity";
import { Length, MaxLength } from "../platform/text-length";
import { PASSWORD_INPUT_MAX_LENGTH } from "../policies/evaluate";

registerEnumType(TransactionStatus, { name: "TransactionStatus" });

@ObjectType()
export class FactorOption {
  @Field(() => ID) factorId: string;
  @Field(() => PhoneMethod) method: PhoneMethod;
  @Field({ description: "masked" }) phoneNumber: string;
}

@ObjectType()
export class TransactionUser {
  @Field(() => ID) id: string;
  @Field() login: string;
  @Field(() => String, { nullable: true }) firstName: string | null;
  @Field() locale: string;
}

@ObjectType()
export class AuthTransaction {
  @Field() stateHandle: string;
  @Field(() => TransactionStatus) status: TransactionStatus;
  @Field() expiresAt: Date;
  @Field(() => TransactionUser, { nullable: true }) user: TransactionUser | null;
  @Field(() => [FactorOption], { description: "enrolled factors the policy allows here; phone numbers masked" }) factors: FactorOption[];
  @Field(() => [PhoneMethod], { description: "methods the user may enroll, where status is MFA_ENROLL" }) enrollMethods: PhoneMethod[];
  @Field(() => Challenge, { nullable: true }) challenge: Challenge | null;
  @Field(() => String, { nullable: true, description: "set when a sign-in reaches SUCCESS, a password reset's included; null after an account unlock's SUCCESS, which signs no one in, as in Okta" }) sessionToken: string | null;
  @Field(() => Date, {
    nullable: true,
    description:
      "set on a SUCCESS sign-in when the password expires within the password policy's passwordExpireWarnDays (Okta's PASSWORD_WARN): the time to prompt for changePassword",
  })
  passwordExpiresAt: Date | null;
}

@InputType()
export class SignInInput {
  @Field() @Length(1, 256) login: string;
  @Field() @Length(1, PASSWORD_INPUT_MAX_LENGTH) password: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(128) clientId?: string | null;
}

@InputType()
export class TransactionChallengeInput {
  @Field() @Length(1, 128) stateHandle: string;
  @Field(() => ID) @MaxLength(40) factorId: string;
  @Field(() => PhoneMethod, { nullable: true }) method?: PhoneMethod | null;
}

@InputType()
export class TransactionEnrollInput {
  @Field() @Length(1, 128) stateHandle: string;
  @Field() @Length(1, 64) phoneNumber: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2) defaultCountry?: string | null;
  @Field(() => PhoneMethod) method: PhoneMethod;
}

@InputType()
export class TransactionCodeInput {
  @Field() @Length(1, 128) stateHandle: string;
  @Field() @Length(1, 32) code: string;
}

@InputType()
export class TransactionResendInput {
  @Field() @Length(1, 128) stateHandle: string;
  @Field(() => PhoneMethod, { nullable: true }) method?: PhoneMethod | null;
}

@InputType()
export class RecoveryInput {
  @Field() @Length(1, 256) login: string;
  @Field(() => PhoneMethod) method: PhoneMethod;
}

@InputType()
export class ChangePasswordInput {
  @Field() @Length(1, PASSWORD_INPUT_MAX_LENGTH) currentPassword: string;
  @Field() @Length(1, PASSWORD_INPUT_MAX_LENGTH) newPassword: string;
}

@InputType()
export class ResetPasswordInput {
  @Field() @Length(1, 128) stateHandle: string;
  @Field() @Length(1, PASSWORD_INPUT_MAX_LENGTH) newPassword: string;
}
