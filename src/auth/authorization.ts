import type { AuthChecker } from "type-graphql";
import type { Context } from "../platform/context";
import { AppError, ErrorCode } from "../platform/errors";

export const Role = { ADMIN: "ADMIN", USER: "USER" } as const;

/**
 * `@Authorized(Role.ADMIN)`: admins only. `@Authorized(Role.USER)`: any signed-in caller
 * (a user session or an admin); ownership is the service's business.
 */
export const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  const { viewer } = context;
  if (viewer.kind === "anonymous") throw new AppError(ErrorCode.UNAUTHENTICATED, "Sign in or send an admin token");
  if (roles.includes(Role.ADMIN) && viewer.kind !== "admin") {
    throw new AppError(ErrorCode.FORBIDDEN, "This needs an admin token");
  }
  return true;
};
