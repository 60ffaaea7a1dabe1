import { randomInt } from "node:crypto";
import { connect, encodings, errors as commandStatusNames, PDU, type PduFields, type Session } from "smpp";
import { PhoneMethod, type SmsEncoding } from "../../phone/phone.enums";
import { DeliveryErrorCode } from "../../platform/errors";
import type { Logger } from "../../platform/logger";
import { analyseSms, splitIntoSegments } from "../../templates/segments";
import {
  ProviderError,
  type DeliveryReceipt,
  type OutboundMessage,
  type ReceiptSink,
  type SendResult,
  type TelephonyProvider,
} from "../provider";
import { SenderIds } from "../sender-ids";
import { describeNetworkError, PROVIDER_NAME, SettingsCheck } from "./provider-settings";

export interface SmppConfig {
  /** Keys attempts, receipts and circuit breakers. */
  name: string;
  host: string;
  /** @default 2775 */
  port?: number;
  /** SMPP over TLS (the SMSC's TLS port, often 3550). @default false */
  tls?: boolean;
  /** bind_transceiver system_id: at most 15 characters (SMPP 3.4). */
  systemId: string;
  /** bind_transceiver password: at most 8 characters (SMPP 3.4). Never logged. */
  password: string;
  /** @default "" */
  systemType?: string;
  /** source_addr when no sender id applies: "+E.164", a short code, or an alphanumeric id. @default unset: the SMSC's */
  sourceAddr?: string | null;
  /** Idle link check; a missing answer drops the link and reconnects. @default 30000 */
  enquireLinkIntervalMs?: number;
  /** How long a request (bind, submit_sm, enquire_link) may wait for its response. @default 5000 */
  responseTimeoutMs?: number;
  /** First reconnect delay; doubles after each failed try. @default 1000 */
  reconnectInitialDelayMs?: number;
  /** @default 60000 */
  reconnectMaxDelayMs?: number;
  /** How long a send waits for the link to be bound before it counts the SMSC unreachable. @default 3000 */
  bindWaitMs?: number;
  /**
   * How the SMSC writes a message id: in submit_sm_resp (and receipted_message_id, which SMPP 3.4
   * says repeats it) and in a receipt's text. Many give one number in hex at submission and in
   * decimal in receipts (Kannel's msg-id-type); told so, the adapter reads both as that number.
   * Both "text" (compared as written) or both numbers. @default { submitResponse: "text", receipt: "text" }
   */
  messageIdFormats?: { submitResponse?: MessageIdFormat; receipt?: MessageIdFormat };
}

export type MessageIdFormat = "text" | "hex" | "decimal";

const MESSAGE_ID_FORMATS: readonly MessageIdFormat[] = ["text", "hex", "decimal"];

/** The id as its number in decimal, when `format` says it is one; as written otherwise, or when it is not one after all. */
function canonicalMessageId(id: string, format: MessageIdFormat): string {
  const digits = format === "hex" ? /^[0-9a-f]+$/i : /^[0-9]+$/;
  if (format === "text" || !digits.test(id)) return id;
  return BigInt(format === "hex" ? `0x${id}` : id).toString(10);
}

export interface SmppDependencies {
  logger: Logger;
  senderIds?: SenderIds;
}

/** Command statuses of SMPP 3.4 (section 5.1.3) that this adapter tells apart. */
const CommandStatus = {
  ESME_ROK: 0x00,
  ESME_RINVBNDSTS: 0x04,
  ESME_RSYSERR: 0x08,
  ESME_RINVDSTADR: 0x0b,
  ESME_RMSGQFUL: 0x14,
  ESME_RTHROTTLED: 0x58,
  ESME_RX_T_APPN: 0x64,
} as const;

