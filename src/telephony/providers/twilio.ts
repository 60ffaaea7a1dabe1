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
import { countryOf, SenderIds } from "../sender-ids";
import { WebhookNotReadyError, WebhookSignatureError, type StatusCallbackReceiver, type WebhookOutcome } from "../webhooks";
import { describeNetworkError, PROVIDER_NAME, SettingsCheck } from "./provider-settings";

/** Who a channel's messages come from: a number per destination country, else the default. */
export interface TwilioSenders {
  default?: string | null;
  /** ISO 3166-1 alpha-2 country to an E.164 number (or, for SMS, a short code or alphanumeric id). */
  byCountry?: Readonly<Record<string, string>>;
}

export interface TwilioConfig {
  /** Keys attempts, receipts, circuit breakers and the callback path /webhooks/twilio/<name>. */
  name: string;
  /** AC followed by 32 hexadecimal digits. */
  accountSid: string;
  /** Authenticates requests to the API and signs status callbacks. Never logged. */
  authToken: string;
  /** The API's origin; another one for a Twilio-compatible vendor or a test fake. @default "https://api.twilio.com" */
  baseUrl?: string;
  /** MG followed by 32 hexadecimal digits: Twilio picks the SMS sender from the service's pool. @default unset */
  messagingServiceSid?: string | null;
  /**
   * Senders per channel. SMS is offered when it has a default or messagingServiceSid is set;
   * VOICE when it has a default (an E.164 number: calls need a caller id). @default unset
   */
  fromNumbers?: Partial<Record<PhoneMethod, TwilioSenders>>;
  /** Below the dispatcher's send timeout, so a slow API is reported as such. @default 8000 */
  requestTimeoutMs?: number;
}

export interface TwilioDependencies {
  /** Status callbacks go to publicUrl + /webhooks/twilio/<name>. */
  publicUrl: PublicUrl;
  logger: Logger;
  senderIds?: SenderIds;
}

const ACCOUNT_SID = { pattern: /^AC[0-9a-fA-F]{32}$/, description: "AC followed by 32 hexadecimal digits" };
const MESSAGING_SERVICE_SID = { pattern: /^MG[0-9a-fA-F]{32}$/, description: "MG followed by 32 hexadecimal digits" };
const E164 = /^\+[1-9][0-9]{6,14}$/;
const SMS_SENDER = /^(?:\+[1-9][0-9]{6,14}|[0-9]{3,8}|[A-Za-z0-9 ._-]{1,11})$/;
const RESOURCE_SID = /^[A-Za-z0-9]{2,64}$/;
const VOICE_LANGUAGE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$/;

/**
 * Twilio error codes, whether they come back from the API at hand-over or in a status
 * callback's ErrorCode. Anything else is PROVIDER_REJECTED, with Twilio's code kept.
 */
const TWILIO_ERROR_CODES: Readonly<Record<string, DeliveryErrorCode>> = {
  "21211": DeliveryErrorCode.NUMBER_INACTIVE, // invalid 'To' number
  "21614": DeliveryErrorCode.NUMBER_INACTIVE, // 'To' is not a mobile number
  "30003": DeliveryErrorCode.NUMBER_INACTIVE, // unreachable handset
  "30005": DeliveryErrorCode.NUMBER_INACTIVE, // unknown or inactive handset
  "30006": DeliveryErrorCode.NUMBER_INACTIVE, // landline or unreachable carrier
  "13224": DeliveryErrorCode.NUMBER_INACTIVE, // calls: invalid phone number
  "21408": DeliveryErrorCode.COUNTRY_UNSUPPORTED, // region not enabled on the account
  "21612": DeliveryErrorCode.COUNTRY_UNSUPPORTED, // 'To' not reachable from this 'From' / region
  "30007": DeliveryErrorCode.BLOCKED_SUSPICIOUS, // carrier filtering
};

type FinalStatus = Pick<DeliveryReceipt, "status" | "errorCode">;

