import { In } from "typeorm";
import type { LogService } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { DeliveryErrorCode } from "../platform/errors";
import { newId } from "../platform/ids";
import type { Logger } from "../platform/logger";
import type { GatewayPubSub } from "../platform/pubsub";
import type { ServerSecrets } from "../platform/secrets";
import { SerialQueue } from "../platform/serial-queue";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker";
import { Message, MessageAttempt } from "./message.entity";
import type { DispatchSignal } from "./outbox";
import {
  ProviderError,
  providerText,
  storableReceipt,
  type OutboundMessage,
  type ReceiptSink,
  type SendResult,
  type TelephonyProvider,
} from "./provider";
import { finalizeMessage, publishMessageStatus, type MessageOutcome, type ReceiptProcessor } from "./receipts";
import type { ProviderRouter } from "./routing";

export interface DispatcherDependencies {
  db: Database;
  clock: Clock;
  logger: Logger;
  pubsub: GatewayPubSub;
  log: LogService;
  secrets: ServerSecrets;
  router: ProviderRouter;
  receipts: ReceiptProcessor;
  /** Written to lease_owner: must differ between instances that share a database. */
  instanceId: string;
  /** How long the loop rests between passes when nobody wakes it. */
  pollIntervalMs: number;
  /** How long a SENT message waits for its receipt before it is UNKNOWN (TIMEOUT). @default 600000 */
  receiptWindowMs?: number;
  /** How long a claim holds a message before another instance may take it over. @default 30000 */
  leaseMs?: number;
  /** Hand-overs (and rounds every circuit breaker refused) before a message is FAILED. @default 5 */
  maxAttempts?: number;
  /** Messages claimed per pass. @default 20 */
  batchSize?: number;
  /** A provider that has not answered by then counts as unreachable. @default 10000, and at most half the lease */
  sendTimeoutMs?: number;
  /** @default 5 consecutive failures open a provider's circuit for 30000 ms */
  circuitBreaker?: CircuitBreakerOptions;
}

const PENDING = "PENDING";

/** Queued and not leased (or the lease lapsed at the bound time): what a claim may take. */
const CLAIMABLE = `"status" = 'QUEUED' AND ("lease_until" IS NULL OR "lease_until" < ?)`;

/**
 * Picks, leases and reads back up to a batch in one statement. The update repeats the selection's
 * conditions, so a row another instance took meanwhile stays theirs.
 *
 * On PostgreSQL, SKIP LOCKED lets instances claim disjoint batches, and the pick is a CTE: as an
 * `IN (subquery)` the planner may make it the inner side of a nested-loop semi join and run it
 * again for every row, each run locking what it finds then; rows one run locked and the update
 * never matched stayed locked to everyone else until commit, so concurrent claims took fewer
 * than were due. A CTE that locks rows is run once.
 */
function claimStatement(engine: "sqlite" | "postgres"): { sql: string; parameters(owner: string, now: number, leaseUntil: number, batch: number): unknown[] } {
  const pick = `SELECT "id" FROM "messages" WHERE ${CLAIMABLE} AND "next_attempt_at" <= ? ORDER BY "next_attempt_at", "id" LIMIT ?`;
  const lease = `UPDATE "messages" SET "lease_owner" = ?, "lease_until" = ?`;
  if (engine === "postgres") {
    return {
      sql: `WITH "picked" AS (${pick} FOR UPDATE SKIP LOCKED) ${lease} WHERE "id" IN (SELECT "id" FROM "picked") AND ${CLAIMABLE}`,
      parameters: (owner, now, leaseUntil, batch) => [now, now, batch, owner, leaseUntil, now],
    };
  }
  return {
    sql: `${lease} WHERE "id" IN (${pick}) AND ${CLAIMABLE}`,
    parameters: (owner, now, leaseUntil, batch) => [owner, leaseUntil, now, now, batch, now],
  };
}
/**
 * The hand-over's two bookkeeping writes as one statement each on PostgreSQL, where each
 * statement is a round trip and one statement needs no BEGIN and COMMIT: the message's update
 * runs as a WITH clause, and the attempt's write happens only if it did (the lease still ours).
 * SQLite runs the same two writes in a transaction (openAttempt, recordSent).
 */
