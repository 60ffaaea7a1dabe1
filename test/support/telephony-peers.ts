import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, PDU, type Server as SmppServer, type Session } from "smpp";
import { deferred, withTimeout, type Deferred } from "./deferred";

/**
 * Loopback peers of the real protocols, for the provider contract suite: an HTTP fake of the
 * Twilio API that sends signed status callbacks, an SMSC built on the `smpp` package's server,
 * and a customer telephony hook. Each listens on 127.0.0.1, port 0, and records what it saw.
 */

async function listen(server: http.Server | SmppServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------
// Twilio

/** Twilio's webhook signature, written from its documentation rather than shared with the adapter. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((signed, name) => signed + name + params[name], url);
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

/** A status callback posted as Twilio posts one (form-encoded), with that X-Twilio-Signature or none: the HTTP status answered. */
export async function postStatusCallback(url: string, params: Record<string, string>, signature: string | null): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(signature === null ? {} : { "x-twilio-signature": signature }) },
    body: new URLSearchParams(params).toString(),
  });
  await response.arrayBuffer();
  return response.status;
}

export type TwilioOutcome =
  | { kind: "deliver" }
  | { kind: "undeliver"; errorCode: string }
  | { kind: "reject"; httpStatus: number; code: number | string }
  | { kind: "unavailable" };

export interface TwilioResource {
  sid: string;
  kind: "Messages" | "Calls";
  form: Record<string, string>;
  idempotencyToken: string | null;
  /** HTTP statuses the gateway answered to this resource's status callbacks, once all are sent. */
  callbacksAnswered: Promise<number[]>;
}