/**
 * Final statuses of Messages (MessageStatus) and Calls (CallStatus); every other status
 * (queued, accepted, sending, sent, ringing, in-progress, ...) is ignored: only a final status
 * ends a message. A call nobody answered (busy, no-answer) reached a working line, so it is no
 * NUMBER_INACTIVE: it ends PROVIDER_REJECTED, with Twilio's word in providerStatus.
 */
const FINAL_STATUSES: Readonly<Record<string, FinalStatus>> = {
  delivered: { status: "DELIVERED", errorCode: null },
  read: { status: "DELIVERED", errorCode: null },
  undelivered: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
  failed: { status: "FAILED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
  canceled: { status: "FAILED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
  completed: { status: "DELIVERED", errorCode: null },
  busy: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
  "no-answer": { status: "UNDELIVERED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
};

/**
 * A Twilio-compatible HTTP adapter: SMS through Messages.json, calls through Calls.json with
 * inline TwiML, receipts through signed status callbacks.
 *
 * Idempotency: the attempt's key goes in I-Twilio-Idempotency-Token, so an API that honours it
 * (a Twilio-compatible vendor, the test fake) creates one message per attempt however often
 * the dispatcher resends it.
 */
export class TwilioProvider implements TelephonyProvider, StatusCallbackReceiver {
  readonly name: string;
  readonly channels: readonly PhoneMethod[];

  readonly #authToken: string;
  readonly #authorization: string;
  private readonly accountSid: string;
  private readonly baseUrl: string;
  private readonly messagingServiceSid: string | null;
  private readonly fromNumbers: Partial<Record<PhoneMethod, TwilioSenders>>;
  private readonly requestTimeoutMs: number;
  private readonly senderIds: SenderIds;
  private sink: ReceiptSink | null = null;

  constructor(
    config: TwilioConfig,
    private readonly deps: TwilioDependencies,
  ) {
    const check = new SettingsCheck(String(config.name));
    check.text(config.name, "name", PROVIDER_NAME);
    check.text(config.accountSid, "accountSid", ACCOUNT_SID);
    if (check.text(config.authToken, "authToken")) check.require(config.authToken.length >= 16, "authToken must be at least 16 characters");
    if (config.messagingServiceSid != null) check.text(config.messagingServiceSid, "messagingServiceSid", MESSAGING_SERVICE_SID);
    this.baseUrl = check.secureUrl(config.baseUrl, "baseUrl", "https://api.twilio.com");
    this.requestTimeoutMs = check.integer(config.requestTimeoutMs, "requestTimeoutMs", 8_000, 100, 60_000);

    const fromNumbers = config.fromNumbers ?? {};
    for (const [channel, senders] of Object.entries(fromNumbers)) {
      if (channel !== PhoneMethod.SMS && channel !== PhoneMethod.VOICE) {
        check.require(false, `fromNumbers.${channel} is not a channel (SMS or VOICE)`);
        continue;
      }
      const pattern = channel === PhoneMethod.VOICE ? E164 : SMS_SENDER;
      const rule =
        channel === PhoneMethod.VOICE ? "an E.164 number such as +14155550100" : "an E.164 number, a short code or an alphanumeric id";
      if (senders?.default != null) check.require(pattern.test(senders.default), `fromNumbers.${channel}.default must be ${rule}`);
      for (const [country, sender] of Object.entries(senders?.byCountry ?? {})) {
        check.require(
          /^[A-Z]{2}$/.test(country),
          `fromNumbers.${channel}.byCountry keys must be ISO 3166-1 alpha-2 codes (got "${country}")`,
        );
        check.require(pattern.test(sender), `fromNumbers.${channel}.byCountry.${country} must be ${rule}`);
      }
    }
    const channels: PhoneMethod[] = [];
    if (fromNumbers.SMS?.default || config.messagingServiceSid) channels.push(PhoneMethod.SMS);
    if (fromNumbers.VOICE?.default) channels.push(PhoneMethod.VOICE);
    check.require(
      channels.length > 0,
      "offers no channel: set fromNumbers.SMS.default or messagingServiceSid for SMS, fromNumbers.VOICE.default for calls",
    );
    check.throwIfAny();

    this.name = config.name;
    this.channels = channels;
    this.accountSid = config.accountSid;
    this.#authToken = config.authToken;
    this.#authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString("base64")}`;
    this.messagingServiceSid = config.messagingServiceSid ?? null;
    this.fromNumbers = fromNumbers;
    this.senderIds = deps.senderIds ?? new SenderIds();
  }

  /** Where Twilio posts this provider's status callbacks, and the URL their signatures cover. */
  get statusCallbackUrl(): string {
    return this.deps.publicUrl.resolve(`/webhooks/twilio/${encodeURIComponent(this.name)}`);
  }

  async start(receipts: ReceiptSink): Promise<void> {
    this.takePostedReceipts(receipts);
  }

  takePostedReceipts(receipts: ReceiptSink): void {
    this.sink = receipts;
  }

  async stop(): Promise<void> {
    this.sink = null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (!this.channels.includes(message.channel)) {
      throw new ProviderError(DeliveryErrorCode.COUNTRY_UNSUPPORTED, false, `${this.name} has no sender for ${message.channel}`);
    }
    const form = new URLSearchParams({ To: message.to, StatusCallback: this.statusCallbackUrl });
    const sender = this.senderFor(message);
    if ("from" in sender) form.set("From", sender.from);
    else form.set("MessagingServiceSid", sender.messagingServiceSid);
    if (message.channel === PhoneMethod.VOICE) form.set("Twiml", sayTwiml(message.body, message.voiceLanguage));
    else form.set("Body", message.body);

    const created = await this.post(message.channel === PhoneMethod.VOICE ? "Calls" : "Messages", form, message.idempotencyKey);
    // A messaging service picks its sender after the hand-over.
    return { providerMessageId: created.sid, providerStatus: created.status, senderId: "from" in sender ? sender.from : null };
  }

  /**
   * Applies a status callback. The signature is checked before any parameter is read: an
   * unsigned or wrongly signed request throws WebhookSignatureError and changes nothing.
   */
  async handleStatusCallback(
    url: string,
    params: Record<string, string | string[]>,
    signature: string | undefined,
  ): Promise<WebhookOutcome> {
    if (!this.signatureMatches(url, params, signature)) throw new WebhookSignatureError();
    const sink = this.sink;
    if (!sink) throw new WebhookNotReadyError(this.name);

    const accountSid = single(params.AccountSid);
    if (accountSid !== null && accountSid !== this.accountSid) {
      // Same token, other account (a subaccount sharing it): not a message this provider sent.
      this.deps.logger.warn({ provider: this.name }, "status callback for another account ignored");
      return "ignored";
    }
    const isCall = single(params.CallSid) !== null;
    const sid = isCall ? single(params.CallSid) : (single(params.MessageSid) ?? single(params.SmsSid));
    const statusWord =
      (isCall ? single(params.CallStatus) : (single(params.MessageStatus) ?? single(params.SmsStatus)))?.toLowerCase() ?? null;
    const final = statusWord === null ? undefined : FINAL_STATUSES[statusWord];
    if (!sid || !RESOURCE_SID.test(sid) || statusWord === null || !final) return "ignored";

    const twilioCode = single(params.ErrorCode) || null;
    const errorCode =
      final.status === "DELIVERED" ? null : ((twilioCode !== null ? TWILIO_ERROR_CODES[twilioCode] : undefined) ?? final.errorCode);
    await sink({
      provider: this.name,
      providerMessageId: sid,
      status: final.status,
      providerStatus: (twilioCode ? `${statusWord} ${twilioCode}` : statusWord).slice(0, 64),
      errorCode,
    });
    return "receipted";
  }

  /**
   * Twilio's scheme: base64(HMAC-SHA1(auth token, URL + each parameter's name and value, by
   * name; a repeated name once per value, values sorted)).
   */
  private signatureMatches(url: string, params: Record<string, string | string[]>, signature: string | undefined): boolean {
    if (!signature) return false;
    let signed = url;
    for (const name of Object.keys(params).sort()) {
      const value = params[name] ?? "";
      for (const item of Array.isArray(value) ? [...value].sort() : [value]) signed += name + item;
    }
    const expected = createHmac("sha1", this.#authToken).update(signed, "utf8").digest();
    const given = Buffer.from(signature, "base64");
    // Constant-time: how much of a forged signature is right must not show in the response time.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The message's or the configured sender id first; then this provider's own numbers. */
  private senderFor(message: OutboundMessage): { from: string } | { messagingServiceSid: string } {
    const chosen = this.senderIds.for(message);
    if (chosen) return { from: chosen };
    const senders = this.fromNumbers[message.channel];
    const byCountry = senders?.byCountry ?? {};
    if (Object.keys(byCountry).length) {
      const country = countryOf(message.to);
      const number = country && Object.hasOwn(byCountry, country) ? byCountry[country] : undefined;
      if (number) return { from: number };
    }
    if (message.channel === PhoneMethod.SMS && this.messagingServiceSid) return { messagingServiceSid: this.messagingServiceSid };
    if (senders?.default) return { from: senders.default };
    throw new ProviderError(DeliveryErrorCode.COUNTRY_UNSUPPORTED, false, `${this.name} has no sender for ${message.channel}`);
  }

  private async post(
    resource: "Messages" | "Calls",
    form: URLSearchParams,
    idempotencyKey: string,
  ): Promise<{ sid: string; status: string }> {
    const url = `${this.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(this.accountSid)}/${resource}.json`;
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          authorization: this.#authorization,
          accept: "application/json",
          "content-type": "application/x-www-form-urlencoded",
          "I-Twilio-Idempotency-Token": idempotencyKey,
        },
        body: form.toString(),
        // The body holds the code: a redirect could carry it to another host, or over plain HTTP.
        redirect: "error",
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, `Twilio API unreachable: ${describeNetworkError(error)}`);
    }
    const body = parseJsonObject(text);
    if (status >= 200 && status < 300) {
      const sid = body?.sid;
      if (typeof sid !== "string" || !RESOURCE_SID.test(sid)) {
        // Whether it was created is unknown. Retryable: the dispatcher prefers a second copy of the
        // same code (the next try goes under a new key) to a code that never arrives.
        throw new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, `Twilio answered ${status} without a resource sid`);
      }
      return { sid, status: typeof body?.status === "string" ? body.status.slice(0, 64) : "queued" };
    }
    throw refusal(status, body?.code);
  }
}

/** An API error as a ProviderError; the vendor's message is left out, since it quotes the number. */
function refusal(httpStatus: number, twilioCode: unknown): ProviderError {
  const code = typeof twilioCode === "number" || typeof twilioCode === "string" ? String(twilioCode) : null;
  const providerCode = code ?? `HTTP ${httpStatus}`;
  const detail = `Twilio answered ${httpStatus}${code ? ` with error ${code}` : ""}`;
  // 5xx and 429: Twilio is struggling. 401, 403 and 404: our credentials, account or base URL
  // are wrong, not the message. Either way another provider, or a later try, may carry it.
  if (httpStatus >= 500 || [401, 403, 404, 429].includes(httpStatus)) {
    return new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, detail, providerCode, { throttled: httpStatus === 429 });
  }
  const mapped = code !== null ? TWILIO_ERROR_CODES[code] : undefined;
  return new ProviderError(mapped ?? DeliveryErrorCode.PROVIDER_REJECTED, false, detail, providerCode);
}

/** TwiML that reads `text` once in `language`; both are escaped, the text may hold anything. */
export function sayTwiml(text: string, language: string | null): string {
  const attribute = language && VOICE_LANGUAGE.test(language) ? ` language="${escapeXml(language)}"` : "";
  return `<Response><Say${attribute}>${escapeXml(text)}</Say></Response>`;
}

export function escapeXml(text: string): string {
  return [...text]
    .filter(isXmlCharacter)
    .join("")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** XML 1.0 forbids control characters and lone surrogates outright: escaping cannot make them legal. */
function isXmlCharacter(character: string): boolean {
  const codePoint = character.codePointAt(0) ?? 0;
  if (codePoint < 0x20) return codePoint === 0x09 || codePoint === 0x0a || codePoint === 0x0d;
  return !(codePoint >= 0xd800 && codePoint <= 0xdfff) && codePoint !== 0xfffe && codePoint !== 0xffff;
}

function single(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