/** The SMSC is overloaded or failing, not refusing this message: the same or another provider may take it later. */
const TRANSIENT_STATUSES = new Set<number>([
  CommandStatus.ESME_RSYSERR,
  CommandStatus.ESME_RMSGQFUL,
  CommandStatus.ESME_RTHROTTLED,
  CommandStatus.ESME_RX_T_APPN,
  CommandStatus.ESME_RINVBNDSTS,
]);

const ESM_CLASS_UDH_INDICATOR = 0x40;
const ESM_CLASS_MESSAGE_TYPE = 0x3c;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const DATA_CODING: Record<SmsEncoding, number> = { GSM_7: 0x00, UCS_2: 0x08 };
const TON_INTERNATIONAL = 1;
const TON_NETWORK_SPECIFIC = 3;
const TON_ALPHANUMERIC = 5;
const NPI_ISDN = 1;
const MAX_CONCATENATED_PARTS = 255;
/** Hand-overs remembered for idempotency; at the dispatcher's pace, far more than one receipt window's worth. */
const REMEMBERED_HAND_OVERS = 10_000;
const REMEMBERED_LATER_PART_IDS = 50_000;

/** message_state TLV values (SMPP 3.4, 5.2.28) as the stat words of the receipt text. */
const MESSAGE_STATES = ["SCHEDULED", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "SKIPPED"];

/** Final receipt stats; ENROUTE, ACCEPTD, SCHEDULED and UNKNOWN are not final and are ignored. */
const FINAL_STATS: Readonly<Record<string, Pick<DeliveryReceipt, "status" | "errorCode">>> = {
  DELIVRD: { status: "DELIVERED", errorCode: null },
  UNDELIV: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.NUMBER_INACTIVE },
  // The handset stayed unreachable for the whole validity period.
  EXPIRED: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.NUMBER_INACTIVE },
  REJECTD: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
  DELETED: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
  SKIPPED: { status: "UNDELIVERED", errorCode: DeliveryErrorCode.PROVIDER_REJECTED },
};

interface HandOver {
  /** The concatenation reference every part of this message carries, on every try. */
  reference: number;
  /** submit_sm_resp message ids of the parts sent so far. */
  partIds: string[];
  result: SendResult | null;
  running: Promise<SendResult> | null;
}

interface PendingRequest {
  session: Session;
  fail(error: ProviderError): void;
}

interface BindWaiter {
  resolve(session: Session): void;
  reject(error: ProviderError): void;
}

/**
 * An SMPP 3.4 client (ESME) bound as a transceiver: submits SMS with submit_sm and takes
 * delivery receipts from deliver_sm on the same link, which it keeps alive with enquire_link
 * and re-establishes with exponential backoff. SMPP carries no calls.
 *
 * Long texts travel as concatenated parts (8-bit reference UDH). The message's provider id is
 * its first part's message_id; receipts for the other parts are acknowledged and ignored, so a
 * message counts as delivered when its first part is.
 *
 * Idempotency: SMPP has none, so this adapter remembers, in memory, what it already submitted
 * of each message, whichever attempt asked: the dispatcher's next try comes under a new key, and
 * a long text one of whose parts was refused (throttled, the link lost) must go on from that
 * part, under the same reference, not reach the handset again whole. A message already handed
 * over is answered with its first result: the dispatcher may have given up waiting on it. After
 * a restart that memory is gone; a submit_sm whose response was lost can still be sent twice.
 */
export class SmppProvider implements TelephonyProvider {
  readonly name: string;
  readonly channels: readonly PhoneMethod[] = [PhoneMethod.SMS];

  readonly #password: string;
  private readonly host: string;
  private readonly port: number;
  private readonly tls: boolean;
  private readonly systemId: string;
  private readonly systemType: string;
  private readonly sourceAddr: string | null;
  private readonly enquireLinkIntervalMs: number;
  private readonly responseTimeoutMs: number;
  private readonly reconnectInitialDelayMs: number;
  private readonly reconnectMaxDelayMs: number;
  private readonly bindWaitMs: number;
  private readonly submittedIds: MessageIdFormat;
  private readonly receiptIds: MessageIdFormat;
  private readonly senderIds: SenderIds;

