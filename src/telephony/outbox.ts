import type { Clock } from "../platform/clock";
import type { Transaction } from "../platform/database";
import type { EntityStatements } from "../platform/entity-statements";
import { newId } from "../platform/ids";
import type { GatewayPubSub } from "../platform/pubsub";
import type { ServerSecrets } from "../platform/secrets";
import type { ChallengePurpose, PhoneMethod, SmsEncoding } from "../phone/phone.enums";
import { Message } from "./message.entity";

export interface QueuedMessageInput {
  challengeId: string | null;
  userId: string | null;
  transactionId: string | null;
  purpose: ChallengePurpose;
  channel: PhoneMethod;
  toE164: string;
  country: string;
  international: boolean;
  body: string;
  /** Calls: the voice language of the script. */
  language: string | null;
  encoding: SmsEncoding | null;
  segments: number;
  estimatedCostMicros: number | null;
  senderId: string | null;
}

/** Something to tell that there is work: the dispatcher's wake-up. */
export interface DispatchSignal {
  wake(): void;
}

/**
 * Writes a QUEUED message inside the caller's transaction (with its challenge and its log
 * event), so a crash or a provider outage can never lose it; sending happens later, in the
 * dispatcher, which is woken once the transaction commits.
 */
export class Outbox {
  constructor(
    private readonly clock: Clock,
    private readonly secrets: ServerSecrets,
    private readonly pubsub: GatewayPubSub,
    private readonly signal: DispatchSignal,
    private readonly statements: EntityStatements,
  ) {}

  async enqueue(tx: Transaction, input: QueuedMessageInput): Promise<Message> {
    const now = this.clock.now();
    const id = newId("msg");
    const message = tx.manager.create(Message, {
      id,
      challengeId: input.challengeId,
      userId: input.userId,
      transactionId: input.transactionId,
      purpose: input.purpose,
      channel: input.channel,
      toE164: input.toE164,
      country: input.country,
      international: input.international,
      status: "QUEUED",
      provider: null,
      providerMessageId: null,
      providerStatus: null,
      senderId: input.senderId,
      encoding: input.encoding,
      segments: input.segments,
      language: input.language,
      bodyCiphertext: this.secrets.sealBody(id, input.body),
      errorCode: null,
      estimatedCostMicros: input.estimatedCostMicros,
      attempts: 0,
      nextAttemptAt: now,
      leaseUntil: null,
      leaseOwner: null,
      sentAt: null,
      receiptDeadline: null,
      finalAt: null,
      created: now,
      updated: now,
    });
    await this.statements.insert(tx.manager, Message, message);
    tx.afterCommit(() => {
      this.signal.wake();
      if (input.challengeId) this.pubsub.publish("MESSAGE_STATUS", input.challengeId, { messageId: id, challengeId: input.challengeId });
    });
    return message;
  }
}
