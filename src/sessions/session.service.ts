import { IsNull } from "typeorm";
import type { SessionAuthenticator } from "../auth/authenticate";
import type { Viewer } from "../auth/viewer";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { hashSecret, newId, newSecret } from "../platform/ids";
import { User } from "../users/user.entity";
import { SessionRecord } from "./session.entity";

/** Idle time is tracked to this resolution, so a busy session does not write on every request. */
const LAST_SEEN_RESOLUTION_MS = 30_000;

export interface SessionLimits {
  lifetimeMinutes: number;
  idleMinutes: number;
}

export class SessionService implements SessionAuthenticator {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Starts a session in the caller's transaction; the token is returned once and only hashed at rest. */
  async start(tx: Transaction, userId: string, limits: SessionLimits, mfa: boolean): Promise<{ token: string; session: SessionRecord }> {
    const now = this.clock.now();
    const token = newSecret("rfs_");
    const session = tx.manager.create(SessionRecord, {
      id: newId("ses"),
      tokenHash: hashSecret(token),
      userId,
      created: now,
      expiresAt: new Date(now.getTime() + limits.lifetimeMinutes * 60_000),
      idleTimeoutMinutes: limits.idleMinutes,
      lastSeen: now,
      mfaAt: mfa ? now : null,
      revoked: null,
    });
    await tx.manager.insert(SessionRecord, session);
    return { token, session };
  }

  /** The live session for a token: not revoked, not past its lifetime or idle timeout, its user active. */
  async find(token: string): Promise<SessionRecord | null> {
    const session = await this.db.manager.findOneBy(SessionRecord, { tokenHash: hashSecret(token), revoked: IsNull() });
    if (!session) return null;
    const now = this.clock.now().getTime();
    if (session.expiresAt.getTime() <= now) return null;
    if (session.lastSeen.getTime() + session.idleTimeoutMinutes * 60_000 <= now) return null;
    return session;
  }

  async authenticate(token: string): Promise<Viewer | null> {
    const session = await this.find(token);
    if (!session) return null;
    const user = await this.db.manager.findOneBy(User, { id: session.userId });
    if (!user || user.status !== "ACTIVE") return null;
    const now = this.clock.now();
    if (now.getTime() - session.lastSeen.getTime() > LAST_SEEN_RESOLUTION_MS) {
      await this.db.transaction(({ manager }) => manager.update(SessionRecord, { id: session.id }, { lastSeen: now }));
    }
    return { kind: "user", userId: session.userId, sessionId: session.id };
  }

  async isLive(sessionId: string): Promise<boolean> {
    const session = await this.db.manager.findOneBy(SessionRecord, { id: sessionId, revoked: IsNull() });
    const now = this.clock.now().getTime();
    return !!session && session.expiresAt.getTime() > now && session.lastSeen.getTime() + session.idleTimeoutMinutes * 60_000 > now;
  }

  async revoke(tx: Transaction, sessionId: string): Promise<boolean> {
    const result = await tx.manager.update(SessionRecord, { id: sessionId, revoked: IsNull() }, { revoked: this.clock.now() });
    return (result.affected ?? 0) > 0;
  }

  async revokeAllOf(tx: Transaction, userId: string): Promise<void> {
    await tx.manager.update(SessionRecord, { userId, revoked: IsNull() }, { revoked: this.clock.now() });
  }
}