  private sink: ReceiptSink | null = null;
  private running = false;
  /** The link being opened, bound, or in use; one at a time. */
  private session: Session | null = null;
  private boundSession: Session | null = null;
  private reconnectDelayMs: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private enquireLinkTimer: NodeJS.Timeout | null = null;
  private nextReference = randomInt(256);
  private readonly pending = new Set<PendingRequest>();
  private readonly bindWaiters = new Set<BindWaiter>();
  private readonly handOvers = new RecentMap<string, HandOver>(REMEMBERED_HAND_OVERS);
  private readonly laterPartIds = new RecentMap<string, true>(REMEMBERED_LATER_PART_IDS);
  private readonly receiptsInFlight = new Set<Promise<void>>();

  constructor(
    config: SmppConfig,
    private readonly deps: SmppDependencies,
  ) {
    const check = new SettingsCheck(String(config.name));
    check.text(config.name, "name", PROVIDER_NAME);
    check.text(config.host, "host");
    this.port = check.integer(config.port, "port", 2775, 1, 65_535);
    check.require(config.tls === undefined || typeof config.tls === "boolean", "tls must be true or false");
    if (check.text(config.systemId, "systemId")) {
      check.require(config.systemId.length <= 15, "systemId must be at most 15 characters (SMPP 3.4)");
    }
    if (check.text(config.password, "password")) {
      check.require(config.password.length <= 8, "password must be at most 8 characters (SMPP 3.4)");
    }
    check.require(
      config.systemType == null || (typeof config.systemType === "string" && config.systemType.length <= 12),
      "systemType must be at most 12 characters",
    );
    if (config.sourceAddr != null) {
      check.text(config.sourceAddr, "sourceAddr", {
        pattern: /^(?:\+?[0-9]{3,15}|[A-Za-z0-9 ._-]{1,11})$/,
        description: "an E.164 number, a short code, or an alphanumeric id of up to 11 characters",
      });
    }
    this.enquireLinkIntervalMs = check.integer(config.enquireLinkIntervalMs, "enquireLinkIntervalMs", 30_000, 1_000, 600_000);
    this.responseTimeoutMs = check.integer(config.responseTimeoutMs, "responseTimeoutMs", 5_000, 100, 60_000);
    this.reconnectInitialDelayMs = check.integer(config.reconnectInitialDelayMs, "reconnectInitialDelayMs", 1_000, 10, 600_000);
    this.reconnectMaxDelayMs = check.integer(config.reconnectMaxDelayMs, "reconnectMaxDelayMs", 60_000, 10, 3_600_000);
    check.require(
      this.reconnectMaxDelayMs >= this.reconnectInitialDelayMs,
      "reconnectMaxDelayMs must not be below reconnectInitialDelayMs",
    );
    this.bindWaitMs = check.integer(config.bindWaitMs, "bindWaitMs", 3_000, 0, 60_000);
    const { submitResponse = "text", receipt = "text" } = config.messageIdFormats ?? {};
    check.require(
      MESSAGE_ID_FORMATS.includes(submitResponse) && MESSAGE_ID_FORMATS.includes(receipt) && (submitResponse === "text") === (receipt === "text"),
      'messageIdFormats must be "text" for both, or "hex" or "decimal" for each',
    );
    check.throwIfAny();
    this.submittedIds = submitResponse;
    this.receiptIds = receipt;

    this.name = config.name;
    this.host = config.host;
    this.tls = config.tls ?? false;
    this.systemId = config.systemId;
    this.#password = config.password;
    this.systemType = config.systemType ?? "";
    this.sourceAddr = config.sourceAddr ?? null;
    this.reconnectDelayMs = this.reconnectInitialDelayMs;
    this.senderIds = deps.senderIds ?? new SenderIds();
  }

