import { conflict } from "../platform/errors";
import { UserStatus } from "./user.entity";

export type LifecycleAction = "activate" | "suspend" | "unsuspend" | "deactivate" | "lock" | "unlock" | "startRecovery" | "finishRecovery";

/**
 * Okta's user lifecycle: STAGED -> PROVISIONED/ACTIVE, ACTIVE <-> SUSPENDED, ACTIVE ->
 * LOCKED_OUT -> ACTIVE, ACTIVE/LOCKED_OUT -> RECOVERY -> ACTIVE, any -> DEPROVISIONED,
 * DEPROVISIONED -> activate again. `hasPassword` decides ACTIVE vs PROVISIONED on activation.
 */
export function nextStatus(current: UserStatus, action: LifecycleAction, hasPassword: boolean): UserStatus {
  const activated = hasPassword ? UserStatus.ACTIVE : UserStatus.PROVISIONED;
  const allowed: Partial<Record<UserStatus, UserStatus>> = {
    activate: { [UserStatus.STAGED]: activated, [UserStatus.DEPROVISIONED]: activated },
    suspend: { [UserStatus.ACTIVE]: UserStatus.SUSPENDED },
    unsuspend: { [UserStatus.SUSPENDED]: UserStatus.ACTIVE },
    deactivate: Object.fromEntries(
      Object.values(UserStatus)
        .filter((s) => s !== UserStatus.DEPROVISIONED)
        .map((s) => [s, UserStatus.DEPROVISIONED]),
    ),
    lock: { [UserStatus.ACTIVE]: UserStatus.LOCKED_OUT },
    unlock: { [UserStatus.LOCKED_OUT]: UserStatus.ACTIVE },
    startRecovery: { [UserStatus.ACTIVE]: UserStatus.RECOVERY, [UserStatus.LOCKED_OUT]: UserStatus.RECOVERY, [UserStatus.PROVISIONED]: UserStatus.RECOVERY },
    finishRecovery: { [UserStatus.RECOVERY]: UserStatus.ACTIVE },
  }[action];
  const next = allowed[current];
  if (!next) {
    throw conflict("INVALID_LIFECYCLE_TRANSITION", `A user in status ${current} cannot be ${describe[action]}`);
  }
  return next;
}

const describe: Record<LifecycleAction, string> = {
  activate: "activated",
  suspend: "suspended",
  unsuspend: "unsuspended",
  deactivate: "deactivated",
  lock: "locked",
  unlock: "unlocked",
  startRecovery: "put into recovery",
  finishRecovery: "taken out of recovery",
};
