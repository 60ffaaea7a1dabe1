import { ValidateNested } from "class-validator";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { PhoneMethod } from "../phone/phone.enums";
import { EnrollmentRequirement, FactorRequirement, PolicyType, RuleAccess } from "./policy.model";
import { Length } from "../platform/text-length";

registerEnumType(PolicyType, { name: "PolicyType" });
registerEnumType(EnrollmentRequirement, { name: "EnrollmentRequirement" });
registerEnumType(FactorRequirement, { name: "FactorRequirement" });
registerEnumType(RuleAccess, { name: "RuleAccess" });

@ObjectType()
export class PolicyRule {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => Int) priority: number;
  @Field(() => [ID]) groupIds: string[];
  @Field(() => [ID]) excludedGroupIds: string[];
  @Field(() => [String]) clientIds: string[];
  @Field(() => [String], { description: "CIDR blocks or addresses, IPv4 or IPv6, matched against the client IP" })
  networkZones: string[];
  @Field(() => RuleAccess) access: RuleAccess;
  @Field(() => FactorRequirement, { nullable: true }) factorRequirement: FactorRequirement | null;
  @Field(() => [PhoneMethod], { nullable: true }) methods: PhoneMethod[] | null;
  @Field(() => Int, { nullable: true }) reauthenticateAfterMinutes: number | null;
  @Field(() => Int, { nullable: true, description: "GLOBAL_SESSION: the longest a session may live" }) sessionLifetimeMinutes: number | null;
  @Field(() => Int, { nullable: true, description: "GLOBAL_SESSION: the longest a session may sit idle" }) sessionIdleMinutes: number | null;
}

@ObjectType()
export class Policy {
  @Field(() => ID) id: string;
  @Field(() => PolicyType) type: PolicyType;
  @Field() name: string;
  @Field(() => Int) priority: number;
  @Field({ description: "the default policy of its type: lowest priority, cannot be deleted" }) isDefault: boolean;
  @Field(() => [ID]) groupIds: string[];
  @Field(() => [PolicyRule]) rules: PolicyRule[];
  @Field(() => EnrollmentRequirement, { nullable: true, description: "AUTHENTICATOR_ENROLLMENT only" }) phoneEnrollment: EnrollmentRequirement | null;
  @Field(() => [PhoneMethod], { nullable: true, description: "PASSWORD only" }) recoveryMethods: PhoneMethod[] | null;
  @Field(() => Int, { nullable: true }) maxFailedAttempts: number | null;
  @Field(() => Int, { nullable: true }) autoUnlockMinutes: number | null;
  @Field(() => Int, { nullable: true }) minLength: number | null;
  @Field(() => Int, { nullable: true, description: "a new password may not be any of the user's last this many, the current one included (0: any); 4 unless set" })
  passwordHistoryCount: number | null;
  @Field(() => Int, { nullable: true, description: "a password older than this many days must be replaced at the next sign-in (0: never expires); 0 unless set" })
  passwordMaxAgeDays: number | null;
  @Field(() => Int, {
    nullable: true,
    description: "a sign-in this many days or fewer before the password expires gets AuthTransaction.passwordExpiresAt, to prompt a change (0: never); 0 unless set",
  })
  passwordExpireWarnDays: number | null;
  @Field(() => Int, {
    nullable: true,
    description:
      "changePassword refuses a password younger than this many minutes (PASSWORD_POLICY, reason MIN_AGE:<minutes>), so that a user cannot cycle through the history back to an old one (0: at once); a recovery and the replacement of an expired password are not held to it; 0 unless set",
  })
  passwordMinAgeMinutes: number | null;
  @Field(() => Boolean, {
    nullable: true,
    description:
      "whether signIn to a locked account answers status LOCKED_OUT (Okta's showLockoutFailures); when false it fails with INVALID_CREDENTIALS whatever the password, so that locking an account with wrong passwords does not show that its login exists; true unless set",
  })
  showLockoutFailures: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireUppercase: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireLowercase: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireNumber: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireSymbol: boolean | null;
  @Field(() => Boolean, { nullable: true, description: "refuse the most common passwords (NIST 800-63B's blocklist); on unless switched off" })
  excludeCommonPasswords: boolean | null;
  @Field(() => Boolean, { nullable: true, description: "refuse passwords containing the username (the login up to its last @); on unless switched off" })
  excludeUsername: boolean | null;
  @Field(() => Boolean, { nullable: true, description: "refuse passwords containing the user's first or last name (3 characters or more); off unless switched on" })
  excludeNames: boolean | null;
}

@InputType()
export class PolicyRuleInput {
  @Field() @Length(1, 128) name: string;
  @Field(() => Int, { nullable: true }) priority?: number | null;
  @Field(() => [ID], { nullable: true }) groupIds?: string[] | null;
  @Field(() => [ID], { nullable: true }) excludedGroupIds?: string[] | null;
  @Field(() => [String], { nullable: true }) clientIds?: string[] | null;
  @Field(() => [String], { nullable: true }) networkZones?: string[] | null;
  @Field(() => RuleAccess, { nullable: true }) access?: RuleAccess | null;
  @Field(() => FactorRequirement, { nullable: true }) factorRequirement?: FactorRequirement | null;
  @Field(() => [PhoneMethod], { nullable: true }) methods?: PhoneMethod[] | null;
  @Field(() => Int, { nullable: true }) reauthenticateAfterMinutes?: number | null;
  @Field(() => Int, { nullable: true }) sessionLifetimeMinutes?: number | null;
  @Field(() => Int, { nullable: true }) sessionIdleMinutes?: number | null;
}

@InputType()
export class PolicyInput {
  @Field(() => PolicyType) type: PolicyType;
  @Field() @Length(1, 128) name: string;
  @Field(() => Int, { nullable: true }) priority?: number | null;
  @Field(() => [ID], { nullable: true }) groupIds?: string[] | null;
  @Field(() => [PolicyRuleInput], { nullable: true }) @ValidateNested({ each: true }) rules?: PolicyRuleInput[] | null;
  @Field(() => EnrollmentRequirement, { nullable: true }) phoneEnrollment?: EnrollmentRequirement | null;
  @Field(() => [PhoneMethod], { nullable: true }) recoveryMethods?: PhoneMethod[] | null;
  @Field(() => Int, { nullable: true }) maxFailedAttempts?: number | null;
  @Field(() => Int, { nullable: true }) autoUnlockMinutes?: number | null;
  @Field(() => Int, { nullable: true }) minLength?: number | null;
  @Field(() => Int, { nullable: true }) passwordHistoryCount?: number | null;
  @Field(() => Int, { nullable: true }) passwordMaxAgeDays?: number | null;
  @Field(() => Int, { nullable: true }) passwordExpireWarnDays?: number | null;
  @Field(() => Int, { nullable: true }) passwordMinAgeMinutes?: number | null;
  @Field(() => Boolean, { nullable: true }) showLockoutFailures?: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireUppercase?: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireLowercase?: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireNumber?: boolean | null;
  @Field(() => Boolean, { nullable: true }) requireSymbol?: boolean | null;
  @Field(() => Boolean, { nullable: true }) excludeCommonPasswords?: boolean | null;
  @Field(() => Boolean, { nullable: true }) excludeUsername?: boolean | null;
  @Field(() => Boolean, { nullable: true }) excludeNames?: boolean | null;
}
