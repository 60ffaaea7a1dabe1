import { Arg, Args, ArgsType, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { IsOptional } from "class-validator";
import { Role } from "../auth/authorization";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import { groupUsersCursorScope } from "../platform/loaders";
import { decodeCursor, DEFAULT_PAGE_SIZE, pageSize } from "../platform/pagination";
import type { Services } from "../platform/services";
import { UserConnection } from "../users/user.types";
import { Group } from "./group.entity";
import { MaxLength } from "../platform/text-length";

@ArgsType()
class GroupUsersArgs {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE })
  first?: number | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(512)
  after?: string | null;
}

@Resolver(() => Group)
export class GroupResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => [Group])
  groups(): Promise<Group[]> {
    return this.services.groups.list();
  }

  @Authorized(Role.ADMIN)
  @Query(() => Group, { nullable: true, description: "One group, to page through its members; null when there is none with this id" })
  group(@Arg("id", () => ID) id: string): Promise<Group | null> {
    return this.services.groups.findById(id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Group)
  createGroup(
    @Arg("name") name: string,
    @Arg("description", () => String, { nullable: true }) description: string | null,
    @Ctx() context: Context,
  ): Promise<Group> {
    return this.services.groups.createGroup(name, description, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Group, { description: "Renames a group or changes its description; an argument left out stays as it is, a null description clears it" })
  updateGroup(
    @Arg("id", () => ID) id: string,
    @Arg("name", () => String, { nullable: true }) name: string | null | undefined,
    @Arg("description", () => String, { nullable: true }) description: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<Group> {
    return this.services.groups.updateGroup(id, { name, description }, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: "Deletes a group and its memberships; CONFLICT (GROUP_IN_USE) while a policy or rule names it" })
  deleteGroup(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.groups.deleteGroup(id, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Group)
  addUserToGroup(@Arg("userId", () => ID) userId: string, @Arg("groupId", () => ID) groupId: string, @Ctx() context: Context): Promise<Group> {
    return this.services.groups.addMember(userId, groupId, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Group)
  removeUserFromGroup(@Arg("userId", () => ID) userId: string, @Arg("groupId", () => ID) groupId: string, @Ctx() context: Context): Promise<Group> {
    return this.services.groups.removeMember(userId, groupId, initiatorOf(context));
  }

  // Admins only: a signed-in user reaches their own groups through me.groups, and must not
  // read the other members' profiles and numbers from there.
  @Authorized(Role.ADMIN)
  @FieldResolver(() => UserConnection, { description: "The group's members; admins only" })
  async users(@Root() group: Group, @Args() args: GroupUsersArgs, @Ctx() { loaders }: Context): Promise<UserConnection> {
    // Decoded per group: a cursor holds for the group it came from only, and another's is BAD_USER_INPUT here.
    const cursor = args.after ? decodeCursor(args.after, "after", groupUsersCursorScope(group.id)) : null;
    const page = await loaders.usersByGroup.load({ groupId: group.id, first: pageSize(args.first), after: args.after ?? null, cursor });
    const edges = page.users.map((node) => ({ node, cursor: page.cursorOf(node) }));
    return {
      edges,
      totalCount: page.total,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }
}
