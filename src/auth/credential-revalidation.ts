import { IsNull } from "typeorm";
import type { Clock } from "../platform/clock";
import type { Database } from "../platform/database";
import type { Logger } from "../platform/logger";
import { AppError, ErrorCode } from "../platform/errors";
import { AuthTransactionRecord } from "../transactions/auth-transaction.entity";
import { ApiToken } from "./api-token.entity";
import type { Viewer } from "./viewer";

/** What let a subscriber in: re-checked while its subscription lives. */
export type SubscriptionGrant =
  | { kind: "apiToken"; tokenId: string }
  | { kind: "session"; sessionId: string }
  /** A caller that presented the state handle of this sign-in or recovery transaction. */
  | { kind: "transaction"; transactionId: string };

/** The session rules (revoked, lifetime, idle timeout) belong to the session service. */
export interface SessionLiveness {
  isLive(sessionId: string): Promise<boolean>;
}

/**
 * A revoked token or ended session stops a subscription within this long of its next event, and
 * within twice this long when no event comes (watch).
 */
export const REVALIDATE_AFTER_MS = 30_000;
/** Credentials the sweep looks up at once. */
const SWEEP_CONCURRENCY = 16;
/** Past this many remembered checks, those older than REVALIDATE_AFTER_MS are dropped. */
const MAX_REMEMBERED_CHECKS = 10_000;

interface RememberedCheck {
  checkedAt: number;
  valid: Promise<boolean>;
}

/** A running subscription, as far as its credential is concerned. */
export interface WatchedSubscription {
  readonly isOpen: boolean;
  fail(error: AppError): void;
}

/**
 * A WebSocket is authenticated once, at connect; its subscriptions may live for days. Before a
 * subscription hands over an event it asks here whether the credential that let it in still
 * holds. The answer is remembered for REVALIDATE_AFTER_MS per credential and shared by every
 * subscription holding it, so a thousand dashboards on one admin token cost one indexed
 * lookup every 30 seconds, not one per event.
 */
export class CredentialRevalidator {
  private readonly checks = new Map<string, RememberedCheck>();
  private readonly watched = new Map<WatchedSubscription, SubscriptionGrant>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly sessions: SessionLiveness,
    private readonly logger: Logger,
  ) {}

  /** The grant of a signed-in viewer; null for the public, who need another grant. */
  grantOf(viewer: Viewer): SubscriptionGrant | null {
    if (viewer.kind === "admin") return { kind: "apiToken", tokenId: viewer.tokenId };
    if (viewer.kind === "user") return { kind: "session", sessionId: viewer.sessionId };
    return null;
  }

  /** The `admit` hook of a SubscriptionChannel: the error that must end it once the grant lapsed. */
  admitWhile(grant: SubscriptionGrant): () => Promise<AppError | null> {
    return async () => {
      try {
        return (await this.isStillValid(grant)) ? null : lapsed(grant);
      } catch (error) {
        // The subscription ends INTERNAL (it cannot tell): the cause is only ever written here.
        this.logger.error({ err: error, grant: grant.kind }, "a subscription's credential could not be checked again");
        throw error;
      }
    };
  }

  /**
   * Keeps `subscription` in the periodic sweep, which ends it once its grant has lapsed. A
   * subscription whose filter matches nothing, or whose challenge's messages are all final, gets
   * no event to be checked at; without the sweep it would outlive its credential by days.
   */
  watch(grant: SubscriptionGrant, subscription: WatchedSubscription): void {
    this.watched.set(subscription, grant);
  }

  /**
   * Checks the grant of every subscription watched (one lookup per credential, shared with the
   * events' checks) and ends those whose grant has lapsed; forgets those that have ended. Run
   * every REVALIDATE_AFTER_MS. A lookup that fails is asked again at the next sweep or event.
   */
  async sweep(): Promise<number> {
    const byGrant = new Map<string, { grant: SubscriptionGrant; subscriptions: WatchedSubscription[] }>();
    for (const [subscription, grant] of this.watched) {
      if (!subscription.isOpen) {
        this.watched.delete(subscription);
        continue;
      }
      const key = grantKey(grant);
      const entry = byGrant.get(key) ?? { grant, subscriptions: [] };
      entry.subscriptions.push(subscription);
      byGrant.set(key, entry);
    }
    let ended = 0;
    let unchecked = 0;
    let lastError: unknown = null;
    const entries = [...byGrant.values()];
    // A few lookups at a time: thousands of login pages each hold a grant of their own.
    for (let start = 0; start < entries.length; start += SWEEP_CONCURRENCY) {
      await Promise.all(
        entries.slice(start, start + SWEEP_CONCURRENCY).map(async ({ grant, subscriptions }) => {
          let valid: boolean;
          try {
            valid = await this.isStillValid(grant);
          } catch (error) {
            unchecked += 1;
            lastError = error;
            return;
          }
          if (valid) return;
          for (const subscription of subscriptions) {
            subscription.fail(lapsed(grant));
            this.watched.delete(subscription);
            ended += 1;
          }
        }),
      );
    }
    // One line for an outage, not one per credential every 30 seconds.
    if (unchecked) this.logger.warn({ err: lastError, unchecked }, "credentials could not be checked again in the sweep");
    return ended;
  }

  isStillValid(grant: SubscriptionGrant): Promise<boolean> {
    const key = grantKey(grant);
    const now = this.clock.now().getTime();
    const remembered = this.checks.get(key);
    if (remembered && now - remembered.checkedAt < REVALIDATE_AFTER_MS) return remembered.valid;
    if (this.checks.size >= MAX_REMEMBERED_CHECKS) this.forgetOlderThan(now - REVALIDATE_AFTER_MS);
    const valid = this.lookUp(grant, now);
    this.checks.set(key, { checkedAt: now, valid });
    // A failed lookup is not an answer: the next event asks again.
    valid.catch(() => {
      if (this.checks.get(key)?.valid === valid) this.checks.delete(key);
    });
    return valid;
  }

  private lookUp(grant: SubscriptionGrant, now: number): Promise<boolean> {
    switch (grant.kind) {
      case "apiToken":
        return this.db.manager.existsBy(ApiToken, { id: grant.tokenId, revoked: IsNull() });
      case "session":
        return this.sessions.isLive(grant.sessionId);
      case "transaction":
        return this.db.manager
          .createQueryBuilder(AuthTransactionRecord, "t")
          .where("t.id = :id AND t.finished_at IS NULL AND t.expires_at > :now", { id: grant.transactionId, now })
          .getExists();
    }
  }

  private forgetOlderThan(instant: number): void {
    for (const [key, check] of this.checks) if (check.checkedAt < instant) this.checks.delete(key);
  }
}

function grantKey(grant: SubscriptionGrant): string {
  switch (grant.kind) {
    case "apiToken":
      return `token:${grant.tokenId}`;
    case "session":
      return `session:${grant.sessionId}`;
    case "transaction":
      return `transaction:${grant.transactionId}`;
  }
}

function lapsed(grant: SubscriptionGrant): AppError {
  return grant.kind === "transaction"
    ? new AppError(ErrorCode.TRANSACTION_EXPIRED, "The transaction holding this challenge has finished or expired")
    : new AppError(ErrorCode.UNAUTHENTICATED, "The credential is missing, unknown, revoked or expired");
}
