import { assertActsFor } from "../auth/access";
import type { LogActor } from "../log/log.service";
import type { Context } from "../platform/context";
import type { Requester } from "./challenge.service";

/** The requester of an admin or signed-in call: its log actor, its client, and its access rule. */
export function requesterOf({ viewer, client }: Context): Requester {
  const actor: LogActor =
    viewer.kind === "admin"
      ? { id: viewer.tokenId, type: "ApiToken", displayName: "Admin API token" }
      : viewer.kind === "user"
        ? { id: viewer.userId, type: "User" }
        : { id: "anonymous", type: "PublicClientApp" };
  return { actor, client, authorize: (challenge) => assertActsFor(viewer, challenge.userId) };
}
