import { setTimeout as sleep } from "node:timers/promises";
import { receiveStatusEventType, type LogResult } from "../log/event-types";
import { SYSTEM_ACTOR, type LogEventInput, type LogService, type LogTarget } from "../log/log.service";
import { maskPhoneNumber } from "../phone/phone-number";
import type { MessageStatus } from "../phone/phone.enums";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import type { RowsOf } from "../platform/entity-statements";
import type { DeliveryErrorCode } from "../platform/errors";
import { newId } from "../platform/ids";
import type { Logger } from "../platform/logger";
import type { GatewayPubSub } from "../platform/pubsub";
import { Message, MessageAttempt, MessageReceipt } from "./message.entity";
import type { DeliveryReceipt } from "./provider";

export type FinalMessageStatus = Exclude<MessageStatus, "QUEUED" | "SENT">;

/** How a message ended, as the receipt, the send failure or the receipt timeout tells it. */
export interface MessageOutcome {
  status: FinalMessageStatus;
  errorCode: DeliveryErrorCode | null;
  /** The provider's own word for it; callers with nothing new pass the row's current value. */
  providerStatus: string | null;
  /** The provider that refused the message, when the row does not name one yet (send failures). */
  provider?: string;
}

export interface FinalizeDependencies {
  db: Database;
  clock: Clock;
  pubsub: GatewayPubSub;
  log: LogService;
}

/** Extra conditions on the finalizing update, for a writer that may only finalize what it holds. */
export interface FinalizeGuard {
  /** The dispatcher's instance id: a message another instance leased meanwhile is left alone. */
  leaseOwner?: string;
}

const RESULT_OF_STATUS: Record<FinalMessageStatus, LogResult> = {
  DELIVERED: "SUCCESS",
  UNDELIVERED: "FAILURE",
  FAILED: "FAILURE",
  UNKNOWN: "UNKNOWN",
};

/** Tells the page that waits on a challenge that one of its messages moved, once the move is committed. */
export function publishMessageStatus(tx: Transaction, message: Pick<Message, "id" | "challengeId">, pubsub: GatewayPubSub): void {
  const { id: messageId, challengeId } = message;
  if (challengeId) tx.afterCommit(() => pubsub.publish("MESSAGE_STATUS", challengeId, { messageId, challengeId }));
}

/**
 * What ending a message sets, whichever way it is found. A one-time code has no business being
 * readable once nobody will send it again: the body goes, with the lease.
 */
const END_MESSAGE =
  'UPDATE "messages" SET "status" = ?, "error_code" = ?, "provider_status" = ?, "provider" = ?, "final_at" = ?, "updated" = ?, ' +
  '"body_ciphertext" = NULL, "lease_owner" = NULL, "lease_until" = NULL';
const endMessageValues = (outcome: MessageOutcome, provider: string | null, now: Date) => [
  outcome.status,
  outcome.errorCode,
  outcome.providerStatus,
  provider,
  now.getTime(),
  now.getTime(),
];
const END_BY_ID = `${END_MESSAGE} WHERE "id" = ? AND "final_at" IS NULL`;

/**
 * Makes a message final, writes its one receive_status event and publishes the change; returns
 * whether this call did it. Receipts, send failures and the receipt-timeout sweep race to end
 * the same message, on several instances: the update is conditioned on final_at being unset, so
 * the database lets exactly one of them through (PostgreSQL re-checks the condition after the
 * row lock is released), and only that one writes the event.
 */
export async function finalizeMessage(
  tx: Transaction,
  message: Message,
  outcome: MessageOutcome,
  deps: FinalizeDependencies,
  guard: FinalizeGuard = {},
): Promise<boolean> {
  const now = deps.clock.now();
  const provider = outcome.provider ?? message.provider;
  const values = [...endMessageValues(outcome, provider, now), message.id];
  const affected =
    guard.leaseOwner === undefined
      ? await deps.db.statements.write(tx.manager, END_BY_ID, values)
      : await deps.db.statements.write(tx.manager, `${END_BY_ID} AND "lease_owner" = ?`, [...values, guard.leaseOwner]);
  if (affected !== 1) return false;

  Object.assign(message, {
    status: outcome.status,
    errorCode: outcome.errorCode,
    providerStatus: outcome.providerStatus,
    provider,
    finalAt: now,
    updated: now,
    bodyCiphertext: null,
    leaseOwner: null,
    leaseUntil: null,
  });
  await recordFinal(tx, message, outcome, deps);
  return true;
}

/** What follows the update that ended a message: its one receive_status event, and the change published. */
async function recordFinal(tx: Transaction, message: Message, outcome: MessageOutcome, deps: FinalizeDependencies, alongside: readonly RowsOf[] = []): Promise<void> {
  await deps.log.record(tx, receiveStatusEvent(message, outcome), alongside);
  publishMessageStatus(tx, message, deps.pubsub);
}

/**
 * finalizeMessage's update for a receipt, found by the provider's id it names, the row read
 * back from the write (RETURNING). The one row: provider ids are not unique by constraint.
 */
const END_BY_PROVIDER_ID = `${END_MESSAGE} WHERE "id" = (SELECT "id" FROM "messages" WHERE "provider" = ? AND "provider_message_id" = ? AND "final_at" IS NULL LIMIT 1) AND "final_at" IS NULL`;

