import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import type { Services } from "../platform/services";
import { ApiToken, CreatedApiToken } from "./api-token.entity";
import { Role } from "./authorization";

@Resolver(() => ApiToken)
export class ApiTokenResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => [ApiToken])
  apiTokens(): Promise<ApiToken[]> {
    return this.services.apiTokens.listActive();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedApiToken)
  createApiToken(@Arg("name") name: string, @Ctx() context: Context): Promise<CreatedApiToken> {
    return this.services.apiTokens.create(name, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  revokeApiToken(@Arg("id", () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.apiTokens.revoke(id, initiatorOf(context));
  }
}