const OPEN_ATTEMPT_POSTGRES =
  `WITH "renewed" AS (UPDATE "messages" SET "lease_until" = ? WHERE "id" = ? AND "lease_owner" = ? AND "status" = 'QUEUED' RETURNING "id") ` +
  `INSERT INTO "message_attempts" ("id", "message_id", "provider", "started", "finished", "outcome", "provider_message_id", "retryable", "detail") ` +
  `SELECT CAST(? AS varchar), "id", CAST(? AS varchar), CAST(? AS bigint), NULL, '${PENDING}', NULL, false, NULL FROM "renewed"`;
const RECORD_SENT_POSTGRES =
  `WITH "sent" AS (UPDATE "messages" SET "status" = 'SENT', "provider" = ?, "provider_message_id" = ?, "provider_status" = ?, "sender_id" = ?, "sent_at" = ?, ` +
  `"receipt_deadline" = ?, "lease_owner" = NULL, "lease_until" = NULL, "body_ciphertext" = NULL, "updated" = ?, "attempts" = ? ` +
  `WHERE "id" = ? AND "lease_owner" = ? AND "status" = 'QUEUED' RETURNING "id") ` +
  `UPDATE "message_attempts" SET "outcome" = 'SENT', "finished" = ?, "provider_message_id" = ?, "retryable" = false, "detail" = NULL ` +
  `WHERE "id" = ? AND "message_id" IN (SELECT "id" FROM "sent")`;

const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 60_000;
/**
 * How long a message is tried again while its providers only ask to slow down (HTTP 429, SMPP
 * ESME_RTHROTTLED): those answers spend no attempt, since the provider is up and a burst must not
 * fail codes it carries a moment later, so the message's age bounds them instead.
 */
const THROTTLED_PATIENCE_MS = 60_000;

interface ClaimedMessage {
  message: Message;
  /** The hand-over a previous holder recorded and never saw the end of. */
  pendingAttempt: MessageAttempt | null;
}

/**
 * Moves QUEUED messages to their providers. A pass claims due messages under a lease, hands
 * each to the first provider of its route that will take it (failing over along the route),
 * and records the attempt before and after the call, so a crash between the two is resent
 * under the same idempotency key rather than sent twice. Receipts come back through
 * ReceiptProcessor; messages whose receipt never comes are swept to UNKNOWN.
 */
export class Dispatcher implements DispatchSignal {
  private readonly breaker: CircuitBreaker;
  private readonly receiptWindowMs: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly batchSize: number;
  private readonly sendTimeoutMs: number;
  private readonly claimQuery: ReturnType<typeof claimStatement>;

  /** Passes run one after another, whether the loop or a caller of runOnce starts them. */
  private readonly passes = new SerialQueue();
  private loop: Promise<void> | null = null;
  private running = false;
  private wakeRequested = false;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private endRest: (() => void) | null = null;
  private readonly receiptSink: ReceiptSink = async (receipt) => {
    await this.deps.receipts.apply(storableReceipt(receipt));
  };

  constructor(private readonly deps: DispatcherDependencies) {
    this.breaker = new CircuitBreaker(deps.clock, deps.circuitBreaker);
    this.receiptWindowMs = deps.receiptWindowMs ?? 600_000;
    this.leaseMs = deps.leaseMs ?? 30_000;
    this.maxAttempts = deps.maxAttempts ?? 5;
    this.batchSize = deps.batchSize ?? 20;
    // A hand-over still waiting when its lease lapses would be taken over by another instance and
    // made twice at once; half the lease leaves the rest for recording its outcome.
    this.sendTimeoutMs = Math.min(deps.sendTimeoutMs ?? 10_000, Math.floor(this.leaseMs / 2));
    this.claimQuery = claimStatement(deps.db.engine);
  }

  /** Receipts posted to this instance's webhooks are recorded from here on, whether or not it dispatches. */
  takePostedReceipts(): void {
    for (const provider of this.deps.router.providers) provider.takePostedReceipts?.(this.receiptSink);
  }