  /** Opens the link in the background: an SMSC that is down must not hold up the gateway's start. */
  async start(receipts: ReceiptSink): Promise<void> {
    this.sink = receipts;
    if (this.running) return;
    this.running = true;
    this.openLink();
  }

  /** Unbinds politely, closes the link, and lets receipts being recorded finish. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopEnquireLink();
    for (const waiter of this.bindWaiters) waiter.reject(unreachable(`${this.name} is stopping`));
    this.bindWaiters.clear();
    const session = this.session;
    if (session) {
      if (session === this.boundSession) await this.request(session, "unbind", {}).catch(() => undefined);
      await closeSession(session);
    }
    await Promise.allSettled([...this.receiptsInFlight]);
    this.sink = null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (message.channel !== PhoneMethod.SMS) throw new ProviderError(DeliveryErrorCode.COUNTRY_UNSUPPORTED, false, "SMPP carries SMS only");
    let handOver = this.handOvers.get(message.messageId);
    if (handOver?.result) return handOver.result;
    if (handOver?.running) return handOver.running;
    if (!handOver) {
      handOver = { reference: this.takeReference(), partIds: [], result: null, running: null };
      this.handOvers.set(message.messageId, handOver);
    }
    const current = handOver;
    current.running = this.submit(current, message).finally(() => {
      current.running = null;
    });
    return current.running;
  }

  private async submit(handOver: HandOver, message: OutboundMessage): Promise<SendResult> {
    const encoding = message.encoding ?? analyseSms(message.body).encoding;
    const parts = splitIntoSegments(message.body, encoding);
    if (parts.length > MAX_CONCATENATED_PARTS) {
      throw new ProviderError(DeliveryErrorCode.PROVIDER_REJECTED, false, `${parts.length} parts: more than a concatenated SMS can hold`);
    }
    const session = await this.bound();
    const sender = this.senderFor(message);
    const source = sourceAddress(sender);
    for (const [index, text] of parts.entries()) {
      // Sent by an earlier try of this same attempt: sending it again would duplicate it on the handset.
      if (handOver.partIds[index]) continue;
      const payload = encoding === "UCS_2" ? Buffer.from(text, "utf16le").swap16() : encodings.ASCII.encode(text);
      const concatenated = parts.length > 1;
      const isLaterPart = index > 0;
      const submitted = {
        ...source,
        dest_addr_ton: TON_INTERNATIONAL,
        dest_addr_npi: NPI_ISDN,
        destination_addr: message.to.replace(/^\+/, ""),
        esm_class: concatenated ? ESM_CLASS_UDH_INDICATOR : 0,
        registered_delivery: 1,
        data_coding: DATA_CODING[encoding],
        short_message: concatenated ? Buffer.concat([concatenationHeader(handOver.reference, parts.length, index + 1), payload]) : payload,
      };
      const response = await this.request(session, "submit_sm", submitted, (answer) => {
        // Synchronously, before the SMSC's receipt for this part (often in the same read) is handled.
        if (isLaterPart && answer.command_status === CommandStatus.ESME_ROK && typeof answer.message_id === "string") {
          this.laterPartIds.set(canonicalMessageId(answer.message_id, this.submittedIds), true);
        }
      });
      if (response.command_status !== CommandStatus.ESME_ROK) {
        // The SMSC says this link is not bound: bind afresh rather than keep submitting on it.
        if (response.command_status === CommandStatus.ESME_RINVBNDSTS) session.destroy();
        throw refusal(response.command_status);
      }
      const messageId = response.message_id;
      if (typeof messageId !== "string" || !messageId) {
        throw new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, "submit_sm_resp carried no message_id");
      }
      handOver.partIds[index] = canonicalMessageId(messageId, this.submittedIds);
    }
    handOver.result = { providerMessageId: handOver.partIds[0] as string, providerStatus: "ESME_ROK", senderId: sender };
    return handOver.result;
  }

  private takeReference(): number {
    this.nextReference = (this.nextReference + 1) % 256;
    return this.nextReference;
  }

  /** The sender id the message or the settings give, else this link's own source address; null leaves it to the SMSC. */
  private senderFor(message: OutboundMessage): string | null {
    return this.senderIds.for(message) ?? this.sourceAddr;
  }

