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
  /** The sender the recipient sees, as this provider sent it; null when the provider's network picks one. */
  senderId: string | null;
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

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * A provider's words as they may be stored and logged: control characters become U+FFFD.
 * PostgreSQL's text refuses U+0000 outright, so one such byte in a signed receipt would fail
 * its transaction again on every retry the provider makes; no status word needs them.
 */
export function providerText(text: string): string;
export function providerText(text: string | null): string | null;
export function providerText(text: string | null): string | null {
  // Well-formed too: a cut emoji's half surrogate would make the System Log's JSON unreadable to PostgreSQL.
  return text === null ? null : text.replace(CONTROL_CHARACTERS, "\uFFFD").toWellFormed();
}

/** The receipt with its provider-given text made storable (providerText). */
export function storableReceipt(receipt: DeliveryReceipt): DeliveryReceipt {
  return { ...receipt, providerMessageId: providerText(receipt.providerMessageId), providerStatus: providerText(receipt.providerStatus) };
}

/**
 * A provider's refusal. Only the dispatcher reads it: `retryable` decides between trying
 * again (same or next provider) and giving the message up.
 */
export class ProviderError extends Error {
  readonly providerCode: string | null;
  /**
   * The provider is up and asks us to slow down (SMPP ESME_RTHROTTLED or ESME_RMSGQFUL, HTTP
   * 429): retryable, and no sign of an outage, so it does not count towards opening its circuit.
   */
  readonly throttled: boolean;

  constructor(
    readonly errorCode: DeliveryErrorCode,
    readonly retryable: boolean,
    message: string,
    providerCode: string | null = null,
    { throttled = false }: { throttled?: boolean } = {},
  ) {
    super(providerText(message));
    this.name = "ProviderError";
    // Kept as the message's provider status, which holds 64 characters.
    this.providerCode = providerText(providerCode)?.slice(0, 64) ?? null;
    this.throttled = throttled;
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
  /**
   * Adapters whose receipts are posted to the gateway's webhooks take them through `receipts`
   * from before the gateway listens, on every instance: a balancer posts them to any instance,
   * not only to those that dispatch.
   */
  takePostedReceipts?(receipts: ReceiptSink): void;
}
