import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import express from "express";
import pino from "pino";
import { ActivatePhoneFactorDocument } from "../../../src/generated/graphql";
import { DeliveryErrorCode } from "../../../src/platform/errors";
import { PublicUrl } from "../../../src/platform/public-url";
import { Message, MessageAttempt, MessageReceipt } from "../../../src/telephony/message.entity";
import {
  ProviderError,
  type DeliveryReceipt,
  type OutboundMessage,
  type SendResult,
  type TelephonyProvider,
} from "../../../src/telephony/provider";
import { SimulatorProvider, type HandsetMessage } from "../../../src/telephony/providers/simulator";
import { SmppProvider, type SmppConfig } from "../../../src/telephony/providers/smpp";
import { TelephonyHookProvider } from "../../../src/telephony/providers/telephony-hook";
import { TwilioProvider } from "../../../src/telephony/providers/twilio";
import { SenderIds } from "../../../src/telephony/sender-ids";
import { telephonyWebhooks, type HookCallbackReceiver, type StatusCallbackReceiver } from "../../../src/telephony/webhooks";
import { analyseSms, splitIntoSegments } from "../../../src/templates/segments";
import { deferred, withTimeout, type Deferred } from "../../support/deferred";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, settleMessages } from "../../support/phone";
import { FakeSmsc, FakeTelephonyHook, FakeTwilio, postStatusCallback, ringfenceSignature, twilioSignature } from "../../support/telephony-peers";

/**
 * One contract, every adapter: each telephony provider is driven through the port
 * (send/start/stop) against a loopback peer speaking its real protocol (an HTTP fake of the
 * Twilio API that posts signed status callbacks, an SMSC on the `smpp` package's server, a
 * customer hook), and must deliver, map failures to the same codes, and deliver once per
 * idempotency key. The gateway-level tests then run the same adapters through the
 * dispatcher: failover, and refusal of forged status callbacks.
 */

const silent = pino({ level: "silent" });
const RECEIPT_TIMEOUT_MS = 5_000;

/** A receipt sink that keeps what it is given and lets a test wait for one. */
class ReceiptCollector {
  readonly receipts: DeliveryReceipt[] = [];
  private readonly waiters: { providerMessageId: string; found: Deferred<DeliveryReceipt> }[] = [];

  readonly sink = async (receipt: DeliveryReceipt): Promise<void> => {
    this.receipts.push(receipt);
    for (const waiter of this.waiters.filter((w) => w.providerMessageId === receipt.providerMessageId)) waiter.found.resolve(receipt);
  };

  for(providerMessageId: string): Promise<DeliveryReceipt> {
    const known = this.receipts.find((receipt) => receipt.providerMessageId === providerMessageId);
    if (known) return Promise.resolve(known);
    const found = deferred<DeliveryReceipt>();
    this.waiters.push({ providerMessageId, found });
    return withTimeout(found.promise, RECEIPT_TIMEOUT_MS, `a receipt for ${providerMessageId}`);
  }

  countFor(providerMessageId: string): number {
    return this.receipts.filter((receipt) => receipt.providerMessageId === providerMessageId).length;
  }
}

