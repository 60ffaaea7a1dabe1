import type { Viewer } from "../auth/viewer";
import type { ClientInfo, Context } from "../platform/context";
import { SYSTEM_ACTOR, type LogActor } from "./log.service";

/** Who asked for a change and from where: the actor and client of the event that records it. */
export interface Initiator {
  actor: LogActor;
  client: ClientInfo | null;
}

export function actorOf(viewer: Viewer): LogActor {
  switch (viewer.kind) {
    case "admin":
      return { id: viewer.tokenId, type: "ApiToken", displayName: viewer.tokenName };
    case "user":
      return { id: viewer.userId, type: "User" };
    case "anonymous":
      return { id: "anonymous", type: "PublicClientApp" };
  }
}

export function initiatorOf({ viewer, client }: Pick<Context, "viewer" | "client">): Initiator {
  return { actor: actorOf(viewer), client };
}

/** Changes the gateway makes on its own behalf: the first start's admin token, an operator's import script. */
export const SYSTEM_INITIATOR: Initiator = { actor: SYSTEM_ACTOR, client: null };