export class FakeTwilio {
  readonly accountSid = `AC${randomBytes(16).toString("hex")}`;
  readonly authToken = randomBytes(16).toString("hex");
  /** Every API request that passed authentication, duplicates included. */
  readonly requests: { kind: string; form: Record<string, string>; idempotencyToken: string | null }[] = [];
  /** Messages and calls created, one per idempotency token. */
  readonly resources: TwilioResource[] = [];
  readonly unauthorized: number[] = [];
  /** Every request answered 503. */
  down = false;
  /** Status callbacks wait for releaseCallbacks(). */
  holdCallbacks = false;
  private readonly outcomes = new Map<string, TwilioOutcome>();
  private readonly held: (() => void)[] = [];
  private readonly byToken = new Map<string, TwilioResource>();
  private readonly callbacksInFlight = new Set<Promise<unknown>>();
  private sequence = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeTwilio> {
    let fake: FakeTwilio | null = null;
    const server = http.createServer((request, response) => {
      void fake?.handle(request, response).catch((error: unknown) => reply(response, 500, { message: String(error) }));
    });
    const port = await listen(server);
    fake = new FakeTwilio(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  outcomeFor(to: string, outcome: TwilioOutcome): void {
    this.outcomes.set(to, outcome);
  }

  deliveriesTo(to: string): number {
    return this.resources.filter((resource) => resource.form.To === to).length;
  }

  releaseCallbacks(): void {
    for (const release of this.held.splice(0)) release();
  }

  /** Sends what is held and waits for every callback to be answered, so none is cut off by a closing receiver. */
  async close(): Promise<void> {
    this.releaseCallbacks();
    await Promise.allSettled([...this.callbacksInFlight]);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = (await readBody(request)).toString("utf8");
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(request.url ?? "");
    if (request.method !== "POST" || !match) return reply(response, 404, { code: 20404, message: "not found" });
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString("base64")}`;
    if (request.headers.authorization !== expected || match[1] !== this.accountSid) {
      this.unauthorized.push(Date.now());
      return reply(response, 401, { code: 20003, message: "Authenticate", status: 401 });
    }
    if (this.down) return reply(response, 503, { code: 20503, message: "Service unavailable", status: 503 });
    if (!String(request.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) {
      return reply(response, 415, { code: 20415, message: "form encoding expected" });
    }
    const kind = match[2] as "Messages" | "Calls";
    const form = Object.fromEntries(new URLSearchParams(body));
    const idempotencyToken = (request.headers["i-twilio-idempotency-token"] as string | undefined) ?? null;
    this.requests.push({ kind, form, idempotencyToken });

    const required = ["To", "StatusCallback", kind === "Messages" ? "Body" : "Twiml"];
    const missing = required.find((field) => !form[field]);
    if (missing) return reply(response, 400, { code: 21604, message: `${missing} is required`, status: 400 });
    if (!form.From && !(kind === "Messages" && form.MessagingServiceSid))
      return reply(response, 400, { code: 21603, message: "From is required", status: 400 });

    const repeated = idempotencyToken ? this.byToken.get(idempotencyToken) : undefined;
    if (repeated) return reply(response, 201, { sid: repeated.sid, status: "queued", account_sid: this.accountSid });

    const outcome = this.outcomes.get(form.To ?? "") ?? { kind: "deliver" };
    if (outcome.kind === "unavailable") return reply(response, 503, { code: 20503, message: "Service unavailable", status: 503 });
    if (outcome.kind === "reject")
      return reply(response, outcome.httpStatus, { code: outcome.code, message: "refused", status: outcome.httpStatus });

    this.sequence += 1;
    const sid = `${kind === "Messages" ? "SM" : "CA"}${String(this.sequence).padStart(32, "0")}`;
    const answered = deferred<number[]>();
    const resource: TwilioResource = { sid, kind, form, idempotencyToken, callbacksAnswered: answered.promise };
    this.resources.push(resource);
    if (idempotencyToken) this.byToken.set(idempotencyToken, resource);
    reply(response, 201, { sid, status: "queued", account_sid: this.accountSid });

    const release = () => {
      const sending = this.sendCallbacks(resource, outcome).then(answered.resolve, answered.reject);
      this.callbacksInFlight.add(sending);
      void sending.finally(() => this.callbacksInFlight.delete(sending));
    };
    if (this.holdCallbacks) this.held.push(release);
    else release();
  }

  /** What Twilio would post, in order: an intermediate status, then the final one. */
  private async sendCallbacks(resource: TwilioResource, outcome: TwilioOutcome): Promise<number[]> {
    const statuses: number[] = [];
    const base = { AccountSid: this.accountSid, To: resource.form.To ?? "", From: resource.form.From ?? "", ApiVersion: "2010-04-01" };
    const steps: Record<string, string>[] =
      resource.kind === "Calls"
        ? [
            { ...base, CallSid: resource.sid, CallStatus: "ringing" },
            { ...base, CallSid: resource.sid, CallStatus: "completed", CallDuration: "9" },
          ]
        : [
            { ...base, MessageSid: resource.sid, SmsSid: resource.sid, MessageStatus: "sent", SmsStatus: "sent" },
            outcome.kind === "undeliver"
              ? {
                  ...base,
                  MessageSid: resource.sid,
                  SmsSid: resource.sid,
                  MessageStatus: "undelivered",
                  SmsStatus: "undelivered",
                  ErrorCode: outcome.errorCode,
                }
              : { ...base, MessageSid: resource.sid, SmsSid: resource.sid, MessageStatus: "delivered", SmsStatus: "delivered" },
          ];
    const callbackUrl = resource.form.StatusCallback ?? "";
    for (const params of steps) {
      statuses.push(await postStatusCallback(callbackUrl, params, twilioSignature(this.authToken, callbackUrl, params)));
    }
    return statuses;
  }
}

// ---------------------------------------------------------------------------------------------
// SMSC

export type SmscOutcome = "deliver" | "inactive" | "throttle" | "undeliver-by-tlv" | "throttle-second-part-once";

export interface SubmitRecord {
  messageId: string;
  destination: string;
  source: string;
  sourceTon: number;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  /** The concatenation element (IEI 00): [0x00, 0x03, reference, total, sequence], when present. */
  concatenation: Buffer | null;
  /** The part's text, decoded by the library from its data_coding. */
  text: string;
}

const ESME_RINVDSTADR = 0x0b;
const ESME_RTHROTTLED = 0x58;
const ESME_RINVPASWD = 0x0e;

export class FakeSmsc {
  readonly systemId = "ringfence";
  readonly password = "s3cret!";
  readonly submits: SubmitRecord[] = [];
  /** command_status of every deliver_sm_resp the client sent. */
  readonly receiptAnswers: number[] = [];
  binds = 0;
  /**
   * How its message ids are written: the same text everywhere, or as many SMSCs do, a number
   * given in hex by submit_sm_resp and in zero-padded decimal by the receipt's text (Kannel's
   * msg-id-type 0x01).
   */
  messageIds: "text" | "hex-then-decimal" = "text";
  /** The PDU receipts come in: SMPP 3.4 lets an SMSC send them as data_sm, with its TLVs. */
  receiptsAs: "deliver_sm" | "data_sm" = "deliver_sm";
  private readonly outcomes = new Map<string, SmscOutcome>();
  private readonly bindWaiters: { count: number; done: Deferred<void> }[] = [];
  private readonly answerWaiters: { count: number; done: Deferred<void> }[] = [];
  private sequence = 0;

  private constructor(
    private readonly server: SmppServer,
    readonly port: number,
  ) {}

  static async start(): Promise<FakeSmsc> {
    let fake: FakeSmsc | null = null;
    const server = createServer((session) => fake?.accept(session));
    const port = await listen(server);
    fake = new FakeSmsc(server, port);
    return fake;
  }

  /** Destination in E.164, with its +. */
  outcomeFor(to: string, outcome: SmscOutcome): void {
    this.outcomes.set(to.replace(/^\+/, ""), outcome);
  }

  submitsTo(to: string): SubmitRecord[] {
    return this.submits.filter((submit) => submit.destination === to.replace(/^\+/, ""));
  }

  /** Messages as a handset would show them: parts joined by their concatenation reference. */
  messagesTo(to: string): { parts: number; text: string }[] {
    const messages = new Map<string, SubmitRecord[]>();
    for (const submit of this.submitsTo(to)) {
      const key = submit.concatenation ? `ref:${submit.concatenation[2]}` : `single:${submit.messageId}`;
      messages.set(key, [...(messages.get(key) ?? []), submit]);
    }
    return [...messages.values()].map((parts) => {
      const ordered = [...parts].sort((a, b) => (a.concatenation?.[4] ?? 0) - (b.concatenation?.[4] ?? 0));
      return { parts: ordered.length, text: ordered.map((part) => part.text).join("") };
    });
  }

  /** Resolves once `count` binds in all have succeeded. */
  bound(count: number): Promise<void> {
    if (this.binds >= count) return Promise.resolve();
    const done = deferred<void>();
    this.bindWaiters.push({ count, done });
    return withTimeout(done.promise, 5_000, `${count} SMPP binds`);
  }

  /** Resolves once `count` deliver_sm_resp in all have come back. */
  receiptsAnswered(count: number): Promise<void> {
    if (this.receiptAnswers.length >= count) return Promise.resolve();
    const done = deferred<void>();
    this.answerWaiters.push({ count, done });
    return withTimeout(done.promise, 5_000, `${count} deliver_sm_resp`);
  }

  /** Drops every client link, as an SMSC restart would. */
  dropLinks(): void {
    for (const session of [...this.server.sessions]) session.destroy();
  }

  async close(): Promise<void> {
    this.dropLinks();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(session: Session): void {
    session.on("error", () => session.destroy());
    session.on("bind_transceiver", (pdu) => {
      if (pdu.system_id !== this.systemId || pdu.password !== this.password) {
        session.send(pdu.response({ command_status: ESME_RINVPASWD }));
        return;
      }
      session.send(pdu.response({ system_id: "fake-smsc" }));
      this.binds += 1;
      for (const waiter of this.bindWaiters.filter((waiter) => this.binds >= waiter.count)) waiter.done.resolve();
    });
    session.on("enquire_link", (pdu) => void session.send(pdu.response()));
    session.on("unbind", (pdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on("submit_sm", (pdu) => this.submit(session, pdu));
    for (const answer of ["deliver_sm_resp", "data_sm_resp"]) {
      session.on(answer, (pdu) => {
        this.receiptAnswers.push(pdu.command_status);
        for (const waiter of this.answerWaiters.filter((waiter) => this.receiptAnswers.length >= waiter.count)) waiter.done.resolve();
      });
    }
  }

  private submit(session: Session, pdu: PDU): void {
    const destination = String(pdu.destination_addr);
    const outcome = this.outcomes.get(destination) ?? "deliver";
    if (outcome === "inactive") return void session.send(pdu.response({ command_status: ESME_RINVDSTADR }));
    if (outcome === "throttle") return void session.send(pdu.response({ command_status: ESME_RTHROTTLED }));
    const partNumber = (pdu.short_message as { udh?: Buffer[] } | undefined)?.udh?.find((element) => element[0] === 0x00)?.[4];
    if (outcome === "throttle-second-part-once" && partNumber === 2) {
      this.outcomes.set(destination, "deliver");
      return void session.send(pdu.response({ command_status: ESME_RTHROTTLED }));
    }

    this.sequence += 1;
    const numbered = 0x1f4a0 + this.sequence;
    // An underscore, as some SMSCs' ids have: GSM 03.38 reads that byte as "§", so a receipt's
    // text must be read as the bytes it was sent as.
    const messageId = this.messageIds === "text" ? `smsc_${String(this.sequence).padStart(6, "0")}` : numbered.toString(16).toUpperCase();
    const receiptId = this.messageIds === "text" ? messageId : String(numbered).padStart(10, "0");
    const decoded = pdu.short_message as { message?: unknown; udh?: Buffer[] } | undefined;
    const concatenation = decoded?.udh?.find((element) => element[0] === 0x00) ?? null;
    const record: SubmitRecord = {
      messageId,
      destination,
      source: String(pdu.source_addr),
      sourceTon: Number(pdu.source_addr_ton),
      dataCoding: Number(pdu.data_coding),
      esmClass: Number(pdu.esm_class),
      registeredDelivery: Number(pdu.registered_delivery),
      concatenation,
      text: typeof decoded?.message === "string" ? decoded.message : "",
    };
    this.submits.push(record);
    session.send(pdu.response({ message_id: messageId }));
    if (!(record.registeredDelivery & 1)) return;

    if (this.receiptsAs === "data_sm") {
      // data_sm has no short_message: the receipt is its TLVs.
      const state = outcome === "undeliver-by-tlv" ? 5 : 2;
      session.send(
        new PDU("data_sm", { source_addr: destination, destination_addr: record.source, esm_class: 0x04, data_coding: 0, receipted_message_id: messageId, message_state: state }),
      );
      return;
    }
    const receipt =
      outcome === "undeliver-by-tlv"
        ? { receipted_message_id: messageId, message_state: 5, short_message: Buffer.alloc(0) }
        : {
            short_message: Buffer.from(
              `id:${receiptId} sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:${record.text.slice(0, 20).replace(/[^ -~]/g, "?")}`,
              "ascii",
            ),
          };
    session.send(
      new PDU("deliver_sm", {
        source_addr: destination,
        destination_addr: record.source,
        esm_class: 0x04,
        data_coding: 0,
        ...receipt,
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Telephony hook

export type HookOutcome =
  | { kind: "SUCCESSFUL" }
  | { kind: "PENDING" }
  | { kind: "FAILED"; errorCode: string }
  | { kind: "unavailable" }
  /** HTTP 429: up, and asking the caller to slow down. */
  | { kind: "throttle" }
  /** Never answers (until the hook closes): the adapter's timeout must end the call. */
  | { kind: "hang" };

export interface HookDelivery {
  transactionId: string;
  request: Record<string, unknown>;
}

/** Independent of the adapter: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>. */
export function ringfenceSignature(secret: string, rawBody: string, unixSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${unixSeconds},v1=${createHmac("sha256", secret).update(`${unixSeconds}.${rawBody}`).digest("hex")}`;
}

export class FakeTelephonyHook {
  readonly secret = randomBytes(24).toString("hex");
  /** Requests whose signature did not verify. */
  readonly refused: string[] = [];
  /** Every verified request, duplicates included. */
  readonly requests: Record<string, unknown>[] = [];
  /** One per idempotency key. */
  readonly deliveries: HookDelivery[] = [];
  private readonly outcomes = new Map<string, HookOutcome>();
  private readonly hanging = new Set<http.ServerResponse>();
  private sequence = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeTelephonyHook> {
    let fake: FakeTelephonyHook | null = null;
    const server = http.createServer((request, response) => {
      void fake?.handle(request, response).catch((error: unknown) => reply(response, 500, { message: String(error) }));
    });
    const port = await listen(server);
    fake = new FakeTelephonyHook(server, `http://127.0.0.1:${port}/send`);
    return fake;
  }

  outcomeFor(to: string, outcome: HookOutcome): void {
    this.outcomes.set(to, outcome);
  }

  deliveriesTo(to: string): number {
    return this.deliveries.filter((delivery) => delivery.request.to === to).length;
  }

  /** Reports a PENDING message's outcome to the gateway; resolves with the HTTP status it answered. */
  async report(
    delivery: HookDelivery,
    status: "DELIVERED" | "UNDELIVERED" | "FAILED",
    options: { errorCode?: string; signature?: string | null } = {},
  ): Promise<number> {
    const rawBody = JSON.stringify({ transactionId: delivery.transactionId, status, errorCode: options.errorCode });
    const signature = options.signature === undefined ? ringfenceSignature(this.secret, rawBody) : options.signature;
    const response = await fetch(String(delivery.request.statusCallbackUrl), {
      method: "POST",
      headers: { "content-type": "application/json", ...(signature === null ? {} : { "x-ringfence-signature": signature }) },
      body: rawBody,
    });
    await response.arrayBuffer();
    return response.status;
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const rawBody = (await readBody(request)).toString("utf8");
    if (!this.verifies(rawBody, request.headers["x-ringfence-signature"])) {
      this.refused.push(rawBody);
      return reply(response, 401, { error: "bad signature" });
    }
    const payload = JSON.parse(rawBody) as Record<string, unknown>;
    this.requests.push(payload);
    const outcome = this.outcomes.get(String(payload.to)) ?? { kind: "SUCCESSFUL" };
    if (outcome.kind === "hang") {
      this.hanging.add(response);
      return;
    }
    if (outcome.kind === "unavailable") return reply(response, 503, { error: "try later" });
    if (outcome.kind === "throttle") return reply(response, 429, { error: "slow down" });
    if (outcome.kind === "FAILED") return reply(response, 200, { status: "FAILED", errorCode: outcome.errorCode });

    const known = this.deliveries.find((delivery) => delivery.request.idempotencyKey === payload.idempotencyKey);
    if (known) return reply(response, 200, { status: outcome.kind, transactionId: known.transactionId });
    this.sequence += 1;
    const delivery = { transactionId: `hook-${this.sequence}`, request: payload };
    this.deliveries.push(delivery);
    reply(response, 200, { status: outcome.kind, transactionId: delivery.transactionId });
  }

  private verifies(rawBody: string, header: string | string[] | undefined): boolean {
    const match = typeof header === "string" ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
    if (!match) return false;
    const [, timestamp, mac] = match;
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
    return ringfenceSignature(this.secret, rawBody, Number(timestamp)) === `t=${timestamp},v1=${mac}`;
  }
}