function receiveStatusEvent(message: Message, outcome: MessageOutcome): LogEventInput {
  const target: LogTarget[] = [];
  if (message.userId) target.push({ id: message.userId, type: "User" });
  target.push({ id: message.id, type: "Message", alternateId: maskPhoneNumber(message.toE164) });
  return {
    eventType: receiveStatusEventType(message.channel),
    displayMessage: message.channel === "SMS" ? "Receive SMS status" : "Receive voice call status",
    actor: SYSTEM_ACTOR,
    target,
    outcome: { result: RESULT_OF_STATUS[outcome.status], reason: outcome.errorCode },
    transactionId: message.transactionId,
    debugContext: {
      provider: message.provider,
      providerStatus: outcome.providerStatus,
      messageId: message.id,
      segments: message.segments,
      encoding: message.encoding,
      country: message.country,
      errorCode: outcome.errorCode,
      cost: message.estimatedCostMicros == null ? null : message.estimatedCostMicros / 1_000_000,
      purpose: message.purpose,
      channel: message.channel,
      // A provider refuses with the same codes before taking a message and after (a carrier's filter):
      // whether it took this one is what tells a failed send from a failed delivery.
      handedOver: message.sentAt != null,
    },
  };
}

export type ReceiptResult = "applied" | "late" | "unknown";

export interface ReceiptProcessorDependencies extends FinalizeDependencies {
  db: Database;
  logger: Logger;
  /**
   * How long to keep looking for the message a receipt names. A provider may report delivery
   * before the dispatcher has committed the id it was handed back (a fast webhook, another
   * instance), so a miss is retried for this long before the receipt is called unknown.
   * @default 5000
   */
  unmatchedReceiptWaitMs?: number;
}

const UNMATCHED_RECEIPT_POLL_MS = 50;

/** Applies providers' delivery receipts to their messages, and journals every one of them. */
export class ReceiptProcessor {
  private readonly unmatchedReceiptWaitMs: number;

  constructor(private readonly deps: ReceiptProcessorDependencies) {
    this.unmatchedReceiptWaitMs = deps.unmatchedReceiptWaitMs ?? 5_000;
  }

  /**
   * "applied": the receipt ended its message. "late": the message had already ended (a
   * duplicate, or a receipt after the timeout); it is journaled and changes nothing. "unknown":
   * no message carries that provider id.
   */
  async apply(receipt: DeliveryReceipt): Promise<ReceiptResult> {
    // Real time, not the injected clock: this waits for another writer's commit.
    const giveUpAt = Date.now() + this.unmatchedReceiptWaitMs;
    for (;;) {
      const result = await this.deps.db.transaction((tx) => this.applyWithin(tx, receipt));
      if (result !== "unknown") return result;
      if (Date.now() >= giveUpAt) {
        this.deps.logger.warn(
          { provider: receipt.provider, providerMessageId: receipt.providerMessageId, status: receipt.status },
          "delivery receipt for no known message",
        );
        return result;
      }
      await sleep(UNMATCHED_RECEIPT_POLL_MS);
    }
  }

  private async applyWithin(tx: Transaction, receipt: DeliveryReceipt): Promise<ReceiptResult> {
    const { db, clock } = this.deps;
    const outcome: MessageOutcome = { status: receipt.status, errorCode: receipt.errorCode, providerStatus: receipt.providerStatus, provider: receipt.provider };
    const now = clock.now();
    // The usual receipt, the first for a message under the id its provider gave back, ends it in
    // one statement and is journaled in its event's: on PostgreSQL two round trips, not four.
    const [ended] = await db.statements.writeReturning(tx.manager, Message, END_BY_PROVIDER_ID, [
      ...endMessageValues(outcome, receipt.provider, now),
      receipt.provider,
      receipt.providerMessageId,
    ]);
    if (ended) {
      await recordFinal(tx, ended, outcome, this.deps, [{ entity: MessageReceipt, rows: [journalRow(ended.id, receipt, true, now)] }]);
      return "applied";
    }
    // A duplicate or late receipt, or one under the id of an earlier attempt's provider.
    const message = await this.findMessage(tx, receipt);
    if (!message) return "unknown";
    const applied = message.finalAt === null && (await finalizeMessage(tx, message, outcome, this.deps));
    await db.statements.insert(tx.manager, MessageReceipt, journalRow(message.id, receipt, applied, clock.now()));
    return applied ? "applied" : "late";
  }

  /** By the message's current provider id, else by any attempt's: a message may have been handed to several providers. */
  private async findMessage(tx: Transaction, receipt: DeliveryReceipt): Promise<Message | null> {
    const key = { provider: receipt.provider, providerMessageId: receipt.providerMessageId };
    const { statements } = this.deps.db;
    const message = await statements.findOneBy(tx.manager, Message, key);
    if (message) return message;
    const attempt = await statements.findOneBy(tx.manager, MessageAttempt, key);
    return attempt ? statements.findOneBy(tx.manager, Message, { id: attempt.messageId }) : null;
  }
}

function journalRow(messageId: string, receipt: DeliveryReceipt, applied: boolean, received: Date): MessageReceipt {
  return {
    id: newId("rcp"),
    messageId,
    provider: receipt.provider,
    status: receipt.status,
    providerStatus: receipt.providerStatus,
    errorCode: receipt.errorCode,
    applied,
    received,
  };
}