  // ------------------------------------------------------------------------------------------
  // The link: connect, bind, keep alive, reconnect.

  private openLink(): void {
    this.reconnectTimer = null;
    if (!this.running) return;
    const session = connect({ host: this.host, port: this.port, tls: this.tls });
    this.session = session;
    // A connection or TLS handshake that never completes (a host that drops packets, a balancer
    // whose backend hangs) would leave the link unbound for good: nothing else times it out.
    const connecting = setTimeout(() => session.destroy(), this.responseTimeoutMs);
    connecting.unref();
    session.on(this.tls ? "secureConnect" : "connect", () => {
      clearTimeout(connecting);
      void this.bind(session);
    });
    session.on("deliver_sm", (pdu) => this.trackReceipt(this.onDeliverSm(session, pdu)));
    // SMPP 3.4 lets an SMSC send a receipt as data_sm too, its TLVs saying what deliver_sm's text would.
    session.on("data_sm", (pdu) => this.trackReceipt(this.onDeliverSm(session, pdu)));
    session.on("enquire_link", (pdu) => void session.send(pdu.response()));
    session.on("unbind", (pdu) => {
      session.send(pdu.response());
      session.close();
    });
    // A command this library cannot decode still gets its generic_nack, as the protocol requires.
    session.on("unknown", (pdu) => void session.send(pdu.response()));
    session.on("error", (error) => {
      this.deps.logger.warn({ provider: this.name, reason: describeNetworkError(error) }, "SMPP link error");
      session.destroy();
    });
    session.on("close", () => {
      clearTimeout(connecting);
      this.onLinkClosed(session);
    });
  }

  private async bind(session: Session): Promise<void> {
    let response: PDU;
    try {
      response = await this.request(session, "bind_transceiver", {
        system_id: this.systemId,
        password: this.#password,
        system_type: this.systemType,
      });
    } catch {
      session.destroy();
      return;
    }
    if (session !== this.session) return;
    if (response.command_status !== CommandStatus.ESME_ROK) {
      this.deps.logger.error({ provider: this.name, status: statusName(response.command_status) }, "the SMSC refused the bind");
      session.destroy();
      return;
    }
    this.boundSession = session;
    this.reconnectDelayMs = this.reconnectInitialDelayMs;
    this.startEnquireLink(session);
    for (const waiter of this.bindWaiters) waiter.resolve(session);
    this.bindWaiters.clear();
    this.deps.logger.info({ provider: this.name, host: this.host, port: this.port }, "bound to the SMSC");
  }

