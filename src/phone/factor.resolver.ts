import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { Role } from "../auth/authorization";
import { canSee } from "../auth/access";
import { isAdmin } from "../auth/viewer";
import type { Context } from "../platform/context";
import { AppError, badInput, ErrorCode } from "../platform/errors";
import type { Services } from "../platform/services";
import { User } from "../users/user.entity";
import { Challenge } from "./challenge.entity";
import { PhoneFactor } from "./phone-factor.entity";
import { maskPhoneNumber } from "./phone-number";
import { ActivatePhoneFactorInput, ChallengePhoneFactorInput, EnrollPhoneFactorInput, EnrollPhoneFactorPayload } from "./phone.types";
import { requesterOf } from "./requester";

@Resolver(() => PhoneFactor)
export class PhoneFactorResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.USER)
  @Mutation(() => EnrollPhoneFactorPayload, {
    description:
      "A PENDING_ACTIVATION factor and its PHONE_VERIFICATION code. A number that still waits for its code is enrolled again as the same factor with a new code (RESEND_TOO_SOON inside the last code's cooldown); one already verified is CONFLICT (NUMBER_ALREADY_ENROLLED). A user enrolling from their own session must have proven their phone in it within 15 minutes (challengePhoneFactor, verifyChallenge), or with no phone yet have signed in within 15 minutes: FORBIDDEN (REAUTHENTICATION_REQUIRED) otherwise; and their enrollment policy must not say NOT_ALLOWED (METHOD_NOT_ALLOWED)",
  })
  enrollPhoneFactor(@Arg("input") input: EnrollPhoneFactorInput, @Ctx() context: Context): Promise<EnrollPhoneFactorPayload> {
    const { viewer } = context;
    const userId = input.userId ?? (viewer.kind === "user" ? viewer.userId : null);
    if (!userId) throw badInput("input.userId", "is required with an admin token");
    const requester = requesterOf(context);
    requester.authorize({ userId } as Challenge);
    return this.services.factors.enroll({ ...input, userId }, requester);
  }

  @Authorized(Role.USER)
  @Mutation(() => PhoneFactor)
  activatePhoneFactor(@Arg("input") input: ActivatePhoneFactorInput, @Ctx() context: Context): Promise<PhoneFactor> {
    return this.services.factors.activate(context.viewer, input.factorId, input.code, requesterOf(context));
  }

  @Authorized(Role.USER)
  @Mutation(() => Challenge)
  challengePhoneFactor(@Arg("input") input: ChallengePhoneFactorInput, @Ctx() context: Context): Promise<Challenge> {
    return this.services.factors.challenge(context.viewer, input.factorId, input.method, requesterOf(context));
  }

  @Authorized(Role.USER)
  @Mutation(() => Boolean, {
    description:
      "Deletes the factor and cancels its open challenges. From a user's own session, as enrollPhoneFactor: the phone proven in it within 15 minutes",
  })
  deletePhoneFactor(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.factors.delete(context.viewer, id, requesterOf(context));
  }

  @FieldResolver(() => String, { description: "E.164 for admins; masked (+1 XXX-XXX-1234) for anyone else" })
  phoneNumber(@Root() factor: PhoneFactor, @Ctx() { viewer }: Context): string {
    return isAdmin(viewer) ? factor.e164 : maskPhoneNumber(factor.e164);
  }

  @FieldResolver(() => User)
  async user(@Root() factor: PhoneFactor, @Ctx() { loaders }: Context): Promise<User> {
    return (await loaders.userById.load(factor.userId))!;
  }
}

@Resolver(() => User)
export class UserFactorsResolver {
  /** Checked here too, as User.sessions is: a new path to another user must not list their phones. */
  @FieldResolver(() => [PhoneFactor], { description: "The user's phone factors: for the user themself and admins" })
  factors(@Root() user: User, @Ctx() { viewer, loaders }: Context): Promise<PhoneFactor[]> {
    if (!canSee(viewer, user.id)) throw new AppError(ErrorCode.FORBIDDEN, "Only the user and admins see a user's phone factors");
    return loaders.factorsByUser.load(user.id);
  }
}
