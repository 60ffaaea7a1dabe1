import type { DeliveryErrorCode } from "../platform/errors";
import type { ChallengePurpose, PhoneMethod, SmsEncoding } from "../phone/phone.enums";

/** What a provider is handed: everything it needs, and nothing it must not see. */
export interface OutboundMessage {
  messageId: string;
  /** Unique per attempt: a provider that sees it twice must deliver once. */
  idempotencyKey: string;
  channel: PhoneMethod;
  to: string;
  /** SMS: the text. Voice: the script to read. */
  body: string;
  /** BCP 47 voice language for calls (e.g. "fr-FR"). */
  voiceLanguage: string | null;
  senderId: string | null;
  encoding: SmsEncoding | null;
  segments: number;
  /** Why the code is sent: a provider may route or word by it (Okta's telephony hook calls it requestType). */
  purpose: ChallengePurpose;
}

export interface SendResult {
  providerMessageId: string;
  /** The provider's own status word at hand-over, e.g. "queued" or "accepted". */
  providerStatus: string;
}

/** A delivery receipt, as the provider reports it (webhook, deliver_sm, simulator timer). */
export interface DeliveryReceipt {
  provider: string;
  providerMessageId: string;
  status: "DELIVERED" | "UNDELIVERED" | "FAILED";
  providerStatus: string;
  errorCode: DeliveryErrorCode | null;
}

export type ReceiptSink = (receipt: DeliveryReceipt) => Promise<void>;

/**
 * A provider's refusal. Only the dispatcher reads it: `retryable` decides between trying
 * again (same or next provider) and giving the message up.
 */
export class ProviderError extends Error {
  constructor(
    readonly errorCode: DeliveryErrorCode,
    readonly retryable: boolean,
    message: string,
    readonly providerCode: string | null = null,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

/** The port every telephony adapter implements (simulator, Twilio-compatible, SMPP, hook). */
export interface TelephonyProvider {
  readonly name: string;
  readonly channels: readonly PhoneMethod[];
  send(message: OutboundMessage): Promise<SendResult>;
  /** Receipts arrive through the sink from when the dispatcher starts until `stop`. */
  start(receipts: ReceiptSink): Promise<void>;
  stop(): Promise<void>;
}
