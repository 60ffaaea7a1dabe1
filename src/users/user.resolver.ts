import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { Role } from "../auth/authorization";
import { Group } from "../groups/group.entity";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import { notFound } from "../platform/errors";
import type { Services } from "../platform/services";
import type { PolicyView } from "../policies/policy.service";
import { User } from "./user.entity";
import type { PasswordState } from "./user.service";
import { CreateUserInput, UpdateUserInput, UserConnection, UsersArgs } from "./user.types";

/** A page of users asks for the password policies once, whatever its size. */
const policiesOfRequest = new WeakMap<Context, Promise<PolicyView[]>>();
/** And each user read is worked out once, however many of its password's fields are asked for. */
const passwordStates = new WeakMap<User, Promise<PasswordState>>();

/** A mutation of the request may have changed the policies read so far. */
export function forgetRequestPolicies(context: Context): void {
  policiesOfRequest.delete(context);
}

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly services: Services) {}

  @Query(() => User, { nullable: true, description: "The signed-in user; null for admin tokens and the public" })
  me(@Ctx() { viewer }: Context): Promise<User | null> | null {
    return viewer.kind === "user" ? this.services.users.findById(viewer.userId) : null;
  }

  @Authorized(Role.ADMIN)
  @Query(() => User, { nullable: true })
  user(@Arg("id", () => ID) id: string): Promise<User | null> {
    return this.services.users.findById(id);
  }

  @Authorized(Role.ADMIN)
  @Query(() => UserConnection)
  users(@Args() args: UsersArgs): Promise<UserConnection> {
    return this.services.users.list(args);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  createUser(@Arg("input") input: CreateUserInput, @Ctx() context: Context): Promise<User> {
    return this.services.users.createUser(input, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  updateUser(@Arg("input") input: UpdateUserInput, @Ctx() context: Context): Promise<User> {
    return this.services.users.updateUser(input, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  activateUser(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<User> {
    return this.services.users.transition(id, "activate", initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User, {
    description:
      "Okta's unlock: a LOCKED_OUT user becomes ACTIVE with the failed passwords forgiven (user.account.unlock_by_admin); CONFLICT (INVALID_LIFECYCLE_TRANSITION) in any other status",
  })
  unlockUser(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<User> {
    return this.services.users.transition(id, "unlock", initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  suspendUser(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<User> {
    return this.services.users.transition(id, "suspend", initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  unsuspendUser(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<User> {
    return this.services.users.transition(id, "unsuspend", initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  deactivateUser(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<User> {
    return this.services.users.transition(id, "deactivate", initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Int, {
    description: "Ends every session of a user: their tokens stop working and their subscriptions end. The number of sessions ended",
  })
  clearUserSessions(@Arg("userId", () => ID) userId: string, @Ctx() context: Context): Promise<number> {
    return this.services.users.clearSessions(userId, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, {
    description:
      "Deletes a DEPROVISIONED user for good with its factors, sessions and memberships (CONFLICT in any other status: deactivate first); its messages (the number masked) and System Log events stay",
  })
  deleteUser(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.users.deleteUser(id, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User, {
    description:
      "Okta's expire_password: the next sign-in must choose a new password before it gets a session (status PASSWORD_EXPIRED); sessions already open stay. CONFLICT for a user without a password (NO_PASSWORD) or DEPROVISIONED",
  })
  expirePassword(@Arg("userId", () => ID) userId: string, @Ctx() context: Context): Promise<User> {
    return this.services.users.expirePassword(userId, initiatorOf(context));
  }

  @FieldResolver(() => Boolean, {
    description:
      "the next sign-in must choose a new password: an admin expired it (expirePassword), or it is older than the password policy's passwordMaxAgeDays",
  })
  async passwordExpired(@Root() user: User, @Ctx() context: Context): Promise<boolean> {
    if (user.passwordExpired || !user.passwordChanged) return user.passwordExpired;
    return (await this.passwordState(user, context)).expired;
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description:
      "when the password policy's passwordMaxAgeDays expires the password; null when the policy sets no maximum age or there is no password (an admin's expirePassword shows in passwordExpired)",
  })
  async passwordExpiresAt(@Root() user: User, @Ctx() context: Context): Promise<Date | null> {
    if (!user.passwordChanged) return null;
    return (await this.passwordState(user, context)).expiresAt;
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: "when changePassword will take a new password, under the password policy's passwordMinAgeMinutes; null when it will now",
  })
  async passwordChangeAllowedAt(@Root() user: User, @Ctx() context: Context): Promise<Date | null> {
    if (user.passwordExpired || !user.passwordChanged) return null;
    return (await this.passwordState(user, context)).changeAllowedAt;
  }

  private passwordState(user: User, context: Context): Promise<PasswordState> {
    let state = passwordStates.get(user);
    if (!state) {
      let policies = policiesOfRequest.get(context);
      if (!policies) policiesOfRequest.set(context, (policies = this.services.policies.list("PASSWORD")));
      const groups = context.loaders.groupsByUser.load(user.id);
      state = Promise.all([policies, groups]).then(([list, userGroups]) =>
        this.services.users.passwordState(
          user,
          userGroups.map((group) => group.id),
          list,
        ),
      );
      passwordStates.set(user, state);
    }
    return state;
  }

  @FieldResolver(() => [Group])
  groups(@Root() user: User, @Ctx() { loaders }: Context): Promise<Group[]> {
    return loaders.groupsByUser.load(user.id);
  }
}

export async function requireUser(services: Services, id: string): Promise<User> {
  const user = await services.users.findById(id);
  if (!user) throw notFound("User");
  return user;
}
