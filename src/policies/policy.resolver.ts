import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { Role } from "../auth/authorization";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import type { Services } from "../platform/services";
import { PolicyType } from "./policy.model";
import { Policy, PolicyInput } from "./policy.types";

@Resolver(() => Policy)
export class PolicyResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => [Policy])
  policies(@Arg("type", () => PolicyType, { nullable: true }) type: PolicyType | null): Promise<Policy[]> {
    return this.services.policies.list(type);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Policy)
  createPolicy(@Arg("input") input: PolicyInput, @Ctx() context: Context): Promise<Policy> {
    return this.services.policies.create(input, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Policy)
  updatePolicy(@Arg("id", () => ID) id: string, @Arg("input") input: PolicyInput, @Ctx() context: Context): Promise<Policy> {
    return this.services.policies.update(id, input, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  deletePolicy(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.policies.delete(id, initiatorOf(context));
  }
}
