import { createHmac, timingSafeEqual } from "node:crypto";
import { PhoneMethod } from "../../phone/phone.enums";
import { DeliveryErrorCode } from "../../platform/errors";
import type { Logger } from "../../platform/logger";
import type { PublicUrl } from "../../platform/public-url";
import {
  ProviderError,
  type DeliveryReceipt,
  type OutboundMessage,
  type ReceiptSink,
  type SendResult,
  type TelephonyProvider,
} from "../provider";
import { SenderIds } from "../sender-ids";
import {
  WebhookNotReadyError,
  WebhookPayloadError,
  WebhookSignatureError,
  type HookCallbackReceiver,
  type WebhookOutcome,
} from "../webhooks";
import { describeNetworkError, PROVIDER_NAME, SettingsCheck } from "./provider-settings";

export interface TelephonyHookConfig {
  /** Keys attempts, receipts, circuit breakers and the callback path /webhooks/hook/<name>. */
  name: string;
  /** The customer's endpoint; https outside loopback. */
  url: string;
  /** Signs requests to the hook and verifies its callbacks (HMAC-SHA256). At least 32 characters; never logged. */
  secret: string;
  /** The hook must answer within this; it is then unreachable (retryable). @default 3000 */
  timeoutMs?: number;
  /** What the hook can deliver. @default ["SMS", "VOICE"] */
  channels?: PhoneMethod[];
}

export interface TelephonyHookDependencies {
  publicUrl: PublicUrl;
  logger: Logger;
  senderIds?: SenderIds;
}

/**
 * What the hook receives, as JSON. There is no separate `code` field: the dispatcher holds
 * the rendered text only (the passcode was sealed into it at enqueue time and is not kept
 * anywhere else), so the hook delivers `body` as it is, the way an SMS aggregator would.
 * `purpose` says why (as Okta's telephony hook's requestType does), for a hook that routes or
 * words by it; `voiceLanguage` carries the language a call must be read in.
 */
export interface TelephonyHookRequest {
  messageId: string;
  /** Same value for every resend of one attempt: the hook must deliver once per key. */
  idempotencyKey: string;
  channel: PhoneMethod;
  /** E.164. */
  to: string;
  /** SMS: the text to send. VOICE: the script to read. */
  body: string;
  voiceLanguage: string | null;
  senderId: string | null;
  encoding: OutboundMessage["encoding"];
  segments: number;
  /** PHONE_VERIFICATION (enrollment), FACTOR_VERIFY (sign-in), PASSWORD_RESET or ACCOUNT_UNLOCK. */
  purpose: OutboundMessage["purpose"];
  /** Where to report a PENDING message's outcome, signed the same way. */
  statusCallbackUrl: string;
}

/**
 * What the hook answers. SUCCESSFUL: delivered (a DELIVERED receipt is recorded at once).
 * PENDING: accepted; the outcome follows on statusCallbackUrl. FAILED: refused for good;
 * errorCode may be one of NUMBER_INACTIVE, COUNTRY_UNSUPPORTED, BLOCKED_SUSPICIOUS,
 * PROVIDER_REJECTED (anything else is kept as the provider code of a PROVIDER_REJECTED).
 * A transient failure is an HTTP 429 or 5xx, or no answer within the timeout.
 */
export interface TelephonyHookResponse {
  status: "SUCCESSFUL" | "PENDING" | "FAILED";
  transactionId?: string;
  errorCode?: string;
}

/** A PENDING message's outcome, POSTed by the hook to statusCallbackUrl. */
export interface TelephonyHookCallback {
  transactionId: string;
  status: "DELIVERED" | "UNDELIVERED" | "FAILED";
  errorCode?: string;
}

