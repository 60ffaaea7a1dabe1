import { assertActsFor } from "../auth/access";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import type { Requester } from "./challenge.service";

/** The requester of an admin or signed-in call: its log actor, its client, and its access rule. */
export function requesterOf(context: Context): Requester {
  const { viewer } = context;
  return {
    ...initiatorOf(context),
    authorize: (challenge) => assertActsFor(viewer, challenge.userId),
    ...(viewer.kind === "user" ? { sessionId: viewer.sessionId } : {}),
    ...(viewer.kind === "admin" ? { admin: true } : {}),
  };
}