/** The gateway's webhook routes alone, on a loopback port: where adapters under test get their callbacks. */
async function startWebhookReceiver() {
  const twilio = new Map<string, StatusCallbackReceiver>();
  const hooks = new Map<string, HookCallbackReceiver>();
  const publicUrl = new PublicUrl(null);
  const app = express();
  app.use("/webhooks", telephonyWebhooks({ twilio, hooks, publicUrl, logger: silent }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  publicUrl.bindListeningAddress(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return {
    twilio,
    hooks,
    publicUrl,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let sequence = 0;
function outbound(to: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  sequence += 1;
  return {
    messageId: `msg_contract_${sequence}`,
    idempotencyKey: `att_${randomBytes(8).toString("hex")}`,
    channel: "SMS",
    to,
    body: "Your Ringfence code is 123456",
    voiceLanguage: null,
    senderId: null,
    encoding: "GSM_7",
    segments: 1,
    purpose: "FACTOR_VERIFY",
    ...overrides,
  };
}

async function refusalOf(sending: Promise<SendResult>): Promise<ProviderError> {
  try {
    await sending;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected the provider to refuse the message");
}

/**
 * A vendor URL that answers every request with a 307 to a second server, which counts what
 * reaches it: a client following the redirect would post the same body there.
 */
async function withRedirect(body: (redirectUrl: string, reached: () => number) => Promise<void>): Promise<void> {
  let arrivals = 0;
  const target = http.createServer((_request, response) => {
    arrivals += 1;
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  const redirector = http.createServer((request, response) => {
    const { port } = target.address() as AddressInfo;
    response.writeHead(307, { location: `http://127.0.0.1:${port}${request.url ?? "/"}` }).end();
  });
  await Promise.all([target, redirector].map((server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))));
  try {
    await body(`http://127.0.0.1:${(redirector.address() as AddressInfo).port}`, () => arrivals);
  } finally {
    await Promise.all([target, redirector].map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

// ---------------------------------------------------------------------------------------------
// The contract

interface ContractSubject {
  provider: TelephonyProvider;
  receipts: ReceiptCollector;
  /** What the peer makes of messages to each number. */
  numbers: { inactive: string; transient: string };
  /** Whether the peer's transient failure is a request to slow down (SMPP's ESME_RTHROTTLED) rather than an outage. */
  transientThrottles: boolean;
  /**
   * Whether a new attempt for a message already handed over is answered with that hand-over:
   * with no idempotency of its own, SMPP remembers each message, so that a try after a timeout
   * it in fact completed does not reach the handset twice. The others send a second copy.
   */
  remembersMessages: boolean;
  /** Messages the peer accepted for delivery to `to` (not counting repeated requests). */
  deliveriesAtPeer(to: string): Promise<number>;
  close(): Promise<void>;
}

const INACTIVE = "+447400111111";
const TRANSIENT = "+447400222222";

async function simulatorSubject(): Promise<ContractSubject> {
  // The gateway only lends its migrated database: this simulator is a separate instance with its own sink.
  const gateway = await startTestGateway();
  const receipts = new ReceiptCollector();
  const provider = new SimulatorProvider({ db: gateway.db, clock: gateway.clock, receiptDelayMs: 0, logger: silent });
  await provider.setRules([
    { prefix: INACTIVE, outcome: "FAILED", errorCode: "NUMBER_INACTIVE" },
    { prefix: TRANSIENT, outcome: "FAILED", errorCode: "PROVIDER_UNREACHABLE" },
  ]);
  await provider.start(receipts.sink);
  return {
    provider,
    receipts,
    numbers: { inactive: INACTIVE, transient: TRANSIENT },
    transientThrottles: false,
    remembersMessages: false,
    deliveriesAtPeer: async (to) => (await provider.listMessages({ to, first: 100 })).length,
    close: async () => {
      await provider.stop();
      await gateway.stop();
    },
  };
}

async function twilioSubject(): Promise<ContractSubject> {
  const twilio = await FakeTwilio.start();
  const webhooks = await startWebhookReceiver();
  const receipts = new ReceiptCollector();
  const provider = new TwilioProvider(
    {
      name: "twilio",
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      baseUrl: twilio.url,
      fromNumbers: { SMS: { default: "+14155550100" }, VOICE: { default: "+14155550100" } },
    },
    { publicUrl: webhooks.publicUrl, logger: silent },
  );
  webhooks.twilio.set(provider.name, provider);
  twilio.outcomeFor(INACTIVE, { kind: "reject", httpStatus: 400, code: 21211 });
  twilio.outcomeFor(TRANSIENT, { kind: "unavailable" });
  await provider.start(receipts.sink);
  return {
    provider,
    receipts,
    numbers: { inactive: INACTIVE, transient: TRANSIENT },
    transientThrottles: false,
    remembersMessages: false,
    deliveriesAtPeer: async (to) => twilio.deliveriesTo(to),
    close: async () => {
      await twilio.close();
      await provider.stop();
      await webhooks.close();
    },
  };
}

async function smppSubject(): Promise<ContractSubject> {
  const smsc = await FakeSmsc.start();
  const receipts = new ReceiptCollector();
  const provider = new SmppProvider(
    { name: "smsc", host: "127.0.0.1", port: smsc.port, systemId: smsc.systemId, password: smsc.password, reconnectInitialDelayMs: 20 },
    { logger: silent },
  );
  smsc.outcomeFor(INACTIVE, "inactive");
  smsc.outcomeFor(TRANSIENT, "throttle");
  await provider.start(receipts.sink);
  return {
    provider,
    receipts,
    numbers: { inactive: INACTIVE, transient: TRANSIENT },
    transientThrottles: true,
    remembersMessages: true,
    deliveriesAtPeer: async (to) => smsc.messagesTo(to).length,
    close: async () => {
      await provider.stop();
      await smsc.close();
    },
  };
}

async function hookSubject(): Promise<ContractSubject> {
  const hook = await FakeTelephonyHook.start();
  const webhooks = await startWebhookReceiver();
  const receipts = new ReceiptCollector();
  const provider = new TelephonyHookProvider(
    { name: "acme-hook", url: hook.url, secret: hook.secret },
    { publicUrl: webhooks.publicUrl, logger: silent },
  );
  webhooks.hooks.set(provider.name, provider);
  hook.outcomeFor(INACTIVE, { kind: "FAILED", errorCode: "NUMBER_INACTIVE" });
  hook.outcomeFor(TRANSIENT, { kind: "unavailable" });
  await provider.start(receipts.sink);
  return {
    provider,
    receipts,
    numbers: { inactive: INACTIVE, transient: TRANSIENT },
    transientThrottles: false,
    remembersMessages: false,
    deliveriesAtPeer: async (to) => hook.deliveriesTo(to),
    close: async () => {
      await provider.stop();
      await hook.close();
      await webhooks.close();
    },
  };
}

describe.each([
  ["simulator", simulatorSubject],
  ["Twilio-compatible HTTP", twilioSubject],
  ["SMPP", smppSubject],
  ["telephony hook", hookSubject],
])("provider contract: %s", (_adapter, open) => {
  let subject: ContractSubject;
  beforeAll(async () => {
    subject = await open();
  });
  afterAll(() => subject.close());

  test("an SMS is accepted, then receipted DELIVERED under the id send returned", async () => {
    const to = "+447400123456";
    const result = await subject.provider.send(outbound(to));
    expect(result.providerMessageId).toEqual(expect.any(String));
    const receipt = await subject.receipts.for(result.providerMessageId);
    expect(receipt).toMatchObject({
      provider: subject.provider.name,
      providerMessageId: result.providerMessageId,
      status: "DELIVERED",
      errorCode: null,
    });
    expect(await subject.deliveriesAtPeer(to)).toBe(1);
  });

  test("a number that is not in service is refused for good: NUMBER_INACTIVE, not retryable", async () => {
    const refusal = await refusalOf(subject.provider.send(outbound(subject.numbers.inactive)));
    expect(refusal).toMatchObject({ errorCode: DeliveryErrorCode.NUMBER_INACTIVE, retryable: false });
    expect(await subject.deliveriesAtPeer(subject.numbers.inactive)).toBe(0);
  });

  test("a transient failure at the peer is retryable: PROVIDER_UNREACHABLE", async () => {
    const refusal = await refusalOf(subject.provider.send(outbound(subject.numbers.transient)));
    expect(refusal).toMatchObject({ errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE, retryable: true, throttled: subject.transientThrottles });
  });

  test("a resend under the same idempotency key, in turn or at once, reaches the handset once", async () => {
    const to = "+447400333333";
    const message = outbound(to);
    const first = await subject.provider.send(message);
    const [again, concurrent] = await Promise.all([subject.provider.send({ ...message }), subject.provider.send({ ...message })]);
    expect(again.providerMessageId).toBe(first.providerMessageId);
    expect(concurrent.providerMessageId).toBe(first.providerMessageId);
    await subject.receipts.for(first.providerMessageId);
    expect(await subject.deliveriesAtPeer(to)).toBe(1);

    // A new attempt has a new key: a second copy, unless the adapter remembers the message.
    const next = await subject.provider.send({ ...message, idempotencyKey: `att_${randomBytes(8).toString("hex")}` });
    expect(next.providerMessageId === first.providerMessageId).toBe(subject.remembersMessages);
    expect(await subject.deliveriesAtPeer(to)).toBe(subject.remembersMessages ? 1 : 2);
  });
});

// ---------------------------------------------------------------------------------------------
// The simulator: what only it does

describe("simulator handset listeners", () => {
  let subject: ContractSubject;
  let simulator: SimulatorProvider;
  beforeAll(async () => {
    subject = await simulatorSubject();
    simulator = subject.provider as SimulatorProvider;
  });
  afterAll(() => subject.close());

  test("hear each message once, as stored, and a listener that throws neither fails the send nor silences the others", async () => {
    const heard: HandsetMessage[] = [];
    const stopThrowing = simulator.onMessage(() => {
      throw new Error("a broken listener");
    });
    const stopListening = simulator.onMessage((message) => heard.push(message));
    const to = "+447400444444";
    const message = outbound(to, { body: "Your code is 424242" });
    const first = await subject.provider.send(message);
    await Promise.all([subject.provider.send({ ...message }), subject.provider.send({ ...message })]);
    const [stored] = await simulator.listMessages({ to, first: 10 });
    expect(heard).toEqual([
      { id: first.providerMessageId, toE164: to, channel: "SMS", body: "Your code is 424242", created: stored.created },
    ]);

    // Refused at hand-over: nothing reached the handset, so nothing is heard.
    await refusalOf(subject.provider.send(outbound(subject.numbers.inactive)));
    expect(heard).toHaveLength(1);

    stopListening();
    stopThrowing();
    await subject.provider.send(outbound(to, { idempotencyKey: `att_${randomBytes(8).toString("hex")}` }));
    expect(heard).toHaveLength(1);
    expect(await subject.deliveriesAtPeer(to)).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// Twilio-compatible HTTP: what only this adapter does

describe("Twilio-compatible adapter", () => {
  let twilio: FakeTwilio;
  let webhooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let provider: TwilioProvider;
  const receipts = new ReceiptCollector();

  beforeAll(async () => {
    twilio = await FakeTwilio.start();
    webhooks = await startWebhookReceiver();
    provider = new TwilioProvider(
      {
        name: "twilio-eu",
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        baseUrl: twilio.url,
        messagingServiceSid: `MG${"0".repeat(32)}`,
        fromNumbers: { VOICE: { default: "+14155550100", byCountry: { FR: "+33900000000" } } },
      },
      { publicUrl: webhooks.publicUrl, logger: silent, senderIds: new SenderIds({ byCountry: { GB: "Ringfence" } }) },
    );
    webhooks.twilio.set(provider.name, provider);
    await provider.start(receipts.sink);
  });
  afterAll(async () => {
    await twilio.close();
    await provider.stop();
    await webhooks.close();
  });

  test("a call reads the script in the message's language, XML-escaped, from the country's caller id", async () => {
    const script = `Votre code est : 1, 2, 3. <Hangup/> & "l'écho" </Say><Dial>+1900</Dial>`;
    const result = await provider.send(
      outbound("+33612345678", { channel: "VOICE", body: script, voiceLanguage: "fr-FR", encoding: null }),
    );
    const call = twilio.resources.find((resource) => resource.sid === result.providerMessageId);
    expect(call?.kind).toBe("Calls");
    expect(call?.form).toMatchObject({ To: "+33612345678", From: "+33900000000", StatusCallback: provider.statusCallbackUrl });
    expect(call?.form.Twiml).toBe(
      '<Response><Say language="fr-FR">Votre code est : 1, 2, 3. &lt;Hangup/&gt; &amp; &quot;l&apos;écho&quot; &lt;/Say&gt;&lt;Dial&gt;+1900&lt;/Dial&gt;</Say></Response>',
    );
    // "ringing" is acknowledged and ignored; "completed" ends the call DELIVERED.
    expect(await call?.callbacksAnswered).toEqual([200, 200]);
    expect(receipts.countFor(result.providerMessageId)).toBe(1);
    expect(await receipts.for(result.providerMessageId)).toMatchObject({ status: "DELIVERED", providerStatus: "completed" });
  });

  test("SMS senders: the country's sender id first, else the messaging service picks one", async () => {
    const toGb = await provider.send(outbound("+447400123456"));
    const toUs = await provider.send(outbound("+14155550123"));
    const form = (sid: string) => twilio.resources.find((resource) => resource.sid === sid)?.form;
    expect(form(toGb.providerMessageId)).toMatchObject({ From: "Ringfence" });
    expect(toGb.senderId).toBe("Ringfence");
    expect(toUs.senderId).toBeNull();
    expect(form(toGb.providerMessageId)?.MessagingServiceSid).toBeUndefined();
    expect(form(toUs.providerMessageId)).toMatchObject({ MessagingServiceSid: `MG${"0".repeat(32)}` });
    expect(form(toUs.providerMessageId)?.From).toBeUndefined();
    expect(twilio.requests.every((request) => request.idempotencyToken?.startsWith("att_"))).toBe(true);
  });

  test("an undelivered status callback carries Twilio's ErrorCode over to the delivery failure code", async () => {
    twilio.outcomeFor("+447400444444", { kind: "undeliver", errorCode: "30003" });
    const result = await provider.send(outbound("+447400444444"));
    expect(await receipts.for(result.providerMessageId)).toMatchObject({
      status: "UNDELIVERED",
      errorCode: DeliveryErrorCode.NUMBER_INACTIVE,
      providerStatus: "undelivered 30003",
    });
  });

  test.each([
    [21408, DeliveryErrorCode.COUNTRY_UNSUPPORTED],
    [21612, DeliveryErrorCode.COUNTRY_UNSUPPORTED],
    [30007, DeliveryErrorCode.BLOCKED_SUSPICIOUS],
    [21614, DeliveryErrorCode.NUMBER_INACTIVE],
    [21610, DeliveryErrorCode.PROVIDER_REJECTED],
  ])("API error %i is refused for good as %s, with Twilio's code kept", async (code, errorCode) => {
    const to = `+4474005${String(code).padStart(5, "0")}`;
    twilio.outcomeFor(to, { kind: "reject", httpStatus: 400, code });
    expect(await refusalOf(provider.send(outbound(to)))).toMatchObject({ errorCode, retryable: false, providerCode: String(code) });
  });

  test("a compatible vendor's error code is kept to what a message can store (64 characters)", async () => {
    const code = `E${"9".repeat(80)}`;
    twilio.outcomeFor("+447400555556", { kind: "reject", httpStatus: 400, code });
    expect(await refusalOf(provider.send(outbound("+447400555556")))).toMatchObject({ retryable: false, providerCode: code.slice(0, 64) });
  });

  test("rate limiting and refused credentials are retryable: another provider may still carry the message", async () => {
    twilio.outcomeFor("+447400555555", { kind: "reject", httpStatus: 429, code: 20429 });
    expect(await refusalOf(provider.send(outbound("+447400555555")))).toMatchObject({
      errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
      retryable: true,
      throttled: true,
    });

    const wrongToken = new TwilioProvider(
      {
        name: "twilio-wrong",
        accountSid: twilio.accountSid,
        authToken: "0".repeat(32),
        baseUrl: twilio.url,
        fromNumbers: { SMS: { default: "+14155550100" } },
      },
      { publicUrl: webhooks.publicUrl, logger: silent },
    );
    const refusal = await refusalOf(wrongToken.send(outbound("+447400123456")));
    expect(refusal).toMatchObject({ errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE, retryable: true, providerCode: "20003", throttled: false });
    expect(refusal.message).not.toContain("0".repeat(32));
  });

  test("a redirect is not followed: the code is never posted again elsewhere, perhaps in clear", async () => {
    await withRedirect(async (redirectUrl, reached) => {
      const redirected = new TwilioProvider(
        {
          name: "twilio-redirected",
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          baseUrl: redirectUrl,
          fromNumbers: { SMS: { default: "+14155550100" } },
        },
        { publicUrl: webhooks.publicUrl, logger: silent },
      );
      expect(await refusalOf(redirected.send(outbound("+447400123456")))).toMatchObject({
        errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
        retryable: true,
      });
      expect(reached()).toBe(0);
    });
  });

  test("an API that cannot be reached is retryable", async () => {
    const nowhere = new TwilioProvider(
      {
        name: "twilio-gone",
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        baseUrl: "http://127.0.0.1:9",
        fromNumbers: { SMS: { default: "+14155550100" } },
      },
      { publicUrl: webhooks.publicUrl, logger: silent },
    );
    expect(await refusalOf(nowhere.send(outbound("+447400123456")))).toMatchObject({
      errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
      retryable: true,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// SMPP: what only this adapter does

describe("SMPP adapter", () => {
  let smsc: FakeSmsc;
  let provider: SmppProvider;
  const receipts = new ReceiptCollector();

  beforeAll(async () => {
    smsc = await FakeSmsc.start();
    provider = new SmppProvider(
      {
        name: "smsc-eu",
        host: "127.0.0.1",
        port: smsc.port,
        systemId: smsc.systemId,
        password: smsc.password,
        sourceAddr: "Ringfence",
        reconnectInitialDelayMs: 20,
        reconnectMaxDelayMs: 100,
      },
      { logger: silent },
    );
    await provider.start(receipts.sink);
  });
  afterAll(async () => {
    await provider.stop();
    await smsc.close();
  });

  test("UCS-2 text travels as data_coding 8, UTF-16BE, in concatenated parts of at most 67 units", async () => {
    const to = "+447400600001";
    const text = `Код подтверждения Ringfence: 123456. Никому не сообщайте этот код — даже сотрудникам службы поддержки. 😀`;
    const { encoding, segments } = analyseSms(text);
    expect(encoding).toBe("UCS_2");
    const result = await provider.send(outbound(to, { body: text, encoding, segments }));

    const parts = smsc.submitsTo(to);
    expect(parts).toHaveLength(segments);
    expect(parts.every((part) => part.dataCoding === 8 && part.esmClass === 0x40 && part.text.length <= 67)).toBe(true);
    const reference = parts[0]?.concatenation?.[2];
    expect(parts.map((part) => [...(part.concatenation ?? [])])).toEqual(
      parts.map((_part, index) => [0x00, 0x03, reference, segments, index + 1]),
    );
    expect(smsc.messagesTo(to)).toEqual([{ parts: segments, text }]);
    expect(result.providerMessageId).toBe(parts[0]?.messageId);
  });

  test("a long GSM-7 text is cut at 153 septets, never inside an escape pair; only the first part's receipt counts", async () => {
    const to = "+447400600002";
    const text = `${"Ringfence code 123456. ".repeat(6)}{€}[~]|^\\ `.repeat(2).slice(0, 320);
    const { encoding, segments } = analyseSms(text);
    expect(encoding).toBe("GSM_7");
    const answeredBefore = smsc.receiptAnswers.length;
    const result = await provider.send(outbound(to, { body: text, encoding, segments }));

    const parts = smsc.submitsTo(to);
    expect(parts).toHaveLength(segments);
    expect(splitIntoSegments(text, "GSM_7")).toHaveLength(segments);
    const septets = (part: string) => [...part].reduce((total, character) => total + ("\f^{}\\[~]|€".includes(character) ? 2 : 1), 0);
    expect(parts.every((part) => part.dataCoding === 0 && septets(part.text) <= 153)).toBe(true);
    expect(smsc.messagesTo(to)).toEqual([{ parts: segments, text }]);

    // The SMSC receipts every part; the adapter answers them all and passes on the first only.
    expect(await receipts.for(result.providerMessageId)).toMatchObject({ status: "DELIVERED", providerStatus: "DELIVRD err:000" });
    await smsc.receiptsAnswered(answeredBefore + segments);
    expect(smsc.receiptAnswers.every((status) => status === 0)).toBe(true);
    for (const part of parts.slice(1)) expect(receipts.countFor(part.messageId)).toBe(0);
  });

  test("a receipt given only by TLVs (receipted_message_id, message_state) is read too", async () => {
    smsc.outcomeFor("+447400600003", "undeliver-by-tlv");
    const result = await provider.send(outbound("+447400600003"));
    expect(await receipts.for(result.providerMessageId)).toMatchObject({
      status: "UNDELIVERED",
      errorCode: DeliveryErrorCode.NUMBER_INACTIVE,
      providerStatus: "UNDELIV",
    });
  });

  test("an alphanumeric sender goes out with TON 5, an international number with TON 1 and no +", async () => {
    expect((await provider.send(outbound("+447400600004"))).senderId).toBe("Ringfence");
    expect((await provider.send(outbound("+447400600005", { senderId: "+14155550100" }))).senderId).toBe("+14155550100");
    expect(smsc.submitsTo("+447400600004")[0]).toMatchObject({ source: "Ringfence", sourceTon: 5 });
    expect(smsc.submitsTo("+447400600005")[0]).toMatchObject({ source: "14155550100", sourceTon: 1 });
  });

  test("when the SMSC drops the link, the adapter binds again and carries on sending", async () => {
    const binds = smsc.binds;
    smsc.dropLinks();
    await smsc.bound(binds + 1);
    const result = await provider.send(outbound("+447400600006"));
    expect(await receipts.for(result.providerMessageId)).toMatchObject({ status: "DELIVERED" });
  });

  test("a wrong password is never bound: sends fail as unreachable (retryable) within the bind wait", async () => {
    const refused = new SmppProvider(
      {
        name: "smsc-wrong",
        host: "127.0.0.1",
        port: smsc.port,
        systemId: smsc.systemId,
        password: "wrong",
        bindWaitMs: 300,
        reconnectInitialDelayMs: 50,
      },
      { logger: silent },
    );
    await refused.start(receipts.sink);
    try {
      expect(await refusalOf(refused.send(outbound("+447400600007")))).toMatchObject({
        errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
        retryable: true,
      });
    } finally {
      await refused.stop();
    }
  });

  test("calls are not SMPP's to carry", () => {
    expect(provider.channels).toEqual(["SMS"]);
  });

  test("a long text cut short by a refused part goes on from that part at the next try, under the same reference", async () => {
    const to = "+447400600013";
    smsc.outcomeFor(to, "throttle-second-part-once");
    const text = "Ringfence code 123456. ".repeat(10);
    const { encoding, segments } = analyseSms(text);
    expect(segments).toBe(2);
    const first = outbound(to, { body: text, encoding, segments });
    await expect(provider.send(first)).rejects.toMatchObject({ errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE, retryable: true });
    // The dispatcher's next try is a new attempt, with a key of its own, for the same message.
    const again = await provider.send({ ...first, idempotencyKey: `att_${randomBytes(8).toString("hex")}` });
    expect(smsc.messagesTo(to)).toEqual([{ parts: 2, text }]);
    expect(smsc.submitsTo(to).filter((part) => part.concatenation?.[4] === 1)).toHaveLength(1);
    expect(again.providerMessageId).toBe(smsc.submitsTo(to)[0]?.messageId);
  });

  test("a TLS handshake that never ends is given up, and the link tried again", async () => {
    // Accepts the connection and says nothing, as a balancer whose backend hangs does.
    const accepted: net.Socket[] = [];
    const mute = net.createServer((socket) => void accepted.push(socket));
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    const adapter = new SmppProvider(
      {
        name: "smsc-tls",
        host: "127.0.0.1",
        port: (mute.address() as AddressInfo).port,
        tls: true,
        systemId: "ringfence",
        password: "s3cret!",
        responseTimeoutMs: 200,
        reconnectInitialDelayMs: 20,
        reconnectMaxDelayMs: 50,
      },
      { logger: silent },
    );
    await adapter.start(new ReceiptCollector().sink);
    try {
      for (let waited = 0; accepted.length < 2 && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(accepted.length).toBeGreaterThanOrEqual(2);
    } finally {
      await adapter.stop();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => mute.close(resolve));
    }
  });

  test("a receipt sent as data_sm is answered and read, as one sent as deliver_sm is", async () => {
    smsc.receiptsAs = "data_sm";
    try {
      const answered = smsc.receiptAnswers.length;
      const result = await provider.send(outbound("+447400600012"));
      expect(await receipts.for(result.providerMessageId)).toMatchObject({ status: "DELIVERED", providerStatus: "DELIVRD" });
      await smsc.receiptsAnswered(answered + 1);
      expect(smsc.receiptAnswers.at(-1)).toBe(0);
    } finally {
      smsc.receiptsAs = "deliver_sm";
    }
  });

  test("an SMSC that gives ids in hex at submission and in decimal in receipts has its receipts matched, once told so", async () => {
    const numbering = await FakeSmsc.start();
    numbering.messageIds = "hex-then-decimal";
    const collected = new ReceiptCollector();
    const adapter = (messageIdFormats?: SmppConfig["messageIdFormats"]) =>
      new SmppProvider(
        { name: "smsc-numbered", host: "127.0.0.1", port: numbering.port, systemId: numbering.systemId, password: numbering.password, messageIdFormats },
        { logger: silent },
      );
    const told = adapter({ submitResponse: "hex", receipt: "decimal" });
    await told.start(collected.sink);
    try {
      const sent = await told.send(outbound("+447400600010"));
      const [submitted] = numbering.submitsTo("+447400600010");
      expect(submitted?.messageId).toMatch(/^[0-9A-F]+$/);
      expect(await collected.for(sent.providerMessageId)).toMatchObject({ status: "DELIVERED" });
    } finally {
      await told.stop();
    }
    // Not told, the ids are compared as written: the receipt names no message sent.
    const untold = adapter();
    const strays = new ReceiptCollector();
    await untold.start(strays.sink);
    try {
      const answered = numbering.receiptAnswers.length;
      const sent = await untold.send(outbound("+447400600011"));
      await numbering.receiptsAnswered(answered + 1);
      expect(strays.countFor(sent.providerMessageId)).toBe(0);
    } finally {
      await untold.stop();
      await numbering.close();
    }
    expect(() => adapter({ submitResponse: "hex", receipt: "text" })).toThrow(/messageIdFormats/);
  });
});

// ---------------------------------------------------------------------------------------------
// Telephony hook: what only this adapter does

describe("telephony hook adapter", () => {
  let hook: FakeTelephonyHook;
  let webhooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let provider: TelephonyHookProvider;
  const receipts = new ReceiptCollector();

  beforeAll(async () => {
    hook = await FakeTelephonyHook.start();
    webhooks = await startWebhookReceiver();
    provider = new TelephonyHookProvider(
      { name: "acme", url: hook.url, secret: hook.secret, timeoutMs: 300 },
      { publicUrl: webhooks.publicUrl, logger: silent },
    );
    webhooks.hooks.set(provider.name, provider);
    await provider.start(receipts.sink);
  });
  afterAll(async () => {
    await provider.stop();
    await hook.close();
    await webhooks.close();
  });

  test("the hook gets the rendered body, the voice language, the purpose and where to report, signed", async () => {
    await provider.send(
      outbound("+33612345678", { channel: "VOICE", body: "Votre code est : 1, 2, 3", voiceLanguage: "fr-FR", encoding: null, purpose: "PASSWORD_RESET" }),
    );
    expect(hook.refused).toEqual([]);
    expect(hook.requests.at(-1)).toMatchObject({
      channel: "VOICE",
      to: "+33612345678",
      body: "Votre code est : 1, 2, 3",
      voiceLanguage: "fr-FR",
      purpose: "PASSWORD_RESET",
      statusCallbackUrl: provider.statusCallbackUrl,
    });
  });

  test("PENDING is sent; the signed callback receipts it, a forged one is refused with 403 and changes nothing", async () => {
    hook.outcomeFor("+447400700001", { kind: "PENDING" });
    const result = await provider.send(outbound("+447400700001"));
    expect(result.providerStatus).toBe("PENDING");
    const delivery = hook.deliveries.find((candidate) => candidate.transactionId === result.providerMessageId);
    if (!delivery) throw new Error("the hook recorded no delivery");

    expect(await hook.report(delivery, "DELIVERED", { signature: null })).toBe(403);
    expect(await hook.report(delivery, "DELIVERED", { signature: `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` })).toBe(403);
    const stale = Math.floor(Date.now() / 1000) - 3_600;
    const staleBody = JSON.stringify({ transactionId: delivery.transactionId, status: "DELIVERED" });
    expect(await hook.report(delivery, "DELIVERED", { signature: ringfenceSignature(hook.secret, staleBody, stale) })).toBe(403);
    expect(receipts.countFor(result.providerMessageId)).toBe(0);

    expect(await hook.report(delivery, "UNDELIVERED", { errorCode: "NUMBER_INACTIVE" })).toBe(200);
    expect(await receipts.for(result.providerMessageId)).toMatchObject({
      status: "UNDELIVERED",
      errorCode: DeliveryErrorCode.NUMBER_INACTIVE,
    });
  });

  test("a redirect is not followed: the signed body is never posted again elsewhere, perhaps in clear", async () => {
    await withRedirect(async (redirectUrl, reached) => {
      const redirected = new TelephonyHookProvider(
        { name: "acme-redirected", url: redirectUrl, secret: hook.secret, timeoutMs: 300 },
        { publicUrl: webhooks.publicUrl, logger: silent },
      );
      expect(await refusalOf(redirected.send(outbound("+447400700009")))).toMatchObject({
        errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
        retryable: true,
      });
      expect(reached()).toBe(0);
    });
  });

  test("HTTP 429 is a request to slow down: retryable, and no sign of an outage", async () => {
    hook.outcomeFor("+447400700005", { kind: "throttle" });
    expect(await refusalOf(provider.send(outbound("+447400700005")))).toMatchObject({
      errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
      retryable: true,
      throttled: true,
    });
  });

  test("a hook that does not answer within its timeout is unreachable, and retryable", async () => {
    hook.outcomeFor("+447400700002", { kind: "hang" });
    expect(await refusalOf(provider.send(outbound("+447400700002")))).toMatchObject({
      errorCode: DeliveryErrorCode.PROVIDER_UNREACHABLE,
      retryable: true,
    });
  });

  test("a FAILED answer with a code outside the refusal codes is PROVIDER_REJECTED, the hook's code kept", async () => {
    hook.outcomeFor("+447400700003", { kind: "FAILED", errorCode: "CARRIER_BLOCKED_OPT_OUT" });
    expect(await refusalOf(provider.send(outbound("+447400700003")))).toMatchObject({
      errorCode: DeliveryErrorCode.PROVIDER_REJECTED,
      retryable: false,
      providerCode: "CARRIER_BLOCKED_OPT_OUT",
    });
  });

  test("a code holding control characters is kept with each one replaced by U+FFFD, so it can be stored", async () => {
    hook.outcomeFor("+447400700004", { kind: "FAILED", errorCode: "BAD\u0000CODE\r\n" });
    const refusal = await refusalOf(provider.send(outbound("+447400700004")));
    expect(refusal).toMatchObject({ errorCode: DeliveryErrorCode.PROVIDER_REJECTED, providerCode: "BAD\uFFFDCODE\uFFFD\uFFFD" });
    expect(refusal.message).toBe("telephony hook refused the message (BAD\uFFFDCODE\uFFFD\uFFFD)");
  });

  test("a code cut inside an emoji is kept with the half left replaced by U+FFFD, so the System Log can read it back", async () => {
    // 63 characters and an emoji: the 64 kept end between its two halves.
    hook.outcomeFor("+447400700005", { kind: "FAILED", errorCode: `${"X".repeat(63)}\u{1F600}` });
    const refusal = await refusalOf(provider.send(outbound("+447400700005")));
    expect(refusal.providerCode).toBe(`${"X".repeat(63)}\uFFFD`);
  });
});

// ---------------------------------------------------------------------------------------------
// Through the gateway: the dispatcher, the webhook routes, the configuration file

function writeTelephonyConfig(contents: unknown): string {
  const file = path.join(os.tmpdir(), `ringfence-telephony-${randomBytes(6).toString("hex")}.json`);
  fs.writeFileSync(file, JSON.stringify(contents));
  return file;
}

const gatewayOrigin = (gateway: TestGateway) => gateway.url.replace(/\/graphql$/, "");

describe("through the gateway", () => {
  test("failover: Twilio answers 503, the message goes out over SMPP and is DELIVERED from its deliver_sm", async () => {
    const twilio = await FakeTwilio.start();
    twilio.down = true;
    const smsc = await FakeSmsc.start();
    const configFile = writeTelephonyConfig({
      providers: [
        {
          type: "twilio",
          name: "twilio",
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          baseUrl: twilio.url,
          fromNumbers: { SMS: { default: "+14155550100" } },
        },
        {
          type: "smpp",
          name: "smsc",
          host: "127.0.0.1",
          port: smsc.port,
          systemId: smsc.systemId,
          password: { env: "TEST_SMPP_PASSWORD" },
          sourceAddr: "RingfenceUK",
        },
      ],
      routes: { default: ["twilio", "smsc"] },
    });
    process.env.TEST_SMPP_PASSWORD = smsc.password;
    const gateway = await startTestGateway({ TELEPHONY_CONFIG: configFile });
    try {
      expect(gateway.services.simulator).toBeNull();
      const user = await createUser(gateway);
      const { factor } = await enroll(gateway, user.id, "+447400123456", "SMS");
      const [message] = await settleMessages(gateway);
      // The sender is the one the provider that carried it used, not the one that failed.
      expect(message).toMatchObject({ status: "DELIVERED", provider: "smsc", errorCode: null, senderId: "RingfenceUK" });

      const attempts = await gateway.db.manager.find(MessageAttempt, { where: { messageId: message?.id }, order: { started: "ASC" } });
      expect(attempts.map(({ provider, outcome, retryable }) => ({ provider, outcome, retryable }))).toEqual([
        { provider: "twilio", outcome: "PROVIDER_UNREACHABLE", retryable: true },
        { provider: "smsc", outcome: "SENT", retryable: false },
      ]);
      expect(twilio.resources).toHaveLength(0);

      // What reached the handset is the real code.
      const [sms] = smsc.messagesTo("+447400123456");
      const code = /\b\d{6}\b/.exec(sms?.text ?? "")?.[0];
      const { activatePhoneFactor } = await gateway.admin.ok(ActivatePhoneFactorDocument, {
        input: { factorId: factor.id, code: code ?? "" },
      });
      expect(activatePhoneFactor.status).toBe("ACTIVE");
    } finally {
      await gateway.stop();
      await twilio.close();
      await smsc.close();
      fs.rmSync(configFile, { force: true });
      delete process.env.TEST_SMPP_PASSWORD;
    }
  });

  test("the simulator sends from the configured sender ids, as the real adapters do", async () => {
    const configFile = writeTelephonyConfig({ providers: [{ type: "simulator" }], senderIds: { default: "Ringfence", byCountry: { FR: "RingfenceFR" } } });
    const gateway = await startTestGateway({ TELEPHONY_CONFIG: configFile });
    try {
      for (const number of ["+447400123457", "+33612345679"]) await enroll(gateway, (await createUser(gateway)).id, number, "SMS");
      const messages = await settleMessages(gateway);
      expect(Object.fromEntries(messages.map((message) => [message.toE164, message.senderId]))).toEqual({ "+447400123457": "Ringfence", "+33612345679": "RingfenceFR" });
    } finally {
      await gateway.stop();
      fs.rmSync(configFile, { force: true });
    }
  });

  /**
   * A gateway whose one provider is a Twilio holding its status callbacks, so the test posts its
   * own first. The held ones go out when Twilio closes, which it does while the gateway still answers.
   */
  async function withHeldTwilioGateway(
    body: (gateway: TestGateway, twilio: FakeTwilio) => Promise<void>,
    env: Record<string, string> = {},
  ): Promise<void> {
    const twilio = await FakeTwilio.start();
    twilio.holdCallbacks = true;
    const configFile = writeTelephonyConfig({
      providers: [
        {
          type: "twilio",
          name: "twilio",
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          baseUrl: twilio.url,
          fromNumbers: { SMS: { default: "+14155550100" } },
        },
      ],
    });
    const gateway = await startTestGateway({ TELEPHONY_CONFIG: configFile, ...env });
    try {
      await body(gateway, twilio);
    } finally {
      await twilio.close();
      await gateway.stop();
      fs.rmSync(configFile, { force: true });
    }
  }

  test("a Twilio status callback that is unsigned, wrongly signed or signed for another URL gets 403 and changes nothing", () =>
    withHeldTwilioGateway(async (gateway, twilio) => {
      const user = await createUser(gateway);
      await enroll(gateway, user.id, "+447400123456", "SMS");
      const [sent] = await settleMessages(gateway, (messages) => messages.length === 1 && messages[0]?.status === "SENT");
      const sid = twilio.resources[0]?.sid ?? "";
      expect(sent?.providerMessageId).toBe(sid);

      const callbackUrl = `${gatewayOrigin(gateway)}/webhooks/twilio/twilio`;
      const forged = { AccountSid: twilio.accountSid, MessageSid: sid, MessageStatus: "undelivered", ErrorCode: "30003" };
      const post = (url: string, signature: string | null) => postStatusCallback(url, forged, signature);
      expect(await post(callbackUrl, null)).toBe(403);
      expect(await post(callbackUrl, twilioSignature("not-the-auth-token", callbackUrl, forged))).toBe(403);
      expect(await post(callbackUrl, twilioSignature(twilio.authToken, `${callbackUrl}?replayed=1`, forged))).toBe(403);
      expect(await post(callbackUrl, twilioSignature(twilio.authToken, callbackUrl, { ...forged, ErrorCode: "30005" }))).toBe(403);
      expect(await post(`${gatewayOrigin(gateway)}/webhooks/twilio/nobody`, twilioSignature(twilio.authToken, callbackUrl, forged))).toBe(
        404,
      );

      const unchanged = await gateway.db.manager.findOneByOrFail(Message, { id: sent?.id });
      expect(unchanged).toMatchObject({ status: "SENT", errorCode: null, finalAt: null });
      expect(await gateway.db.manager.countBy(MessageReceipt, { messageId: sent?.id })).toBe(0);

      // The genuine callbacks, signed by Twilio over the URL it was given, go through.
      twilio.releaseCallbacks();
      expect(await twilio.resources[0]?.callbacksAnswered).toEqual([200, 200]);
      const [delivered] = await settleMessages(gateway);
      expect(delivered).toMatchObject({ status: "DELIVERED", provider: "twilio" });
    }));

  test("a signed callback whose ErrorCode holds control characters is recorded, with each one replaced by U+FFFD", () =>
    withHeldTwilioGateway(async (gateway, twilio) => {
      const user = await createUser(gateway);
      await enroll(gateway, user.id, "+447400123457", "SMS");
      const [sent] = await settleMessages(gateway, (messages) => messages.length === 1 && messages[0]?.status === "SENT");
      const callbackUrl = `${gatewayOrigin(gateway)}/webhooks/twilio/twilio`;
      // U+0000 is what PostgreSQL's text cannot hold: the receipt would fail on every retry.
      const params = {
        AccountSid: twilio.accountSid,
        MessageSid: twilio.resources[0]?.sid ?? "",
        MessageStatus: "undelivered",
        ErrorCode: "3\u00000\n3",
      };
      expect(await postStatusCallback(callbackUrl, params, twilioSignature(twilio.authToken, callbackUrl, params))).toBe(200);
      const [undelivered] = await settleMessages(gateway);
      expect(undelivered).toMatchObject({ id: sent?.id, status: "UNDELIVERED", providerStatus: "undelivered 3\uFFFD0\uFFFD3" });
      const receipts = await gateway.db.manager.findBy(MessageReceipt, { messageId: sent?.id });
      expect(receipts.map((receipt) => receipt.providerStatus)).toEqual(["undelivered 3\uFFFD0\uFFFD3"]);
    }));

  test("an instance that does not dispatch records the status callbacks posted to it, as a balancer may post them to any", () =>
    withHeldTwilioGateway(
      async (gateway, twilio) => {
        const user = await createUser(gateway);
        await enroll(gateway, user.id, "+447400123458", "SMS");
        // Another instance's dispatcher, sending from the same database.
        await gateway.services.dispatcher.runOnce();
        const [sent] = await settleMessages(gateway, (messages) => messages.length === 1 && messages[0]?.status === "SENT");
        twilio.releaseCallbacks();
        expect(await twilio.resources[0]?.callbacksAnswered).toEqual([200, 200]);
        const [delivered] = await settleMessages(gateway);
        expect(delivered).toMatchObject({ id: sent?.id, status: "DELIVERED", provider: "twilio" });
      },
      { DISPATCH_ENABLED: "false" },
    ));
});
