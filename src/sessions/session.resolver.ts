import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { canSee } from "../auth/access";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import { AppError, ErrorCode } from "../platform/errors";
import type { Services } from "../platform/services";
import { User } from "../users/user.entity";
import { SessionView } from "./session.types";

@Resolver(() => User)
export class UserSessionsResolver {
  constructor(private readonly services: Services) {}

  /** Every path to a User is the user's own or an admin's (Group.users is admins only); the check keeps a new path from leaking sessions. */
  @FieldResolver(() => [SessionView], { description: "Live sessions, oldest first: for the user themself and admins" })
  async sessions(@Root() user: User, @Ctx() { viewer, loaders }: Context): Promise<SessionView[]> {
    if (!canSee(viewer, user.id)) throw new AppError(ErrorCode.FORBIDDEN, "Only the user and admins see a user's sessions");
    return this.services.sessions.views(await loaders.unrevokedSessionsByUser.load(user.id), viewer);
  }
}

@Resolver(() => SessionView)
export class SessionResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => Boolean, {
    description: "Ends one session: one of the signed-in user's own (another device), or anyone's for an admin. False when it had ended already",
  })
  revokeSession(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.sessions.end(context.viewer, id, initiatorOf(context));
  }
}
