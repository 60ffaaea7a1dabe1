import { GraphQLJSON } from "graphql-scalars";
import { Arg, Authorized, Ctx, Field, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from "type-graphql";
import { Role } from "../auth/authorization";
import { initiatorOf } from "../log/initiator";
import { PhoneFactor } from "../phone/phone-factor.entity";
import type { Context } from "../platform/context";
import type { Services } from "../platform/services";
import type { SecuritySettings } from "./security-settings";

/** The abuse limits in force (src/security/security-settings.ts documents each one). */
@ObjectType()
export class SecuritySettingsView implements SecuritySettings {
  @Field(() => Int) sendsPerNumberPer30s: number;
  @Field(() => Int) sendsPerNumberPer10m: number;
  @Field(() => Int) sendsPerUserPerHour: number;
  @Field(() => Int) sendsPerCountryPerMinute: number;
  @Field(() => Int) publicRequestsPerIpPerMinute: number;
  @Field(() => Int) maxConsecutiveFailedPasscodes: number;
  @Field(() => Float) dailySpendCapUsd: number;
  @Field(() => Float) monthlySpendCapUsd: number;
  @Field(() => Int) pumpingCountryBurst: number;
  @Field(() => Int) pumpingRangeBurst: number;
  @Field(() => Int) pumpingWindowMinutes: number;
  @Field(() => Int) pumpingRatioMinimumSends: number;
  @Field(() => Int) pumpingMinimumVerifyPercent: number;
  @Field(() => Int) fraudBlockMinutes: number;
}

/** Null puts a limit back to its default. */
@InputType()
export class SecuritySettingsInput implements Partial<Record<keyof SecuritySettings, number | null>> {
  @Field(() => Int, { nullable: true }) sendsPerNumberPer30s?: number | null;
  @Field(() => Int, { nullable: true }) sendsPerNumberPer10m?: number | null;
  @Field(() => Int, { nullable: true }) sendsPerUserPerHour?: number | null;
  @Field(() => Int, { nullable: true }) sendsPerCountryPerMinute?: number | null;
  @Field(() => Int, { nullable: true }) publicRequestsPerIpPerMinute?: number | null;
  @Field(() => Int, { nullable: true }) maxConsecutiveFailedPasscodes?: number | null;
  @Field(() => Float, { nullable: true }) dailySpendCapUsd?: number | null;
  @Field(() => Float, { nullable: true }) monthlySpendCapUsd?: number | null;
  @Field(() => Int, { nullable: true }) pumpingCountryBurst?: number | null;
  @Field(() => Int, { nullable: true }) pumpingRangeBurst?: number | null;
  @Field(() => Int, { nullable: true }) pumpingWindowMinutes?: number | null;
  @Field(() => Int, { nullable: true }) pumpingRatioMinimumSends?: number | null;
  @Field(() => Int, { nullable: true }) pumpingMinimumVerifyPercent?: number | null;
  @Field(() => Int, { nullable: true }) fraudBlockMinutes?: number | null;
}

@ObjectType("FraudBlock", {
  description: "A fraud rule's block on a country or a number range: sends there are stopped (FAILED, BLOCKED_SUSPICIOUS) until it lapses",
})
export class FraudBlockView {
  @Field(() => ID) id: string;
  @Field({ description: "COUNTRY or RANGE" }) scope: string;
  @Field({ description: "The country's ISO 3166-1 alpha-2 code, or the E.164 prefix the range's numbers share (all but their last two digits)" })
  key: string;
  @Field({ description: "The rule that tripped: COUNTRY_BURST, SEQUENTIAL_NUMBERS or LOW_VERIFY_RATIO" }) rule: string;
  @Field(() => GraphQLJSON, { description: "What the rule saw, as in its system.sms.fraud_blocked event" }) figures: Record<string, number | string>;
  @Field() created: Date;
  @Field() until: Date;
}

@Resolver()
export class SecurityResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => SecuritySettingsView)
  securitySettings(): Promise<SecuritySettingsView> {
    return this.services.securitySettings.get();
  }

  @Authorized(Role.ADMIN)
  @Query(() => [FraudBlockView], { description: "The fraud rules' blocks in force, newest first" })
  fraudBlocks(): Promise<FraudBlockView[]> {
    return this.services.guard.activeBlocks();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      "Ends a fraud block now (a false alarm); for the pumping window after, the rules leave that country or range alone. False when it had ended already",
  })
  liftFraudBlock(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.guard.liftBlock(id, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SecuritySettingsView)
  updateSecuritySettings(@Arg("input") input: SecuritySettingsInput, @Ctx() context: Context): Promise<SecuritySettingsView> {
    return this.services.securitySettings.update({ ...input }, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => [PhoneFactor], { description: "Lifts a suspension for failed passcodes: the user's INACTIVE phone factors become ACTIVE" })
  reactivatePhoneFactors(@Arg("userId", () => ID) userId: string, @Ctx() context: Context): Promise<PhoneFactor[]> {
    return this.services.factors.reactivate(userId, initiatorOf(context));
  }
}