  /** Starts every provider (receipts flow from here on), then the dispatch loop. */
  async start(): Promise<void> {
    if (this.running) return;
    for (const provider of this.deps.router.providers) await provider.start(this.receiptSink);
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Asks for a pass soon; wakes that arrive during a pass coalesce into one more pass. */
  wake(): void {
    this.wakeRequested = true;
    this.endRest?.();
  }

  /** Ends the loop, lets the pass in progress finish its sends, then stops the providers. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.endRest?.();
    await this.loop;
    this.loop = null;
    await this.passes.idle();
    for (const provider of this.deps.router.providers) await provider.stop();
  }

  /** One claim-and-send pass; resolves with the number of messages it claimed. */
  runOnce(): Promise<number> {
    return this.passes.run(() => this.dispatchDue());
  }

  /** Ends SENT messages whose receipt window has passed as UNKNOWN (TIMEOUT); resolves with how many. */
  sweepReceiptTimeouts(): Promise<number> {
    return this.passes.run(() => this.finalizeOverdue());
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      this.wakeRequested = false;
      let backlog = false;
      try {
        backlog = (await this.runOnce()) >= this.batchSize;
        // Overdue receipts are a matter of minutes: under load, when passes follow each other
        // closely, sweeping after each one would be a wasted transaction per pass.
        if (performance.now() - this.lastSweep >= this.deps.pollIntervalMs) {
          this.lastSweep = performance.now();
          await this.sweepReceiptTimeouts();
        }
      } catch (error) {
        this.deps.logger.error({ err: error }, "dispatch pass failed");
      }
      if (!backlog) await this.rest();
    }
  }

