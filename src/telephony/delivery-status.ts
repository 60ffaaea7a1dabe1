import { timingSafeEqual } from "node:crypto";
import type { SubscriptionGrant } from "../auth/credential-revalidation";
import type { Viewer } from "../auth/viewer";
import { Challenge } from "../phone/challenge.entity";
import type { MessageStatus } from "../phone/phone.enums";
import type { Clock } from "../platform/clock";
import type { Database } from "../platform/database";
import { AppError, ErrorCode, notFound } from "../platform/errors";
import { hashSecret } from "../platform/ids";
import type { Logger } from "../platform/logger";
import type { FanOutGaps, GatewayPubSub } from "../platform/pubsub";
import { bufferOverflow, SubscriptionChannel } from "../platform/subscription-channel";
import { AuthTransactionRecord } from "../transactions/auth-transaction.entity";
import { Message } from "./message.entity";

export interface DeliveryStatusDependencies {
  db: Database;
  clock: Clock;
  pubsub: GatewayPubSub;
  fanOutGaps: FanOutGaps;
  logger: Logger;
  /** Messages a subscription may fall behind before it is ended. */
  bufferSize: number;
}

/** State handles we issue are far shorter; anything longer is not one, and is not hashed. */
const MAX_STATE_HANDLE_LENGTH = 512;

/** Statuses only move forward: QUEUED, then SENT, then one final status. */
const STATUS_RANK: Record<MessageStatus, number> = { QUEUED: 0, SENT: 1, DELIVERED: 2, UNDELIVERED: 2, FAILED: 2, UNKNOWN: 2 };

/**
 * The `deliveryStatus` subscription: lets a login page (or an admin) watch its challenge's
 * messages move from QUEUED to their final status.
 *
 * The QUEUED publication is usually over before the page can subscribe (it happens when the
 * challenge is made), so a subscription starts with the current state of each message of the
 * challenge, oldest first, and goes on with every change. A message is emitted only when its
 * status moves forward: a change seen both in that first read and in a publication comes
 * once, and a read that lost a race to a newer one never sends the client back in time.
 */
export class DeliveryStatusFeed {
  constructor(private readonly deps: DeliveryStatusDependencies) {}

  /**
   * Who may watch: an admin, the signed-in owner of the challenge, or a caller presenting the
   * state handle of the transaction that holds it. Refusals happen here, at subscribe time. Only
   * an admin, who may watch any, is told that a challenge does not exist: anyone else is refused
   * as for someone else's, so the answer does not say which ids are real.
   */
  async authorize(viewer: Viewer, challengeId: string, stateHandle: string | null | undefined): Promise<SubscriptionGrant> {
    const challenge = await this.deps.db.manager.findOneBy(Challenge, { id: challengeId });
    if (viewer.kind === "admin") {
      if (!challenge) throw notFound("Challenge");
      return { kind: "apiToken", tokenId: viewer.tokenId };
    }
    if (challenge && viewer.kind === "user" && viewer.userId === challenge.userId) return { kind: "session", sessionId: viewer.sessionId };
    if (challenge && stateHandle && challenge.transactionId && (await this.holdsTransaction(challenge.transactionId, stateHandle))) {
      return { kind: "transaction", transactionId: challenge.transactionId };
    }
    if (viewer.kind === "anonymous" && !stateHandle) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, "Sign in, send an admin token, or pass the transaction's stateHandle");
    }
    throw new AppError(ErrorCode.FORBIDDEN, "You may only watch your own challenge's messages");
  }

  /** The messages of the challenge as they are now, then each change, until the client leaves. */
  open(challengeId: string, admit: () => Promise<AppError | null>): SubscriptionChannel<Message> {
    const source = this.deps.pubsub.subscribe("MESSAGE_STATUS", challengeId)[Symbol.asyncIterator]();
    const channel = new SubscriptionChannel<Message>({
      capacity: this.deps.bufferSize,
      overflowError: () => bufferOverflow(this.deps.bufferSize, "messages"),
      admit,
      onClose: () => {
        stopCatchingUp();
        void source.return?.();
      },
    });

    const emitted = new Map<string, number>();
    let deliveries: Promise<void> = Promise.resolve();
    // Loads start as soon as a change is published, so a quick SENT-then-DELIVERED is read
    // as it was; they are delivered one after another, in publication order.
    const deliver = (loading: Promise<Message[]>) => {
      // Awaited only once the loads before it are delivered: a failure before then would be an
      // unhandled rejection meanwhile, which ends the process. The await below still sees it.
      loading.catch(() => undefined);
      deliveries = deliveries.then(async () => {
        let messages: Message[];
        try {
          messages = await loading;
        } catch (error) {
          // No later publication may come to make up for it: the subscription ends, and its
          // client, subscribing again, reads the messages as they are.
          this.deps.logger.error({ err: error, challengeId }, "a message status could not be loaded for its subscriber");
          channel.fail(new AppError(ErrorCode.INTERNAL, "Internal server error"));
          return;
        }
        for (const message of messages) {
          const rank = STATUS_RANK[message.status];
          if (message.challengeId !== challengeId || rank <= (emitted.get(message.id) ?? -1)) continue;
          emitted.set(message.id, rank);
          channel.push(message);
        }
      });
    };

    // Listening starts before the first read, so no change can fall between the two.
    void (async () => {
      try {
        for (let next = await source.next(); !next.done; next = await source.next()) {
          deliver(this.deps.db.manager.findBy(Message, { id: next.value.messageId }));
        }
      } catch (error) {
        this.deps.logger.error({ err: error, challengeId }, "a delivery status subscription stopped listening");
        channel.fail(new AppError(ErrorCode.INTERNAL, "Internal server error"));
      }
    })();
    const readAll = () => this.deps.db.manager.find(Message, { where: { challengeId }, order: { created: "ASC", id: "ASC" } });
    deliver(readAll());
    // Changes published while Redis was away never come: the messages are read again instead,
    // and only a status that moved on is sent.
    const stopCatchingUp = this.deps.fanOutGaps.onResumed(() => deliver(readAll()));
    return channel;
  }

  /** The state handle's hash against the transaction's, in constant time; only a live transaction counts. */
  private async holdsTransaction(transactionId: string, stateHandle: string): Promise<boolean> {
    if (stateHandle.length > MAX_STATE_HANDLE_LENGTH) return false;
    const transaction = await this.deps.db.manager.findOneBy(AuthTransactionRecord, { id: transactionId });
    if (!transaction) return false;
    const presented = Buffer.from(hashSecret(stateHandle));
    const expected = Buffer.from(transaction.stateHandleHash);
    // Constant time: the comparison must not tell a guesser how many leading characters were right.
    const matches = presented.length === expected.length && timingSafeEqual(presented, expected);
    const live = transaction.finishedAt === null && transaction.expiresAt.getTime() > this.deps.clock.now().getTime();
    return matches && live;
  }
}
