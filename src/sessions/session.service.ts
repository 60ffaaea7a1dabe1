import { IsNull } from "typeorm";
import type { SessionAuthenticator } from "../auth/authenticate";
import type { Viewer } from "../auth/viewer";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { hashSecret, newId, newSecret } from "../platform/ids";
import { SessionRecord } from "./session.entity";

/** Idle time is tracked to this resolution, so a busy session does not write on every request. */
const LAST_SEEN_RESOLUTION_MS = 30_000;

/** An unrevoked session with its user's status: one statement, as every signed-in request asks. */
const SESSION_WITH_USER = `SELECT s."id", s."user_id" AS "userId", s."expires_at" AS "expiresAt", s."last_seen" AS "lastSeen",
  s."idle_timeout_minutes" AS "idleTimeoutMinutes", u."status" AS "userStatus"
  FROM "sessions" s JOIN "users" u ON u."id" = s."user_id"
  WHERE s."revoked" IS NULL AND`;
const SESSION_BY_TOKEN = `${SESSION_WITH_USER} s."token_hash" = ?`;
const SESSION_BY_ID = `${SESSION_WITH_USER} s."id" = ?`;

/** Raw columns: PostgreSQL answers bigint as text. */
interface SessionWithUser {
  id: string;
  userId: string;
  expiresAt: number | string;
  lastSeen: number | string;
  idleTimeoutMinutes: number | string;
  userStatus: string;
}

interface SessionTimes {
  expiresAt: number;
  lastSeen: number;
  idleTimeoutMinutes: number;
}

const timesOf = (row: SessionWithUser): SessionTimes => ({
  expiresAt: Number(row.expiresAt),
  lastSeen: Number(row.lastSeen),
  idleTimeoutMinutes: Number(row.idleTimeoutMinutes),
});

/** Neither past its lifetime nor idle too long. */
function liveAt(session: SessionTimes, now: number): boolean {
  return session.expiresAt > now && session.lastSeen + session.idleTimeoutMinutes * 60_000 > now;
}

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

  /** The viewer of a live session's token: not revoked, not past its lifetime or idle timeout, its user active. */
  async authenticate(token: string): Promise<Viewer | null> {
    const [row] = await this.db.statements.query<SessionWithUser>(this.db.manager, SESSION_BY_TOKEN, [hashSecret(token)]);
    if (!row || row.userStatus !== "ACTIVE") return null;
    const session = timesOf(row);
    const now = this.clock.now();
    if (!liveAt(session, now.getTime())) return null;
    if (now.getTime() - session.lastSeen > LAST_SEEN_RESOLUTION_MS) {
      await this.db.transaction(({ manager }) => manager.update(SessionRecord, { id: row.id }, { lastSeen: now }));
    }
    return { kind: "user", userId: row.userId, sessionId: row.id };
  }

  /** What authenticate would accept, by session id: running subscriptions end once a user is suspended or deactivated. */
  async isLive(sessionId: string): Promise<boolean> {
    const [row] = await this.db.statements.query<SessionWithUser>(this.db.manager, SESSION_BY_ID, [sessionId]);
    return !!row && row.userStatus === "ACTIVE" && liveAt(timesOf(row), this.clock.now().getTime());
  }

  async revoke(tx: Transaction, sessionId: string): Promise<boolean> {
    const result = await tx.manager.update(SessionRecord, { id: sessionId, revoked: IsNull() }, { revoked: this.clock.now() });
    return (result.affected ?? 0) > 0;
  }

  /** Ends every live session of a user; how many there were. */
  async revokeAllOf(tx: Transaction, userId: string): Promise<number> {
    const result = await tx.manager.update(SessionRecord, { userId, revoked: IsNull() }, { revoked: this.clock.now() });
    return result.affected ?? 0;
  }
}
