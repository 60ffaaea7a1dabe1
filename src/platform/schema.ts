import { GraphQLDateTime, GraphQLJSON } from "graphql-scalars";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { ApiTokenResolver } from "../auth/api-token.resolver";
import { authChecker } from "../auth/authorization";
import { GroupResolver } from "../groups/group.resolver";
import { LogResolver } from "../log/log.resolver";
import { ChallengeResolver, MessageResolver } from "../phone/challenge.resolver";
import { PhoneFactorResolver, UserFactorsResolver } from "../phone/factor.resolver";
import { PhoneAuthenticatorResolver } from "../phone/phone-authenticator.resolver";
import { SimulatorResolver } from "../telephony/simulator.resolver";
import { SmsTemplateResolver } from "../templates/sms-template.resolver";
import { PolicyResolver } from "../policies/policy.resolver";
import { SecurityResolver } from "../security/security.resolver";
import { TransactionResolver } from "../transactions/transaction.resolver";
import { forgetRequestPolicies, UserResolver } from "../users/user.resolver";
import { SessionResolver, UserSessionsResolver } from "../sessions/session.resolver";
import type { Context } from "./context";
import { forgetLoaded } from "./loaders";
import { createGatewayPubSub, type GatewayPubSub } from "./pubsub";
import type { Services } from "./services";

export const resolvers = [
  UserResolver,
  UserSessionsResolver,
  SessionResolver,
  GroupResolver,
  ApiTokenResolver,
  PhoneAuthenticatorResolver,
  PhoneFactorResolver,
  UserFactorsResolver,
  ChallengeResolver,
  MessageResolver,
  SimulatorResolver,
  PolicyResolver,
  TransactionResolver,
  SecurityResolver,
  SmsTemplateResolver,
  LogResolver,
] as const;

export { GraphQLJSON };

/** The container hands type-graphql our resolver instances, each built with the services. */
export function createResolverContainer(services: Services) {
  const instances = new Map<unknown, unknown>(resolvers.map((Resolver) => [Resolver, new Resolver(services as never)]));
  return {
    get<T>(resolverClass: new (...args: never[]) => T): T {
      const instance = instances.get(resolverClass);
      if (!instance) throw new Error(`No resolver instance for ${resolverClass.name}`);
      return instance as T;
    },
  };
}

export async function buildGatewaySchema(pubSub?: GatewayPubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolvers],
    authChecker,
    container: ({ context }: { context: Context }) => context.container,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
    // type-graphql refuses to build subscriptions without a pubSub, though ours bring their own
    // sources (subscribe functions); schema:emit builds the schema without a gateway.
    pubSub: (pubSub ?? createGatewayPubSub()) as never,
    emitSchemaFile: false,
  });
  readsAfterEachMutation(schema);
  return schema;
}

/**
 * The mutation fields of a document run one after another, and each is answered with what the
 * ones before it wrote: the request's cached reads are dropped before each one. Only mutation
 * fields are wrapped, so queries pay nothing for it.
 */
function readsAfterEachMutation(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve;
    if (!resolve) continue;
    field.resolve = (source, args, context: Context, info) => {
      forgetLoaded(context.loaders);
      forgetRequestPolicies(context);
      return resolve(source, args, context, info);
    };
  }
}