export const HOOK_SIGNATURE_HEADER = "X-Ringfence-Signature";
/** A signed request older than this is refused, so a captured callback cannot be replayed later. */
const SIGNATURE_TOLERANCE_SECONDS = 300;
const TRANSACTION_ID = /^[\x21-\x7E]{1,128}$/;
const REFUSAL_CODES = new Set<string>([
  DeliveryErrorCode.NUMBER_INACTIVE,
  DeliveryErrorCode.COUNTRY_UNSUPPORTED,
  DeliveryErrorCode.BLOCKED_SUSPICIOUS,
  DeliveryErrorCode.PROVIDER_REJECTED,
]);

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`: the timestamp is
 * signed with the body, so neither can be changed, and a stale one can be refused.
 */
export function signHookPayload(secret: string, rawBody: string | Buffer, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.`).update(rawBody).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** Whether `header` signs `rawBody` with `secret` within the tolerance of `nowSeconds`. */
export function hookSignatureMatches(secret: string, rawBody: Buffer, header: string | undefined, nowSeconds: number): boolean {
  if (!header) return false;
  const fields = new Map<string, string[]>();
  for (const part of header.split(",")) {
    const separator = part.indexOf("=");
    if (separator <= 0) continue;
    const key = part.slice(0, separator).trim();
    fields.set(key, [...(fields.get(key) ?? []), part.slice(separator + 1).trim()]);
  }
  const timestamp = fields.get("t")?.[0];
  if (!timestamp || !/^[0-9]{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest();
  // Several v1 values let the hook sign with an old and a new secret while rotating.
  return (fields.get("v1") ?? []).some((candidate) => {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) return false;
    // Constant-time: how much of a forged signature is right must not show in the response time.
    return timingSafeEqual(Buffer.from(candidate, "hex"), expected);
  });
}

/**
 * Delivery through the customer's own endpoint, like Okta's telephony inline hook: each
 * message is POSTed as signed JSON, and the answer says whether it went out.
 */
export class TelephonyHookProvider implements TelephonyProvider, HookCallbackReceiver {
  readonly name: string;
  readonly channels: readonly PhoneMethod[];

  readonly #secret: string;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly senderIds: SenderIds;
  private sink: ReceiptSink | null = null;
  private readonly immediateReceipts = new Set<Promise<void>>();

  constructor(
    config: TelephonyHookConfig,
    private readonly deps: TelephonyHookDependencies,
  ) {
    const check = new SettingsCheck(String(config.name));
    check.text(config.name, "name", PROVIDER_NAME);
    if (check.text(config.secret, "secret")) check.require(config.secret.length >= 32, "secret must be at least 32 characters");
    // The body holds a one-time code: only a loopback hop may carry it in the clear.
    this.url = check.secureUrl(config.url, "url");
    this.timeoutMs = check.integer(config.timeoutMs, "timeoutMs", 3_000, 100, 30_000);
    const channels = config.channels ?? [PhoneMethod.SMS, PhoneMethod.VOICE];
    check.require(
      Array.isArray(channels) &&
        channels.length > 0 &&
        channels.every((channel) => channel === PhoneMethod.SMS || channel === PhoneMethod.VOICE),
      'channels must list "SMS" and/or "VOICE"',
    );
    check.throwIfAny();

    this.name = config.name;
    this.channels = [...new Set(channels)];
    this.#secret = config.secret;
    this.senderIds = deps.senderIds ?? new SenderIds();
  }

  get statusCallbackUrl(): string {
    return this.deps.publicUrl.resolve(`/webhooks/hook/${encodeURIComponent(this.name)}`);
  }

  async start(receipts: ReceiptSink): Promise<void> {
    this.takePostedReceipts(receipts);
  }

  takePostedReceipts(receipts: ReceiptSink): void {
    this.sink = receipts;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.immediateReceipts]);
    this.sink = null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const request: TelephonyHookRequest = {
      messageId: message.messageId,
      idempotencyKey: message.idempotencyKey,
      channel: message.channel,
      to: message.to,
      body: message.body,
      voiceLanguage: message.voiceLanguage,
      senderId: this.senderIds.for(message),
      encoding: message.encoding,
      segments: message.segments,
      purpose: message.purpose,
      statusCallbackUrl: this.statusCallbackUrl,
    };
    const rawBody = JSON.stringify(request);
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          // Real time, not the gateway's clock: the hook compares it with its own wall clock.
          [HOOK_SIGNATURE_HEADER]: signHookPayload(this.#secret, rawBody, Math.floor(Date.now() / 1000)),
        },
        body: rawBody,
        // The body holds the code: a redirect could carry it to another host, or over plain HTTP.
        redirect: "error",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, `telephony hook unreachable: ${describeNetworkError(error)}`);
    }

    if (status >= 500 || status === 429 || status === 401 || status === 403) {
      // 401/403: the hook refuses our signature, a configuration matter another provider is spared.
      throw new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, `telephony hook answered ${status}`, `HTTP ${status}`, {
        throttled: status === 429,
      });
    }
    if (status < 200 || status >= 300) {
      throw new ProviderError(DeliveryErrorCode.PROVIDER_REJECTED, false, `telephony hook answered ${status}`, `HTTP ${status}`);
    }
    const reply = parseReply(text);
    if (!reply) {
      // Whether it went out is unknown. Retryable: the dispatcher prefers a second copy of the
      // same code (the next try goes under a new key) to a code that never arrives.
      throw new ProviderError(
        DeliveryErrorCode.PROVIDER_UNREACHABLE,
        true,
        "telephony hook answered with no valid status",
        "invalid reply",
      );
    }
    if (reply.status === "FAILED") {
      const code = reply.errorCode ?? null;
      const errorCode = code !== null && REFUSAL_CODES.has(code) ? (code as DeliveryErrorCode) : DeliveryErrorCode.PROVIDER_REJECTED;
      throw new ProviderError(errorCode, false, `telephony hook refused the message${code ? ` (${code})` : ""}`, code);
    }
    const transactionId = reply.transactionId as string;
    if (reply.status === "SUCCESSFUL") {
      this.receiptLater({
        provider: this.name,
        providerMessageId: transactionId,
        status: "DELIVERED",
        providerStatus: "SUCCESSFUL",
        errorCode: null,
      });
    }
    return { providerMessageId: transactionId, providerStatus: reply.status, senderId: request.senderId };
  }

  /** A PENDING message's outcome. The signature is checked before the body is parsed. */
  async handleCallback(rawBody: Buffer, signature: string | undefined): Promise<WebhookOutcome> {
    if (!hookSignatureMatches(this.#secret, rawBody, signature, Math.floor(Date.now() / 1000))) throw new WebhookSignatureError();
    const sink = this.sink;
    if (!sink) throw new WebhookNotReadyError(this.name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody.toString("utf8"));
    } catch {
      throw new WebhookPayloadError("the body is not JSON");
    }
    if (typeof parsed !== "object" || parsed === null) throw new WebhookPayloadError("the body is not a JSON object");
    const { transactionId, status, errorCode } = parsed as Record<string, unknown>;
    if (typeof transactionId !== "string" || !TRANSACTION_ID.test(transactionId))
      throw new WebhookPayloadError("transactionId is missing or malformed");
    if (typeof status !== "string") throw new WebhookPayloadError("status is missing");
    if (status !== "DELIVERED" && status !== "UNDELIVERED" && status !== "FAILED") return "ignored";
    const code = typeof errorCode === "string" && errorCode ? errorCode : null;
    await sink({
      provider: this.name,
      providerMessageId: transactionId,
      status,
      providerStatus: (code ? `${status} ${code}` : status).slice(0, 64),
      errorCode:
        status === "DELIVERED"
          ? null
          : code !== null && REFUSAL_CODES.has(code)
            ? (code as DeliveryErrorCode)
            : DeliveryErrorCode.PROVIDER_REJECTED,
    });
    return "receipted";
  }

  /**
   * Not awaited in send: the receipt names a provider id the dispatcher commits only after send
   * returns, and the receipt processor waits for that commit.
   */
  private receiptLater(receipt: DeliveryReceipt): void {
    const sink = this.sink;
    if (!sink) return;
    const delivery = Promise.resolve()
      .then(() => sink(receipt))
      .catch((error: unknown) => this.deps.logger.error({ err: error, provider: this.name }, "telephony hook receipt not recorded"))
      .finally(() => this.immediateReceipts.delete(delivery));
    this.immediateReceipts.add(delivery);
  }
}

function parseReply(text: string): TelephonyHookResponse | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { status, transactionId, errorCode } = value as Record<string, unknown>;
  if (status !== "SUCCESSFUL" && status !== "PENDING" && status !== "FAILED") return null;
  if (status !== "FAILED" && (typeof transactionId !== "string" || !TRANSACTION_ID.test(transactionId))) return null;
  return {
    status,
    transactionId: typeof transactionId === "string" ? transactionId : undefined,
    errorCode: typeof errorCode === "string" ? errorCode.slice(0, 64) : undefined,
  };
}
