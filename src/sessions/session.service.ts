import { IsNull, Not } from "typeorm";
import { canSee } from "../auth/access";
import type { SessionAuthenticator } from "../auth/authenticate";
import type { Viewer } from "../auth/viewer";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { AppError, ErrorCode, notFound } from "../platform/errors";
import { hashSecret, newId, newSecret } from "../platform/ids";
import { SessionRecord } from "./session.entity";
import type { SessionView } from "./session.types";

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

const recordTimes = (session: SessionRecord): SessionTimes => ({
  expiresAt: session.expiresAt.getTime(),
  lastSeen: session.lastSeen.getTime(),
  idleTimeoutMinutes: session.idleTimeoutMinutes,
});

/** When the session ends if no request comes first. */
const idleEnd = (session: SessionTimes) => session.lastSeen + session.idleTimeoutMinutes * 60_000;

/** Neither past its lifetime nor idle too long. */
function liveAt(session: SessionTimes, now: number): boolean {
  return session.expiresAt > now && idleEnd(session) > now;
}

export interface SessionLimits {
  lifetimeMinutes: number;
  idleMinutes: number;
}

export class SessionService implements SessionAuthenticator {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
  ) {}

  /**
   * Starts a session in the caller's transaction; the token is returned once and only hashed at
   * rest. `mfaAt` is when the phone was proven: now, or the earlier proof a sign-in remembered,
   * so that remembering does not renew itself.
   */
  async start(
    tx: Transaction,
    userId: string,
    limits: SessionLimits,
    mfaAt: Date | null,
  ): Promise<{ token: string; session: SessionRecord }> {
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
      mfaAt,
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

  /** When a session began, and when its user last proved their phone in it; null once it is gone. */
  async proofTimes(sessionId: string): Promise<{ signedIn: Date; phoneProven: Date | null } | null> {
    const session = await this.db.manager.findOne(SessionRecord, { where: { id: sessionId }, select: { created: true, mfaAt: true } });
    return session && { signedIn: session.created, phoneProven: session.mfaAt };
  }

  /** The user proved their phone in this session (a FACTOR_VERIFY code verified by the session itself). */
  async phoneProven(tx: Transaction, sessionId: string, at: Date): Promise<void> {
    await tx.manager.update(SessionRecord, { id: sessionId, revoked: IsNull() }, { mfaAt: at });
  }

  /** What authenticate would accept, by session id: running subscriptions end once a user is suspended or deactivated. */
  async isLive(sessionId: string): Promise<boolean> {
    const [row] = await this.db.statements.query<SessionWithUser>(this.db.manager, SESSION_BY_ID, [sessionId]);
    return !!row && row.userStatus === "ACTIVE" && liveAt(timesOf(row), this.clock.now().getTime());
  }

  /**
   * Deletes the sessions that ended (revoked, past their lifetime or idle too long) before
   * `before`. Their tokens are refused alike with the row or without it, and the System Log
   * keeps each session's start and end. Resolves with how many went.
   */
  purgeEndedBefore(before: Date): Promise<number> {
    const cutoff = before.getTime();
    // bigint before the multiplication: a month of idle minutes in milliseconds passes PostgreSQL's integer.
    return this.db.purgeInBatches(
      "ringfence:session-purge",
      "sessions",
      `"revoked" < ? OR "expires_at" < ? OR "last_seen" + CAST("idle_timeout_minutes" AS bigint) * 60000 < ?`,
      [cutoff, cutoff, cutoff],
    );
  }

  async revoke(tx: Transaction, sessionId: string): Promise<boolean> {
    const result = await tx.manager.update(SessionRecord, { id: sessionId, revoked: IsNull() }, { revoked: this.clock.now() });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Ends one session: a signed-in user's own (another device of theirs), or anyone's for an
   * admin. A session the viewer may not see is NOT_FOUND, so ids tell nothing of others'
   * sessions. False when it had ended already.
   */
  async end(viewer: Viewer, sessionId: string, initiator: Initiator): Promise<boolean> {
    if (viewer.kind === "anonymous") throw new AppError(ErrorCode.UNAUTHENTICATED, "Sign in or send an admin token");
    return this.db.transaction(async (tx) => {
      const session = await tx.manager.findOneBy(SessionRecord, { id: sessionId });
      if (!session || !canSee(viewer, session.userId)) throw notFound("Session");
      if (!liveAt(recordTimes(session), this.clock.now().getTime()) || !(await this.revoke(tx, sessionId))) return false;
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.SESSION_END,
        displayMessage: "End user session",
        target: [
          { id: session.userId, type: "User" },
          { id: session.id, type: "Session" },
        ],
      });
      return true;
    });
  }

  /** The live ones among a user's unrevoked sessions, as the viewer sees them. */
  views(unrevoked: readonly SessionRecord[], viewer: Viewer): SessionView[] {
    const now = this.clock.now().getTime();
    return unrevoked.flatMap((session) => {
      const times = recordTimes(session);
      if (!liveAt(times, now)) return [];
      return [
        {
          id: session.id,
          created: session.created,
          lastSeen: session.lastSeen,
          expiresAt: session.expiresAt,
          idleExpiresAt: new Date(Math.min(idleEnd(times), times.expiresAt)),
          mfaVerifiedAt: session.mfaAt,
          current: viewer.kind === "user" && viewer.sessionId === session.id,
        },
      ];
    });
  }

  /** Ends every live session of a user, but the one `exceptSessionId` names if given; how many there were. */
  async revokeAllOf(tx: Transaction, userId: string, exceptSessionId?: string): Promise<number> {
    const result = await tx.manager.update(
      SessionRecord,
      { userId, revoked: IsNull(), ...(exceptSessionId === undefined ? {} : { id: Not(exceptSessionId) }) },
      { revoked: this.clock.now() },
    );
    return result.affected ?? 0;
  }
}
