import { AppError, ErrorCode } from "../platform/errors";
import type { Viewer } from "./viewer";

/** Admins act for anyone; a signed-in user only for themself. */
export function assertActsFor(viewer: Viewer, userId: string): void {
  if (viewer.kind === "admin") return;
  if (viewer.kind === "anonymous") throw new AppError(ErrorCode.UNAUTHENTICATED, "Sign in or send an admin token");
  if (viewer.userId !== userId) throw new AppError(ErrorCode.FORBIDDEN, "You may only act on your own phone factors and challenges");
}

export function canSee(viewer: Viewer, userId: string): boolean {
  return viewer.kind === "admin" || (viewer.kind === "user" && viewer.userId === userId);
}
