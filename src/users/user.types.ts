import { IsEmail, IsOptional, Matches } from "class-validator";
import { ArgsType, Field, ID, InputType, Int } from "type-graphql";
import { connectionTypes, DEFAULT_PAGE_SIZE } from "../platform/pagination";
import { User, UserStatus } from "./user.entity";
import { Length, MaxLength } from "../platform/text-length";
import { PASSWORD_INPUT_MAX_LENGTH } from "../policies/evaluate";

/** 3 to 32 characters in all, as the column holds them, the + included. */
const PHONE_CHARACTERS = /^(?=.{3,32}$)\+?[0-9 ().-]+$/;

/**
 * The profile fields a user is created with and may later change, validated the same both
 * ways. Only its subclasses are used as arguments, so the schema shows only them.
 */
@InputType()
abstract class UserProfileInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(256)
  @IsEmail()
  email?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(128)
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(128)
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(PHONE_CHARACTERS, { message: "mobilePhone must be a phone number" })
  mobilePhone?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(35)
  locale?: string | null;
}

@InputType()
export class CreateUserInput extends UserProfileInput {
  @Field()
  @Length(1, 256)
  login: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(PASSWORD_INPUT_MAX_LENGTH)
  password?: string | null;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  groupIds?: string[] | null;

  @Field(() => Boolean, { nullable: true })
  activate?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "a temporary password: the first sign-in must choose a new one (Okta's nextLogin=changePassword)",
  })
  expirePassword?: boolean | null;
}

@InputType()
export class UpdateUserInput extends UserProfileInput {
  @Field(() => ID)
  id: string;
}

@ArgsType()
export class UsersArgs {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(256)
  search?: string | null;

  @Field(() => UserStatus, { nullable: true })
  status?: UserStatus | null;

  @Field(() => String, {
    nullable: true,
    description: "Users with a phone factor (of any status) on this number, in international format (+14155550171, +44 7400 123456)",
  })
  @IsOptional()
  @MaxLength(64)
  phoneNumber?: string | null;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE })
  first?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(512)
  after?: string | null;
}

export const UserConnection = connectionTypes(User, "User");
export type UserConnection = InstanceType<typeof UserConnection>;
