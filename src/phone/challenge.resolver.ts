import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { canSee } from "../auth/access";
import { Role } from "../auth/authorization";
import { isAdmin } from "../auth/viewer";
import type { Context } from "../platform/context";
import type { Services } from "../platform/services";
import { Message } from "../telephony/message.entity";
import { Challenge } from "./challenge.entity";
import { maskPhoneNumber } from "./phone-number";
import { ChallengeStatus } from "./phone.enums";
import { ResendChallengeInput, VerifyChallengeInput } from "./phone.types";
import { requesterOf } from "./requester";

@Resolver(() => Challenge)
export class ChallengeResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.USER)
  @Query(() => Challenge, { nullable: true, description: "null when the id names nothing the caller may see" })
  async challenge(@Arg("id", () => ID) id: string, @Ctx() { viewer }: Context): Promise<Challenge | null> {
    const challenge = await this.services.challenges.findById(id);
    return challenge && canSee(viewer, challenge.userId) ? challenge : null;
  }

  @Authorized(Role.USER)
  @Mutation(() => Challenge)
  verifyChallenge(@Arg("input") input: VerifyChallengeInput, @Ctx() context: Context): Promise<Challenge> {
    return this.services.factors.verifyChallenge(input.challengeId, input.code, requesterOf(context));
  }

  @Authorized(Role.USER)
  @Mutation(() => Challenge)
  resendChallenge(@Arg("input") input: ResendChallengeInput, @Ctx() context: Context): Promise<Challenge> {
    return this.services.challenges.resend(input.challengeId, input.method, requesterOf(context));
  }

  @FieldResolver(() => ChallengeStatus)
  status(@Root() challenge: Challenge): ChallengeStatus {
    // A code past its lifetime is expired whether or not anyone has tried it since.
    const expired = challenge.status === "PENDING" && challenge.expiresAt.getTime() <= this.services.clock.now().getTime();
    return expired ? "EXPIRED" : challenge.status;
  }

  @FieldResolver(() => Int)
  attemptsRemaining(@Root() challenge: Challenge): number {
    return Math.max(0, challenge.maxAttempts - challenge.attemptsUsed);
  }

  @FieldResolver(() => Date)
  resendAvailableAt(@Root() challenge: Challenge): Date {
    return new Date(challenge.lastSentAt.getTime() + challenge.resendCooldownSeconds * 1000);
  }

  @FieldResolver(() => [Message], { description: "Oldest first; a resend or a provider failover adds one" })
  messages(@Root() challenge: Challenge, @Ctx() { loaders }: Context): Promise<Message[]> {
    return loaders.messagesByChallenge.load(challenge.id);
  }
}

@Resolver(() => Message)
export class MessageResolver {
  @FieldResolver(() => String, { description: "masked for anyone but admins" })
  to(@Root() message: Message, @Ctx() { viewer }: Context): string {
    return isAdmin(viewer) ? message.toE164 : maskPhoneNumber(message.toE164);
  }
}
