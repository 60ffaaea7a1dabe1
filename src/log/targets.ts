import type { LogTarget } from "./log.service";

/** The targets most events name, shaped alike wherever they are written. */
export function userTarget(user: { id: string; login: string; firstName?: string | null; lastName?: string | null }): LogTarget {
  return {
    id: user.id,
    type: "User",
    alternateId: user.login,
    displayName: [user.firstName, user.lastName].filter(Boolean).join(" ") || user.login,
  };
}

export const groupTarget = (group: { id: string; name: string }): LogTarget => ({ id: group.id, type: "UserGroup", displayName: group.name });