  private onLinkClosed(session: Session): void {
    if (session !== this.session) return;
    this.session = null;
    this.boundSession = null;
    this.stopEnquireLink();
    for (const request of [...this.pending]) {
      if (request.session === session) request.fail(unreachable("the SMPP link closed"));
    }
    if (!this.running) return;
    // Jittered, so instances that lost the same SMSC do not all come back at the same instant.
    const delay = Math.round(this.reconnectDelayMs * (0.8 + Math.random() * 0.4));
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.reconnectMaxDelayMs);
    this.reconnectTimer = setTimeout(() => this.openLink(), delay);
    this.reconnectTimer.unref();
  }

  private startEnquireLink(session: Session): void {
    this.stopEnquireLink();
    this.enquireLinkTimer = setInterval(() => {
      this.request(session, "enquire_link", {}).catch(() => {
        this.deps.logger.warn({ provider: this.name }, "no answer to enquire_link: reconnecting");
        session.destroy();
      });
    }, this.enquireLinkIntervalMs);
    this.enquireLinkTimer.unref();
  }

  private stopEnquireLink(): void {
    if (this.enquireLinkTimer) clearInterval(this.enquireLinkTimer);
    this.enquireLinkTimer = null;
  }

  private bound(): Promise<Session> {
    if (this.boundSession) return Promise.resolve(this.boundSession);
    if (!this.running) return Promise.reject(unreachable(`${this.name} is not started`));
    return new Promise((resolve, reject) => {
      const waiter: BindWaiter = {
        resolve: (session) => {
          clearTimeout(timer);
          resolve(session);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.bindWaiters.delete(waiter);
        reject(unreachable(`not bound to the SMSC within ${this.bindWaitMs} ms`));
      }, this.bindWaitMs);
      this.bindWaiters.add(waiter);
    });
  }

  /**
   * Sends a request and waits for its response, failing when the link closes or the response
   * is late. `onResponse` runs as the response is read, before any PDU that follows it.
   */
  private request(session: Session, command: string, fields: PduFields, onResponse?: (response: PDU) => void): Promise<PDU> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const request: PendingRequest = {
        session,
        fail: (error) => {
          clearTimeout(timer);
          this.pending.delete(request);
          reject(error);
        },
      };
      this.pending.add(request);
      timer = setTimeout(() => request.fail(unreachable(`no ${command}_resp within ${this.responseTimeoutMs} ms`)), this.responseTimeoutMs);
      const written = session.send(new PDU(command, fields), (response) => {
        clearTimeout(timer);
        if (!this.pending.delete(request)) return;
        onResponse?.(response);
        resolve(response);
      });
      if (!written) request.fail(unreachable("the SMPP link is not writable"));
    });
  }

  // ------------------------------------------------------------------------------------------
  // Receipts.

  private trackReceipt(handling: Promise<void>): void {
    const tracked = handling.finally(() => this.receiptsInFlight.delete(tracked));
    this.receiptsInFlight.add(tracked);
  }

  /**
   * Answered only once the receipt is recorded: a deliver_sm_resp with a temporary error makes
   * the SMSC deliver it again, where an early ESME_ROK would lose it on a crash.
   */
  private async onDeliverSm(session: Session, pdu: PDU): Promise<void> {
    let status: number = CommandStatus.ESME_ROK;
    try {
      const receipt = this.receiptOf(pdu);
      if (receipt) {
        if (!this.sink) throw new Error("receipts are not being taken");
        await this.sink(receipt);
      }
    } catch (error) {
      this.deps.logger.error({ err: error, provider: this.name }, "SMPP delivery receipt not recorded; the SMSC will resend it");
      status = CommandStatus.ESME_RX_T_APPN;
    }
    session.send(pdu.response({ command_status: status }));
  }

  /** A final receipt for a message's first part, or null for anything to acknowledge and drop. */
  private receiptOf(pdu: PDU): DeliveryReceipt | null {
    const esmClass = typeof pdu.esm_class === "number" ? pdu.esm_class : 0;
    // Mobile-originated messages and intermediate notifications are not delivery receipts.
    if ((esmClass & ESM_CLASS_MESSAGE_TYPE) !== ESM_CLASS_DELIVERY_RECEIPT) return null;
    const text = receiptText(pdu, pdu.short_message) || receiptText(pdu, pdu.message_payload);
    const fields = parseReceiptText(text);
    const tlvId = typeof pdu.receipted_message_id === "string" && pdu.receipted_message_id ? canonicalMessageId(pdu.receipted_message_id, this.submittedIds) : null;
    const tlvState = typeof pdu.message_state === "number" ? (MESSAGE_STATES[pdu.message_state] ?? null) : null;
    const providerMessageId = tlvId ?? (fields.id === null ? null : canonicalMessageId(fields.id, this.receiptIds));
    const stat = tlvState ?? fields.stat;
    if (!providerMessageId || !stat) {
      this.deps.logger.warn({ provider: this.name }, "SMPP delivery receipt without a message id or a state");
      return null;
    }
    if (this.laterPartIds.has(providerMessageId)) return null;
    const final = FINAL_STATS[stat];
    if (!final) return null;
    return {
      provider: this.name,
      providerMessageId,
      status: final.status,
      providerStatus: (fields.err ? `${stat} err:${fields.err}` : stat).slice(0, 64),
      errorCode: final.errorCode,
    };
  }
}