  private rest(): Promise<void> {
    if (this.wakeRequested || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const end = () => {
        clearTimeout(timer);
        this.endRest = null;
        resolve();
      };
      timer = setTimeout(end, this.deps.pollIntervalMs);
      this.endRest = end;
    });
  }

  private async dispatchDue(): Promise<number> {
    const claimed = await this.claim();
    await Promise.all(
      claimed.map(({ message, pendingAttempt }) =>
        this.dispatch(message, pendingAttempt).catch((error: unknown) => {
          // The lease lapses and the message is taken up again; the failure must not stop its batch.
          this.deps.logger.error({ err: error, messageId: message.id }, "dispatching a message failed");
        }),
      ),
    );
    return claimed.length;
  }

  /**
   * Leases up to batchSize due messages to this instance (claimStatement): one statement, so on
   * PostgreSQL no transaction around it. A message whose earlier holder recorded a hand-over and
   * never its end comes with that attempt, read once the lease is ours.
   */
  private async claim(): Promise<ClaimedMessage[]> {
    const { instanceId, db } = this.deps;
    return db.singleStatement(async ({ manager }) => {
      const now = this.deps.clock.now().getTime();
      const leased = await db.statements.writeReturning(manager, Message, this.claimQuery.sql, this.claimQuery.parameters(instanceId, now, now + this.leaseMs, this.batchSize));
      if (!leased.length) return [];
      // RETURNING keeps no order: due first, as they were picked.
      const messages = leased.sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const pending = await manager.findBy(MessageAttempt, { messageId: In(messages.map((m) => m.id)), outcome: PENDING });
      return messages.map((message) => ({
        message,
        pendingAttempt: pending.find((attempt) => attempt.messageId === message.id) ?? null,
      }));
    });
  }

  private async dispatch(message: Message, pendingAttempt: MessageAttempt | null): Promise<void> {
    const route = this.deps.router.route(message);
    if (!route.length) {
      await this.finalize(message, { status: "FAILED", errorCode: DeliveryErrorCode.COUNTRY_UNSUPPORTED, providerStatus: null });
      return;
    }
    const body = this.openBody(message);
    if (body === null) {
      await this.finalize(message, { status: "FAILED", errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE, providerStatus: null });
      return;
    }

    // A hand-over that may have reached its provider is resolved first, with that provider and
    // that key: any other choice risks the user receiving two different messages.
    const resumed = pendingAttempt ? (route.find((provider) => provider.name === pendingAttempt.provider) ?? null) : null;
    if (pendingAttempt && !resumed) {
      const abandoned = new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, "abandoned: its provider is no longer routed");
      if (!(await this.recordFailure(message, pendingAttempt.id, pendingAttempt.provider, abandoned)) || message.finalAt) return;
    }
    const candidates = resumed ? [resumed, ...route.filter((provider) => provider !== resumed)] : route;

    let lastError: ProviderError | null = null;
    let handedOver = false;
    for (const provider of candidates) {
      // Finishing the hand-over already under way is not a new attempt: the limit does not stop it.
      if (provider !== resumed && message.attempts >= this.maxAttempts) break;
      let attemptId: string;
      if (pendingAttempt && provider === resumed) {
        // Not gated by the breaker: one call under the same key is what settles the doubt.
        attemptId = pendingAttempt.id;
      } else {
        if (!this.breaker.tryAcquire(provider.name)) continue;
        let opened: string | null;
        try {
          opened = await this.openAttempt(message, provider);
        } catch (error) {
          // No call was made: a half-open circuit's trial must not stay taken for good.
          this.breaker.release(provider.name);
          throw error;
        }
        if (!opened) {
          this.breaker.release(provider.name);
          return;
        }
        attemptId = opened;
      }
      handedOver = true;

      const result = await this.handOver(provider, attemptId, message, body);
      if (!(result instanceof ProviderError)) {
        this.breaker.recordSuccess(provider.name);
        await this.recordSent(message, attemptId, provider, result);
        return;
      }
      // A refusal about the message (an inactive number), or a request to slow down, shows the
      // provider is up: a burst of throttling must not open the circuit and fail every message.
      if (result.retryable && !result.throttled) this.breaker.recordFailure(provider.name);
      else this.breaker.recordSuccess(provider.name);
      this.deps.logger.info(
        {
          messageId: message.id,
          provider: provider.name,
          errorCode: result.errorCode,
          retryable: result.retryable,
          reason: result.message,
        },
        "provider did not take the message",
      );
      if (!(await this.recordFailure(message, attemptId, provider.name, result)) || message.finalAt) return;
      lastError = result;
    }
    await this.retryLater(message, lastError, handedOver);
  }

  private openBody(message: Message): string | null {
    try {
      if (message.bodyCiphertext === null) throw new Error("the queued message has no body");
      return this.deps.secrets.openBody(message.id, message.bodyCiphertext);
    } catch (error) {
      // No retry can help: a rotated SERVER_SECRET, or a row altered by hand.
      this.deps.logger.error({ err: error, messageId: message.id }, "queued message body cannot be opened");
      return null;
    }
  }

  /** Records a PENDING attempt and renews the lease; committed before the provider is called. */
  private async openAttempt(message: Message, provider: TelephonyProvider): Promise<string | null> {
    const { db, instanceId } = this.deps;
    const now = this.deps.clock.now();
    const id = newId("att");
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const opened =
      db.engine === "postgres"
        ? (await db.singleStatement(({ manager }) =>
            db.statements.write(manager, OPEN_ATTEMPT_POSTGRES, [leaseUntil.getTime(), message.id, instanceId, id, provider.name, now.getTime()]),
          )) === 1
        : await db.transaction(async ({ manager }) => {
            const renewed = await db.statements.update(manager, Message, { id: message.id, leaseOwner: instanceId, status: "QUEUED" }, { leaseUntil });
            if (renewed !== 1) return false;
            await db.statements.insert(manager, MessageAttempt, {
              id,
              messageId: message.id,
              provider: provider.name,
              started: now,
              finished: null,
              outcome: PENDING,
              providerMessageId: null,
              retryable: false,
              detail: null,
            });
            return true;
          });
    if (!opened) {
      this.lostLease(message, "before a hand-over");
      return null;
    }
    return id;
  }

  private async handOver(
    provider: TelephonyProvider,
    attemptId: string,
    message: Message,
    body: string,
  ): Promise<SendResult | ProviderError> {
    const outbound: OutboundMessage = {
      messageId: message.id,
      idempotencyKey: attemptId,
      channel: message.channel,
      to: message.toE164,
      body,
      voiceLanguage: message.channel === "VOICE" ? message.language : null,
      senderId: message.senderId,
      encoding: message.encoding,
      segments: message.segments,
      purpose: message.purpose,
    };
    let timer: NodeJS.Timeout | undefined = undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, `no answer within ${this.sendTimeoutMs} ms`)),
        this.sendTimeoutMs,
      );
    });
    try {
      return await Promise.race([provider.send(outbound), timeout]);
    } catch (error) {
      if (error instanceof ProviderError) return error;
      // An adapter bug or a network error: nothing says the next try would fail the same way.
      return new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  private async recordSent(message: Message, attemptId: string, provider: TelephonyProvider, result: SendResult): Promise<void> {
    const { db, instanceId } = this.deps;
    const now = this.deps.clock.now();
    const changes = {
      status: "SENT" as const,
      provider: provider.name,
      providerMessageId: providerText(result.providerMessageId),
      providerStatus: providerText(result.providerStatus),
      senderId: result.senderId,
      sentAt: now,
      receiptDeadline: new Date(now.getTime() + this.receiptWindowMs),
      leaseOwner: null,
      leaseUntil: null,
      // Handed over: the code must not stay readable here.
      bodyCiphertext: null,
      updated: now,
      // Only the lease holder counts attempts, and the update holds only while the lease is ours.
      attempts: message.attempts + 1,
    };
    const sent =
      db.engine === "postgres"
        ? await db.singleStatement(async (tx) => {
            const written = await db.statements.write(tx.manager, RECORD_SENT_POSTGRES, [
              changes.provider,
              changes.providerMessageId,
              changes.providerStatus,
              changes.senderId,
              now.getTime(),
              changes.receiptDeadline.getTime(),
              now.getTime(),
              changes.attempts,
              message.id,
              instanceId,
              now.getTime(),
              changes.providerMessageId,
              attemptId,
            ]);
            if (written === 1) publishMessageStatus(tx, message, this.deps.pubsub);
            return written === 1;
          })
        : await db.transaction(async (tx) => {
            const updated = await db.statements.update(tx.manager, Message, { id: message.id, leaseOwner: instanceId, status: "QUEUED" }, changes);
            if (updated !== 1) return false;
            await db.statements.update(
              tx.manager,
              MessageAttempt,
              { id: attemptId },
              { outcome: "SENT", finished: now, providerMessageId: changes.providerMessageId, retryable: false, detail: null },
            );
            publishMessageStatus(tx, message, this.deps.pubsub);
            return true;
          });
    if (!sent) {
      // Left PENDING on purpose: whoever holds the message now resends under this same key.
      this.lostLease(message, "after a hand-over");
      return;
    }
    Object.assign(message, changes);
  }

  /**
   * Closes a failed attempt and counts it; a refusal that no retry can change, or the last
   * allowed attempt, ends the message FAILED. False when the lease was lost.
   */
  private async recordFailure(message: Message, attemptId: string, providerName: string, error: ProviderError): Promise<boolean> {
    return this.deps.db.transaction(async (tx) => {
      const now = this.deps.clock.now();
      const spendsAnAttempt = !error.throttled;
      const { affected } = await tx.manager
        .createQueryBuilder()
        .update(Message)
        .set(spendsAnAttempt ? { attempts: () => "attempts + 1", updated: now } : { updated: now })
        .where("id = :id AND lease_owner = :me AND status = :queued", { id: message.id, me: this.deps.instanceId, queued: "QUEUED" })
        .execute();
      if (affected !== 1) {
        this.lostLease(message, "after a failed hand-over");
        return false;
      }
      await tx.manager.update(
        MessageAttempt,
        { id: attemptId },
        { outcome: error.errorCode, finished: now, retryable: error.retryable, detail: error.message.slice(0, 256) },
      );
      if (spendsAnAttempt) message.attempts += 1;
      const throttledTooLong = error.throttled && now.getTime() - message.created.getTime() >= THROTTLED_PATIENCE_MS;
      if (!error.retryable || message.attempts >= this.maxAttempts || throttledTooLong) {
        await finalizeMessage(
          tx,
          message,
          { status: "FAILED", errorCode: error.errorCode, providerStatus: error.providerCode, provider: providerName },
          this.deps,
          { leaseOwner: this.deps.instanceId },
        );
      }
      return true;
    });
  }

  /**
   * No provider took the message this round: try again after an exponential backoff. A round
   * every circuit breaker refused counts as an attempt too, so that during an outage a
   * one-time code fails within seconds (the user can ask again) rather than waiting in the
   * queue until long after it has expired.
   */
  private async retryLater(message: Message, lastError: ProviderError | null, handedOver: boolean): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const now = this.deps.clock.now();
      const attempts = handedOver ? message.attempts : message.attempts + 1;
      if (attempts >= this.maxAttempts) {
        if (attempts !== message.attempts) {
          await tx.manager.update(Message, { id: message.id, leaseOwner: this.deps.instanceId }, { attempts });
          message.attempts = attempts;
        }
        await this.finalizeWithin(tx, message, {
          status: "FAILED",
          errorCode: lastError?.errorCode ?? DeliveryErrorCode.PROVIDER_UNREACHABLE,
          providerStatus: lastError?.providerCode ?? null,
        });
        return;
      }
      const delay = Math.min(FIRST_RETRY_DELAY_MS * 2 ** Math.max(attempts - 1, 0), MAX_RETRY_DELAY_MS);
      const { affected } = await tx.manager
        .createQueryBuilder()
        .update(Message)
        .set({ attempts, nextAttemptAt: new Date(now.getTime() + delay), leaseOwner: null, leaseUntil: null, updated: now })
        .where("id = :id AND lease_owner = :me AND status = :queued", { id: message.id, me: this.deps.instanceId, queued: "QUEUED" })
        .execute();
      if (affected !== 1) this.lostLease(message, "before a retry was scheduled");
    });
  }

  private async finalize(message: Message, outcome: MessageOutcome): Promise<void> {
    await this.deps.db.transaction((tx) => this.finalizeWithin(tx, message, outcome));
  }

  private async finalizeWithin(tx: Transaction, message: Message, outcome: MessageOutcome): Promise<void> {
    if (!(await finalizeMessage(tx, message, outcome, this.deps, { leaseOwner: this.deps.instanceId }))) {
      this.lostLease(message, `before it could be made ${outcome.status}`);
    }
  }

  private async finalizeOverdue(): Promise<number> {
    let total = 0;
    for (;;) {
      const { found, finalized } = await this.deps.db.transaction(async (tx) => {
        if (!(await this.deps.db.tryScheduleLock(tx, "ringfence:receipt-sweep"))) return { found: 0, finalized: 0 };
        const overdue = await tx.manager
          .createQueryBuilder(Message, "m")
          .where("m.status = :sent AND m.final_at IS NULL AND m.receipt_deadline < :now", {
            sent: "SENT",
            now: this.deps.clock.now().getTime(),
          })
          // One order for every instance, so that two sweeps lock rows in the same sequence.
          .orderBy("m.receipt_deadline", "ASC")
          .addOrderBy("m.id", "ASC")
          .limit(this.batchSize)
          .getMany();
        let count = 0;
        for (const message of overdue) {
          const outcome: MessageOutcome = {
            status: "UNKNOWN",
            errorCode: DeliveryErrorCode.TIMEOUT,
            providerStatus: message.providerStatus,
          };
          if (await finalizeMessage(tx, message, outcome, this.deps)) count += 1;
        }
        return { found: overdue.length, finalized: count };
      });
      total += finalized;
      if (found < this.batchSize || finalized === 0) return total;
    }
  }

  private lostLease(message: Message, when: string): void {
    this.deps.logger.warn(
      { messageId: message.id, instanceId: this.deps.instanceId },
      `lease on the message lost ${when}; its new holder carries on`,
    );
  }
}
