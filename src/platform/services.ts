import { ApiTokenService } from "../auth/api-token.service";
import { GroupService } from "../groups/group.service";
import { UserService } from "../users/user.service";
import type { Clock } from "./clock";
import type { Config } from "./config";
import type { Database } from "./database";
import type { Logger } from "./logger";
import type { GatewayPubSub } from "./pubsub";

export interface ServiceDependencies {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  pubsub: GatewayPubSub;
}

/** The gateway's services, wired once at start; resolvers reach them, never the reverse. */
export function createServices(deps: ServiceDependencies) {
  const { db, clock } = deps;
  return {
    ...deps,
    users: new UserService(db, clock),
    groups: new GroupService(db, clock),
    apiTokens: new ApiTokenService(db, clock),
  };
}

export type Services = ReturnType<typeof createServices>;