/** TON/NPI follow the sender's form: international number, short code, or alphanumeric id. */
function sourceAddress(sender: string | null): PduFields {
  if (!sender) return { source_addr_ton: 0, source_addr_npi: 0, source_addr: "" };
  if (/^\+?[0-9]{9,15}$/.test(sender))
    return { source_addr_ton: TON_INTERNATIONAL, source_addr_npi: NPI_ISDN, source_addr: sender.replace(/^\+/, "") };
  if (/^[0-9]{3,8}$/.test(sender)) return { source_addr_ton: TON_NETWORK_SPECIFIC, source_addr_npi: 0, source_addr: sender };
  return { source_addr_ton: TON_ALPHANUMERIC, source_addr_npi: 0, source_addr: sender };
}

/** The 8-bit reference concatenation UDH: IEI 00, length 3, reference, total, sequence. */
function concatenationHeader(reference: number, total: number, sequence: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference, total, sequence]);
}

/** The fields of the receipt text of SMPP 3.4 Appendix B: "id:… sub:… dlvrd:… … stat:DELIVRD err:000 text:…". */
export function parseReceiptText(text: string): { id: string | null; stat: string | null; err: string | null } {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S+)`, "i").exec(text)?.[1] ?? null;
  return { id: field("id"), stat: field("stat")?.toUpperCase() ?? null, err: field("err") };
}

/**
 * A receipt's text as the bytes it came in. The library decodes a data_coding 0 text through
 * GSM 03.38, where "_" reads as "§" and "@" as "¡": a message id with those would then match
 * nothing. Receipt texts are ASCII, so the GSM decoding is undone byte for byte.
 */
function receiptText(pdu: PDU, value: unknown): string {
  const decoded = decodedText(value);
  const dataCoding = typeof pdu.data_coding === "number" ? pdu.data_coding & 0x0f : 0;
  if (dataCoding !== 0 || typeof value === "string" || Buffer.isBuffer(value)) return decoded;
  return encodings.ASCII.encode(decoded).toString("latin1");
}

function decodedText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  if (typeof value === "object" && value !== null && "message" in value) return decodedText(value.message);
  return "";
}

function refusal(commandStatus: number): ProviderError {
  const name = statusName(commandStatus);
  if (TRANSIENT_STATUSES.has(commandStatus)) {
    const throttled = commandStatus === CommandStatus.ESME_RTHROTTLED || commandStatus === CommandStatus.ESME_RMSGQFUL;
    return new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, `the SMSC answered ${name}`, name, { throttled });
  }
  if (commandStatus === CommandStatus.ESME_RINVDSTADR)
    return new ProviderError(DeliveryErrorCode.NUMBER_INACTIVE, false, `the SMSC answered ${name}`, name);
  return new ProviderError(DeliveryErrorCode.PROVIDER_REJECTED, false, `the SMSC answered ${name}`, name);
}

const STATUS_NAMES = new Map(Object.entries(commandStatusNames).map(([name, value]) => [value, name]));

function statusName(commandStatus: number): string {
  return STATUS_NAMES.get(commandStatus) ?? `0x${commandStatus.toString(16).padStart(8, "0")}`;
}

function unreachable(reason: string): ProviderError {
  return new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, reason);
}

function closeSession(session: Session): Promise<void> {
  if (session.socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.destroy(() => resolve()));
}

/** A Map that forgets its oldest entries beyond `capacity`. */
class RecentMap<K, V> {
  private readonly entries = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
