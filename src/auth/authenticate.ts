import { AppError, ErrorCode } from "../platform/errors";
import type { ApiTokenService } from "./api-token.service";
import { anonymous, type Viewer } from "./viewer";

/** Resolves a session token to its user; supplied once sign-in sessions exist. */
export interface SessionAuthenticator {
  authenticate(token: string): Promise<Viewer | null>;
}

const invalidCredential = () => new AppError(ErrorCode.UNAUTHENTICATED, "The credential is missing, unknown, revoked or expired");

/**
 * `SSWS <admin token>` or `Bearer <admin token | session token>`; no header is anonymous.
 * A credential that is present but wrong refuses the whole request: a client that sent one
 * expected to be someone, and must not silently run as the public.
 */
export async function authenticate(
  authorization: string | null | undefined,
  tokens: ApiTokenService,
  sessions: SessionAuthenticator | null,
): Promise<Viewer> {
  if (!authorization) return anonymous;
  const match = /^(SSWS|Bearer)\s+(\S{1,512})$/i.exec(authorization.trim());
  if (!match) throw invalidCredential();
  const [, scheme, secret] = match as unknown as [string, string, string];
  const token = await tokens.authenticate(secret);
  if (token) return { kind: "admin", tokenId: token.id, tokenName: token.name };
  if (scheme.toLowerCase() === "bearer" && sessions) {
    const viewer = await sessions.authenticate(secret);
    if (viewer) return viewer;
  }
  throw invalidCredential();
}
