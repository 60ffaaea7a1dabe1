import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { DataSource } from "typeorm";
import { EventType } from "../../../src/log/event-types";
import { LogEventRecord, LogEventTargetRecord } from "../../../src/log/log-event.entity";
import { LogService } from "../../../src/log/log.service";
import type { PhoneMethod } from "../../../src/phone/phone.enums";
import { ManualClock } from "../../../src/platform/clock";
import { loadConfig } from "../../../src/platform/config";
import { createDataSource, ensureSchema } from "../../../src/platform/data-source";
import { Database } from "../../../src/platform/database";
import { AppError, DeliveryErrorCode } from "../../../src/platform/errors";
import { newId } from "../../../src/platform/ids";
import { createGatewayPubSub, type GatewayPubSub, type MessageStatusEvent } from "../../../src/platform/pubsub";
import { ServerSecrets } from "../../../src/platform/secrets";
import { Dispatcher, type DispatcherDependencies } from "../../../src/telephony/dispatcher";
import { Message, MessageAttempt, MessageReceipt } from "../../../src/telephony/message.entity";
import { Outbox, type QueuedMessageInput } from "../../../src/telephony/outbox";
import {
  ProviderError,
  type DeliveryReceipt,
  type OutboundMessage,
  type ReceiptSink,
  type SendResult,
  type TelephonyProvider,
} from "../../../src/telephony/provider";
import { SimulatorProvider } from "../../../src/telephony/providers/simulator";
import { finalizeMessage, ReceiptProcessor, type ReceiptResult } from "../../../src/telephony/receipts";
import { StaticRouter } from "../../../src/telephony/routing";
import { deferred, withTimeout, type Deferred } from "../../support/deferred";

/**
 * The dispatcher, receipts and the simulator over a real migrated database: a fresh SQLite
 * file per test, or a fresh PostgreSQL schema when DATABASE_URL names a server. Time is a
 * ManualClock; the only real waiting is on receipts, through deferreds and bounded polling.
 */
const engine = process.env.DATABASE_URL?.startsWith("postgres") ? "postgres" : "sqlite";
const RECEIVE_STATUS_TYPES = [EventType.SMS_RECEIVE_STATUS, EventType.VOICE_RECEIVE_STATUS];
const RECEIPT_WINDOW_MS = 600_000;
const BODY = "Your Ringfence code is 123456";

// ---------------------------------------------------------------------------------------------
// Test doubles: real implementations of the provider port.

type Step = "accept" | Error;

/** Follows a script, call by call; its message ids derive from the idempotency key, as a vendor's dedup would. */
class ScriptedProvider implements TelephonyProvider {
  readonly calls: OutboundMessage[] = [];
  private sink: ReceiptSink | null = null;

  constructor(
    readonly name: string,
    private readonly script: (call: number) => Step,
    readonly channels: readonly PhoneMethod[] = ["SMS", "VOICE"],
  ) {}

  async start(receipts: ReceiptSink): Promise<void> {
    this.sink = receipts;
  }

  async stop(): Promise<void> {
    this.sink = null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    this.calls.push(message);
    const step = this.script(this.calls.length);
    if (step !== "accept") throw step;
    return { providerMessageId: `${this.name}-${message.idempotencyKey}`, providerStatus: "queued", senderId: null };
  }

  /** What the vendor's status webhook would report. */
  async report(providerMessageId: string, status: DeliveryReceipt["status"], errorCode: DeliveryErrorCode | null = null): Promise<void> {
    if (!this.sink) throw new Error(`${this.name} was not started`);
    await this.sink({ provider: this.name, providerMessageId, status, providerStatus: status.toLowerCase(), errorCode });
  }
}

const unreachable = () => new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, "connect ECONNREFUSED");
const failingThenAccepting = (name: string, failures: number) =>
  new ScriptedProvider(name, (call) => (call <= failures ? unreachable() : "accept"));
const alwaysUnreachable = (name: string) => new ScriptedProvider(name, () => unreachable());
const throttled = () => new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, "ESME_RTHROTTLED", "ESME_RTHROTTLED", { throttled: true });
const refusing = (name: string, code: DeliveryErrorCode) =>
  new ScriptedProvider(name, () => new ProviderError(code, false, `refused: ${code}`, "21610"));

/** Never answers until stopped: the send timeout is what ends its calls. */
class SilentProvider implements TelephonyProvider {
  readonly channels: readonly PhoneMethod[] = ["SMS", "VOICE"];
  private readonly hanging = new Set<() => void>();
  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    for (const release of this.hanging) release();
  }
  send(): Promise<SendResult> {
    return new Promise((_resolve, reject) => this.hanging.add(() => reject(new Error("stopped"))));
  }
}

/** Holds its first call until released, as a provider answering slower than the lease lasts. */
class GatedProvider implements TelephonyProvider {
  readonly channels: readonly PhoneMethod[] = ["SMS", "VOICE"];
  readonly calls: OutboundMessage[] = [];
  private readonly gate = deferred<void>();
  private readonly firstCall = deferred<void>();
  /** Resolves once the first call is in flight. */
  readonly called = this.firstCall.promise;

  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.open();
  }
  open(): void {
    this.gate.resolve();
  }
  async send(message: OutboundMessage): Promise<SendResult> {
    this.calls.push(message);
    if (this.calls.length === 1) {
      this.firstCall.resolve();
      await this.gate.promise;
    }
    return { providerMessageId: `${this.name}-${message.idempotencyKey}`, providerStatus: "queued", senderId: null };
  }
}

/** Seeded PRNG (mulberry32): the fault pattern is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Fails at random (retryable, thrown plain errors, outright refusals); what it accepts it
 * receipts a moment later, sometimes twice, sometimes never.
 */
class FlakyProvider implements TelephonyProvider {
  readonly channels: readonly PhoneMethod[] = ["SMS", "VOICE"];
  private sink: ReceiptSink | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly name: string,
    private readonly random: () => number,
  ) {}

  async start(receipts: ReceiptSink): Promise<void> {
    this.sink = receipts;
  }

  async stop(): Promise<void> {
    await this.settled();
    this.sink = null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const fault = this.random();
    if (fault < 0.25) throw unreachable();
    if (fault < 0.3) throw new Error("socket hang up");
    if (fault < 0.35) throw new ProviderError(DeliveryErrorCode.PROVIDER_REJECTED, false, "rejected", "30007");
    const providerMessageId = `${this.name}-${message.idempotencyKey}`;
    const plan = this.random();
    if (plan < 0.7) this.emit(providerMessageId, "DELIVERED", 1);
    else if (plan < 0.8) this.emit(providerMessageId, "UNDELIVERED", 1);
    else if (plan < 0.9) this.emit(providerMessageId, "DELIVERED", 2);
    return { providerMessageId, providerStatus: "queued", senderId: null };
  }

  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private emit(providerMessageId: string, status: "DELIVERED" | "UNDELIVERED", times: number): void {
    const errorCode = status === "UNDELIVERED" ? DeliveryErrorCode.NUMBER_INACTIVE : null;
    for (let copy = 0; copy < times; copy += 1) {
      const delivery = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.sink?.({ provider: this.name, providerMessageId, status, providerStatus: status.toLowerCase(), errorCode }))
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting, bounded.

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > giveUpAt) throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(10);
  }
}

/** The sink the dispatcher would hand its providers, recording each result and waking whoever waits for it. */
class ReceiptRecorder {
  readonly results: Array<{ receipt: DeliveryReceipt; result: ReceiptResult }> = [];
  private waiters: Array<{ count: number; arrived: Deferred<void> }> = [];

  constructor(private readonly processor: ReceiptProcessor) {}

  readonly sink: ReceiptSink = async (receipt) => {
    const result = await this.processor.apply(receipt);
    this.results.push({ receipt, result });
    this.waiters = this.waiters.filter((waiter) => {
      if (this.results.length < waiter.count) return true;
      waiter.arrived.resolve();
      return false;
    });
  };

  until(count: number): Promise<void> {
    if (this.results.length >= count) return Promise.resolve();
    const arrived = deferred<void>();
    this.waiters.push({ count, arrived });
    return withTimeout(arrived.promise, 15_000, `${count} receipts`);
  }
}

// ---------------------------------------------------------------------------------------------
// The harness: a fresh database and the real services over it.

interface Harness {
  db: Database;
  clock: ManualClock;
  pubsub: GatewayPubSub;
  log: LogService;
  secrets: ServerSecrets;
  receipts: ReceiptProcessor;
  recorder: ReceiptRecorder;
  simulator: SimulatorProvider;
  /** A dispatcher over these providers (started, as the dispatcher starts them) and an outbox that wakes it. */
  dispatcher(
    providers: TelephonyProvider[],
    options?: Partial<DispatcherDependencies>,
  ): Promise<{ dispatcher: Dispatcher; enqueue: Enqueue }>;
  close(): Promise<void>;
}

type Enqueue = (overrides?: Partial<QueuedMessageInput>) => Promise<Message>;

async function openHarness(): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-telephony-"));
  const schema = engine === "postgres" ? `rf_telephony_${randomBytes(6).toString("hex")}` : null;
  const config = loadConfig({ DATA_DIR: dataDir, ...(schema ? { DATABASE_URL: process.env.DATABASE_URL, DATABASE_SCHEMA: schema } : {}) });
  await ensureSchema(config);
  const dataSource = createDataSource(config);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });

  const db = new Database(dataSource);
  const clock = new ManualClock(new Date("2030-01-15T09:00:00Z"));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const pubsub = createGatewayPubSub();
  const log = new LogService(clock, pubsub, db.statements);
  const secrets = new ServerSecrets("telephony-test-secret-0123456789abcdef");
  const receipts = new ReceiptProcessor({ db, clock, logger, pubsub, log, unmatchedReceiptWaitMs: 10_000 });
  const recorder = new ReceiptRecorder(receipts);
  // Long enough for a pass to commit SENT before the receipt arrives, so that tests can look in between.
  const simulator = new SimulatorProvider({ db, clock, receiptDelayMs: 50, logger });
  const started: Array<{ stop(): Promise<void> }> = [];

  return {
    db,
    clock,
    pubsub,
    log,
    secrets,
    receipts,
    recorder,
    simulator,
    async dispatcher(providers, options = {}) {
      const dispatcher = new Dispatcher({
        db,
        clock,
        logger,
        pubsub,
        log,
        secrets,
        router: new StaticRouter(providers),
        receipts,
        instanceId: "instance-a",
        pollIntervalMs: 3_600_000,
        receiptWindowMs: RECEIPT_WINDOW_MS,
        ...options,
      });
      // What Dispatcher.start does, without its loop: the tests drive the passes themselves.
      for (const provider of providers) {
        await provider.start(recorder.sink);
        started.push(provider);
      }
      started.push(dispatcher);
      const outbox = new Outbox(clock, secrets, pubsub, dispatcher, db.statements);
      const enqueue: Enqueue = (overrides = {}) =>
        db.transaction((tx) =>
          outbox.enqueue(tx, {
            challengeId: newId("chl"),
            userId: newId("usr"),
            transactionId: newId("txn"),
            purpose: "FACTOR_VERIFY",
            channel: "SMS",
            toE164: "+14155550123",
            country: "US",
            international: false,
            body: BODY,
            language: null,
            encoding: "GSM_7",
            segments: 1,
            estimatedCostMicros: 7_900,
            senderId: null,
            ...overrides,
          }),
        );
      return { dispatcher, enqueue };
    },
    async close() {
      for (const running of started.reverse()) await running.stop();
      await dataSource.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (schema) {
        const admin = new DataSource({ type: "postgres", url: process.env.DATABASE_URL });
        await admin.initialize();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.destroy();
      }
    },
  };
}

const reload = (h: Harness, id: string) => h.db.manager.findOneByOrFail(Message, { id });

/** Attempts in the order they were started (attempts of one pass share a frozen clock's instant). */
async function attemptsOf(h: Harness, messageId: string): Promise<MessageAttempt[]> {
  const attempts = await h.db.manager.findBy(MessageAttempt, { messageId });
  return attempts.sort((a, b) => a.started.getTime() - b.started.getTime());
}

function receiveStatusEvents(h: Harness, messageId: string): Promise<LogEventRecord[]> {
  return h.db.manager
    .createQueryBuilder(LogEventRecord, "e")
    .innerJoin(LogEventTargetRecord, "t", "t.eventUuid = e.uuid")
    .where("t.type = :type AND t.id = :messageId", { type: "Message", messageId })
    .andWhere("e.eventType IN (:...types)", { types: RECEIVE_STATUS_TYPES })
    .getMany();
}

describe(`telephony dispatch on ${engine}`, () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  test.each([
    ["SMS", EventType.SMS_RECEIVE_STATUS],
    ["VOICE", EventType.VOICE_RECEIVE_STATUS],
  ] as const)("%s: QUEUED → SENT → DELIVERED through the simulator, with exactly one %s event", async (channel, eventType) => {
    const { dispatcher, enqueue } = await h.dispatcher([h.simulator]);
    const queued = await enqueue({
      channel,
      language: channel === "VOICE" ? "en-US" : null,
      encoding: channel === "VOICE" ? null : "GSM_7",
    });
    expect(queued.bodyCiphertext).not.toContain("123456");

    expect(await dispatcher.runOnce()).toBe(1);
    const sent = await reload(h, queued.id);
    expect(sent).toMatchObject({
      status: "SENT",
      provider: "simulator",
      providerStatus: "accepted",
      attempts: 1,
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(sent.providerMessageId).toMatch(/^sim_/);
    // Handed over: the code is no longer readable from the outbox.
    expect(sent.bodyCiphertext).toBeNull();
    expect(sent.sentAt).toEqual(h.clock.now());
    expect(sent.receiptDeadline).toEqual(new Date(h.clock.now().getTime() + RECEIPT_WINDOW_MS));
    expect(await dispatcher.runOnce()).toBe(0);

    await h.recorder.until(1);
    expect(h.recorder.results.map((r) => r.result)).toEqual(["applied"]);
    const delivered = await reload(h, queued.id);
    expect(delivered).toMatchObject({ status: "DELIVERED", errorCode: null, providerStatus: "delivered" });
    expect(delivered.finalAt).toEqual(h.clock.now());

    const events = await receiveStatusEvents(h, queued.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      eventType,
      actorId: "ringfence",
      actorType: "SystemPrincipal",
      outcomeResult: "SUCCESS",
      outcomeReason: null,
      transactionId: queued.transactionId,
      debugContext: {
        provider: "simulator",
        providerStatus: "delivered",
        messageId: queued.id,
        segments: 1,
        encoding: queued.encoding,
        country: "US",
        errorCode: null,
        cost: 0.0079,
        purpose: "FACTOR_VERIFY",
        channel,
      },
    });
    const targets = await h.db.manager.find(LogEventTargetRecord, { where: { eventUuid: events[0]!.uuid }, order: { position: "ASC" } });
    expect(targets.map(({ id, type }) => ({ id, type }))).toEqual([
      { id: queued.userId, type: "User" },
      { id: queued.id, type: "Message" },
    ]);

    const inbox = await h.simulator.listMessages({ to: "+14155550123", first: 10 });
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ body: BODY, channel, status: "DELIVERED", id: sent.providerMessageId });
  });

  test("the provider is handed the decrypted body, the attempt id as idempotency key and the call's language", async () => {
    const provider = failingThenAccepting("vendor", 0);
    const { dispatcher, enqueue } = await h.dispatcher([provider]);
    const queued = await enqueue({ channel: "VOICE", language: "fr-FR", encoding: null, senderId: "Ringfence", segments: 1 });
    await dispatcher.runOnce();
    const [attempt] = await attemptsOf(h, queued.id);
    expect(provider.calls).toEqual([
      {
        messageId: queued.id,
        idempotencyKey: attempt!.id,
        channel: "VOICE",
        to: "+14155550123",
        body: BODY,
        voiceLanguage: "fr-FR",
        senderId: "Ringfence",
        encoding: null,
        segments: 1,
        purpose: "FACTOR_VERIFY",
      },
    ]);
    expect(attempt).toMatchObject({ provider: "vendor", outcome: "SENT", providerMessageId: `vendor-${attempt!.id}`, retryable: false });
  });

  test("a simulator rule makes a number UNDELIVERED with NUMBER_INACTIVE, one FAILURE event", async () => {
    await h.simulator.setRules([{ prefix: "+1415555", outcome: "UNDELIVERED" }]);
    const { dispatcher, enqueue } = await h.dispatcher([h.simulator]);
    const queued = await enqueue();
    await dispatcher.runOnce();
    await h.recorder.until(1);

    expect(await reload(h, queued.id)).toMatchObject({
      status: "UNDELIVERED",
      errorCode: "NUMBER_INACTIVE",
      providerStatus: "undelivered",
    });
    const events = await receiveStatusEvents(h, queued.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcomeResult: "FAILURE", outcomeReason: "NUMBER_INACTIVE", severity: "WARN" });
    expect(events[0]!.debugContext).toMatchObject({ errorCode: "NUMBER_INACTIVE", providerStatus: "undelivered" });
    const [inbox] = await h.simulator.listMessages({ to: "+14155550123", first: 1 });
    expect(inbox!.status).toBe("UNDELIVERED");
  });

  test.each([
    ["a provider that refuses with BLOCKED_SUSPICIOUS", "vendor", "BLOCKED_SUSPICIOUS"],
    ["a simulator rule FAILED with NUMBER_INACTIVE", "simulator", "NUMBER_INACTIVE"],
  ] as const)("%s: FAILED at once, no retry and no failover", async (_name, providerName, errorCode) => {
    await h.simulator.setRules([{ prefix: "+1", outcome: "FAILED", errorCode: "NUMBER_INACTIVE" }]);
    const first = providerName === "simulator" ? h.simulator : refusing("vendor", DeliveryErrorCode.BLOCKED_SUSPICIOUS);
    const fallback = failingThenAccepting("fallback", 0);
    const { dispatcher, enqueue } = await h.dispatcher([first, fallback]);
    const queued = await enqueue();

    expect(await dispatcher.runOnce()).toBe(1);
    const failed = await reload(h, queued.id);
    expect(failed).toMatchObject({
      status: "FAILED",
      errorCode,
      provider: providerName,
      attempts: 1,
      bodyCiphertext: null,
      leaseOwner: null,
    });
    expect(fallback.calls).toHaveLength(0);
    const attempts = await attemptsOf(h, queued.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ provider: providerName, outcome: errorCode, retryable: false });
    const events = await receiveStatusEvents(h, queued.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcomeResult: "FAILURE", outcomeReason: errorCode });

    h.clock.advance(120_000);
    expect(await dispatcher.runOnce()).toBe(0);
  });

  test("no provider carries the channel: FAILED with COUNTRY_UNSUPPORTED, nothing attempted", async () => {
    const smsOnly = new ScriptedProvider("sms-only", () => "accept", ["SMS"]);
    const { dispatcher, enqueue } = await h.dispatcher([smsOnly]);
    const queued = await enqueue({ channel: "VOICE", language: "en-US", encoding: null });
    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({ status: "FAILED", errorCode: "COUNTRY_UNSUPPORTED", attempts: 0 });
    expect(smsOnly.calls).toHaveLength(0);
    expect(await attemptsOf(h, queued.id)).toHaveLength(0);
    const events = await receiveStatusEvents(h, queued.id);
    expect(events.map((e) => [e.eventType, e.outcomeReason])).toEqual([[EventType.VOICE_RECEIVE_STATUS, "COUNTRY_UNSUPPORTED"]]);
  });

  test("failover: an unreachable provider, then the next one in the same pass, two attempts recorded", async () => {
    const down = alwaysUnreachable("down");
    const { dispatcher, enqueue } = await h.dispatcher([down, h.simulator]);
    const queued = await enqueue();

    expect(await dispatcher.runOnce()).toBe(1);
    expect(await reload(h, queued.id)).toMatchObject({ status: "SENT", provider: "simulator", attempts: 2 });
    const attempts = await attemptsOf(h, queued.id);
    expect(attempts).toHaveLength(2);
    const failedOver = attempts.find((attempt) => attempt.provider === "down");
    const delivered = attempts.find((attempt) => attempt.provider === "simulator");
    expect(failedOver).toMatchObject({ id: down.calls[0]!.idempotencyKey, outcome: "PROVIDER_UNREACHABLE", retryable: true });
    expect(failedOver!.detail).toContain("ECONNREFUSED");
    expect(delivered).toMatchObject({ outcome: "SENT", retryable: false });
    expect(delivered!.id).not.toBe(failedOver!.id);
    await h.recorder.until(1);
    expect((await reload(h, queued.id)).status).toBe("DELIVERED");
  });

  test("a provider that fails twice then accepts: retried after 1 s and 2 s by the clock", async () => {
    const provider = failingThenAccepting("vendor", 2);
    const { dispatcher, enqueue } = await h.dispatcher([provider]);
    const queued = await enqueue();
    const start = h.clock.now().getTime();

    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({
      status: "QUEUED",
      attempts: 1,
      nextAttemptAt: new Date(start + 1_000),
      leaseOwner: null,
    });
    h.clock.advance(1_000);
    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({ status: "QUEUED", attempts: 2, nextAttemptAt: new Date(start + 3_000) });
    h.clock.advance(2_000);
    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({ status: "SENT", attempts: 3, provider: "vendor" });
    expect(provider.calls.map((call) => call.idempotencyKey)).toEqual((await attemptsOf(h, queued.id)).map((a) => a.id));
  });

  test("exponential backoff by the clock, then FAILED (PROVIDER_UNREACHABLE) after maxAttempts", async () => {
    const down = alwaysUnreachable("down");
    const { dispatcher, enqueue } = await h.dispatcher([down], { maxAttempts: 5 });
    const queued = await enqueue();

    for (const [attempt, backoffMs] of [
      [1, 1_000],
      [2, 2_000],
      [3, 4_000],
      [4, 8_000],
    ] as const) {
      expect(await dispatcher.runOnce()).toBe(1);
      const message = await reload(h, queued.id);
      expect(message).toMatchObject({ status: "QUEUED", attempts: attempt, leaseOwner: null, leaseUntil: null });
      expect(message.nextAttemptAt.getTime() - h.clock.now().getTime()).toBe(backoffMs);
      h.clock.advance(backoffMs - 1);
      expect(await dispatcher.runOnce()).toBe(0);
      h.clock.advance(1);
    }
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await reload(h, queued.id)).toMatchObject({
      status: "FAILED",
      errorCode: "PROVIDER_UNREACHABLE",
      attempts: 5,
      provider: "down",
    });
    expect(down.calls).toHaveLength(5);
    expect(new Set(down.calls.map((call) => call.idempotencyKey)).size).toBe(5);
    const events = await receiveStatusEvents(h, queued.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcomeResult: "FAILURE", outcomeReason: "PROVIDER_UNREACHABLE" });
    h.clock.advance(3_600_000);
    expect(await dispatcher.runOnce()).toBe(0);
  });

  test("a provider that asks to slow down is tried again each second, spending no attempt, for up to a minute", async () => {
    const busy = new ScriptedProvider("busy", (call) => (call <= 7 ? throttled() : "accept"));
    const { dispatcher, enqueue } = await h.dispatcher([busy], { maxAttempts: 5 });
    const burst = await enqueue();
    for (let call = 1; call <= 7; call += 1) {
      expect(await dispatcher.runOnce()).toBe(1);
      expect(await reload(h, burst.id)).toMatchObject({ status: "QUEUED", attempts: 0, nextAttemptAt: new Date(h.clock.now().getTime() + 1_000) });
      h.clock.advance(1_000);
    }
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await reload(h, burst.id)).toMatchObject({ status: "SENT", attempts: 1, provider: "busy" });
    expect(await attemptsOf(h, burst.id)).toHaveLength(8);

    const saturated = new ScriptedProvider("saturated", () => throttled());
    const { dispatcher: patient, enqueue: enqueueAgain } = await h.dispatcher([saturated], { maxAttempts: 5 });
    const waiting = await enqueueAgain();
    for (let second = 0; second < 60; second += 1) {
      await patient.runOnce();
      h.clock.advance(1_000);
    }
    await patient.runOnce();
    expect(await reload(h, waiting.id)).toMatchObject({ status: "FAILED", errorCode: "PROVIDER_UNREACHABLE", attempts: 0 });
    expect((await receiveStatusEvents(h, waiting.id))).toHaveLength(1);
  });

  test("a provider that does not answer within sendTimeoutMs counts as unreachable, and the next one is tried", async () => {
    const silent = new SilentProvider("silent");
    const { dispatcher, enqueue } = await h.dispatcher([silent, h.simulator], { sendTimeoutMs: 50 });
    const queued = await enqueue();
    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({ status: "SENT", provider: "simulator", attempts: 2 });
    const [timedOut] = await attemptsOf(h, queued.id);
    expect(timedOut).toMatchObject({
      provider: "silent",
      outcome: "PROVIDER_UNREACHABLE",
      retryable: true,
      detail: "no answer within 50 ms",
    });
  });

  test("a short lease shortens the wait for an answer to half of it, so no other instance takes over a hand-over still waiting", async () => {
    const silent = new SilentProvider("silent");
    const { dispatcher, enqueue } = await h.dispatcher([silent, h.simulator], { leaseMs: 100 });
    const queued = await enqueue();
    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({ status: "SENT", provider: "simulator", attempts: 2 });
    expect((await attemptsOf(h, queued.id))[0]).toMatchObject({ provider: "silent", outcome: "PROVIDER_UNREACHABLE", detail: "no answer within 50 ms" });
  });

  test("circuit breaker: after 5 failures a provider is skipped for 30 s, then one trial goes through", async () => {
    const down = alwaysUnreachable("down");
    const { dispatcher, enqueue } = await h.dispatcher([down, h.simulator]);
    for (let i = 0; i < 5; i += 1) await enqueue({ toE164: `+1415555010${i}` });
    expect(await dispatcher.runOnce()).toBe(5);
    expect(down.calls).toHaveLength(5);

    const skipped = await enqueue();
    await dispatcher.runOnce();
    expect(down.calls).toHaveLength(5);
    expect(await reload(h, skipped.id)).toMatchObject({ status: "SENT", provider: "simulator", attempts: 1 });

    h.clock.advance(30_000);
    await enqueue();
    await enqueue();
    await dispatcher.runOnce();
    // Half-open: one of the two messages is the trial, the other goes around the provider.
    expect(down.calls).toHaveLength(6);

    await enqueue();
    await dispatcher.runOnce();
    expect(down.calls).toHaveLength(6);
  });

  test("circuit breaker: a provider that throttles is up, only busy: its refusals never open the circuit, and its messages go later", async () => {
    // ESME_RTHROTTLED, or Twilio's 429: five in a row would open the circuit if they counted.
    const busy = new ScriptedProvider("busy", (call) =>
      call <= 6 ? new ProviderError(DeliveryErrorCode.PROVIDER_UNREACHABLE, true, "throttled", "ESME_RTHROTTLED", { throttled: true }) : "accept",
    );
    const { dispatcher, enqueue } = await h.dispatcher([busy]);
    const messages = [];
    for (let i = 0; i < 6; i += 1) messages.push(await enqueue({ toE164: `+1415555020${i}` }));
    expect(await dispatcher.runOnce()).toBe(6);
    expect(busy.calls).toHaveLength(6);

    h.clock.advance(1_000);
    expect(await dispatcher.runOnce()).toBe(6);
    // The throttled try spent no attempt.
    for (const message of messages) expect(await reload(h, message.id)).toMatchObject({ status: "SENT", provider: "busy", attempts: 1 });
  });

  test("circuit breaker: a trial whose attempt could not be recorded is given back, and the next message takes it", async () => {
    const down = alwaysUnreachable("down");
    const { dispatcher, enqueue } = await h.dispatcher([down]);
    for (let i = 0; i < 5; i += 1) await enqueue({ toE164: `+1415555011${i}` });
    await dispatcher.runOnce();
    expect(down.calls).toHaveLength(5);
    h.clock.advance(30_000);

    const openAttempt = jest.spyOn(dispatcher as unknown as { openAttempt: () => Promise<string | null> }, "openAttempt");
    openAttempt.mockRejectedValueOnce(new Error("database is locked"));
    await enqueue({ toE164: "+14155550120" });
    await dispatcher.runOnce();
    expect(down.calls).toHaveLength(5);
    openAttempt.mockRestore();

    await enqueue({ toE164: "+14155550121" });
    await dispatcher.runOnce();
    expect(down.calls).toHaveLength(6);
  });

  test("no receipt within the window: UNKNOWN with TIMEOUT once the clock passes the deadline", async () => {
    await h.simulator.setRules([{ prefix: "+1415555", outcome: "SENT" }]);
    const { dispatcher, enqueue } = await h.dispatcher([h.simulator]);
    const queued = await enqueue();
    await dispatcher.runOnce();
    expect((await reload(h, queued.id)).status).toBe("SENT");

    expect(await dispatcher.sweepReceiptTimeouts()).toBe(0);
    h.clock.advance(RECEIPT_WINDOW_MS);
    expect(await dispatcher.sweepReceiptTimeouts()).toBe(0);
    h.clock.advance(1);
    expect(await dispatcher.sweepReceiptTimeouts()).toBe(1);
    expect(await reload(h, queued.id)).toMatchObject({ status: "UNKNOWN", errorCode: "TIMEOUT", providerStatus: "accepted" });
    const events = await receiveStatusEvents(h, queued.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcomeResult: "UNKNOWN", outcomeReason: "TIMEOUT" });
    expect(await dispatcher.sweepReceiptTimeouts()).toBe(0);
    expect(h.recorder.results).toHaveLength(0);
  });

  test("duplicate and late receipts are journaled with applied=false and change nothing", async () => {
    const vendor = failingThenAccepting("vendor", 0);
    const { dispatcher, enqueue } = await h.dispatcher([vendor]);
    const delivered = await enqueue();
    const timedOut = await enqueue({ toE164: "+14155550124" });
    await dispatcher.runOnce();
    const deliveredId = (await reload(h, delivered.id)).providerMessageId!;
    const timedOutId = (await reload(h, timedOut.id)).providerMessageId!;

    await vendor.report(deliveredId, "DELIVERED");
    await vendor.report(deliveredId, "DELIVERED");
    await vendor.report(deliveredId, "UNDELIVERED", DeliveryErrorCode.NUMBER_INACTIVE);
    h.clock.advance(RECEIPT_WINDOW_MS + 1);
    await dispatcher.sweepReceiptTimeouts();
    await vendor.report(timedOutId, "DELIVERED");
    expect(h.recorder.results.map((r) => r.result)).toEqual(["applied", "late", "late", "late"]);

    expect(await reload(h, delivered.id)).toMatchObject({ status: "DELIVERED", errorCode: null });
    expect(await reload(h, timedOut.id)).toMatchObject({ status: "UNKNOWN", errorCode: "TIMEOUT" });
    const journal = await h.db.manager.find(MessageReceipt, { where: { messageId: delivered.id } });
    expect(journal.map((r) => [r.status, r.applied]).sort()).toEqual([
      ["DELIVERED", false],
      ["DELIVERED", true],
      ["UNDELIVERED", false],
    ]);
    expect(await h.db.manager.find(MessageReceipt, { where: { messageId: timedOut.id } })).toMatchObject([
      { status: "DELIVERED", applied: false },
    ]);
    expect(await receiveStatusEvents(h, delivered.id)).toHaveLength(1);
    expect(await receiveStatusEvents(h, timedOut.id)).toHaveLength(1);
  });

  test("a receipt naming no message is unknown and journals nothing", async () => {
    const logger = pino({ level: "silent" });
    const impatient = new ReceiptProcessor({ db: h.db, clock: h.clock, logger, pubsub: h.pubsub, log: h.log, unmatchedReceiptWaitMs: 0 });
    const result = await impatient.apply({
      provider: "vendor",
      providerMessageId: "nope",
      status: "DELIVERED",
      providerStatus: "delivered",
      errorCode: null,
    });
    expect(result).toBe("unknown");
    expect(await h.db.manager.count(MessageReceipt)).toBe(0);
  });

  (engine === "sqlite" ? test : test.skip)("a receipt that matches no message yet is looked for by index, not by reading every attempt ever made", async () => {
    // Retried every 50 ms for seconds, as SMPP receipts often come before SENT is committed.
    const plans = await h.db.manager.query(
      `EXPLAIN QUERY PLAN SELECT "id", "message_id" FROM "message_attempts" WHERE "provider" = ? AND "provider_message_id" = ? LIMIT 1`,
      ["vendor", "nope"],
    );
    expect(plans.map((row: { detail: string }) => row.detail).join("; ")).toMatch(/SEARCH message_attempts USING (COVERING )?INDEX message_attempts_provider_id/);
  });

  test("concurrent receipts and sweeps on two instances end a message once, with one event", async () => {
    const vendor = failingThenAccepting("vendor", 0);
    const { dispatcher, enqueue } = await h.dispatcher([vendor]);
    const { dispatcher: other } = await h.dispatcher([], { instanceId: "instance-b" });
    const queued = await enqueue();
    await dispatcher.runOnce();
    const providerMessageId = (await reload(h, queued.id)).providerMessageId!;
    h.clock.advance(RECEIPT_WINDOW_MS + 1);

    const receipt: DeliveryReceipt = {
      provider: "vendor",
      providerMessageId,
      status: "DELIVERED",
      providerStatus: "delivered",
      errorCode: null,
    };
    const [swept, sweptElsewhere, ...results] = await Promise.all([
      dispatcher.sweepReceiptTimeouts(),
      other.sweepReceiptTimeouts(),
      ...Array.from({ length: 8 }, () => h.receipts.apply(receipt)),
    ]);
    const applied = results.filter((result) => result === "applied").length;
    expect(swept + sweptElsewhere + applied).toBe(1);
    expect(results.every((result) => result === "applied" || result === "late")).toBe(true);
    expect(await receiveStatusEvents(h, queued.id)).toHaveLength(1);
    expect(await h.db.manager.countBy(MessageReceipt, { messageId: queued.id, applied: true })).toBe(applied);
    expect(await h.db.manager.countBy(MessageReceipt, { messageId: queued.id })).toBe(8);
  });

  test("crash recovery: a PENDING attempt under a lapsed lease is resent to the same provider with the same key, stored once", async () => {
    const preferred = failingThenAccepting("preferred", 0);
    const { dispatcher, enqueue } = await h.dispatcher([preferred, h.simulator], { instanceId: "survivor" });
    const queued = await enqueue({ toE164: "+14155550177" });
    const now = h.clock.now();

    // What the crashed instance did: leased the message, recorded its attempt at the simulator,
    // handed the message over, and died before it could record the result.
    const attemptId = newId("att");
    await h.db.transaction(async ({ manager }) => {
      await manager.update(Message, { id: queued.id }, { leaseOwner: "crashed", leaseUntil: new Date(now.getTime() + 30_000) });
      await manager.insert(MessageAttempt, {
        id: attemptId,
        messageId: queued.id,
        provider: "simulator",
        started: now,
        finished: null,
        outcome: "PENDING",
        providerMessageId: null,
        retryable: false,
        detail: null,
      });
    });
    const firstHandOver = await h.simulator.send({
      messageId: queued.id,
      idempotencyKey: attemptId,
      channel: "SMS",
      to: "+14155550177",
      body: BODY,
      voiceLanguage: null,
      senderId: null,
      encoding: "GSM_7",
      segments: 1,
      purpose: "FACTOR_VERIFY",
    });

    expect(await dispatcher.runOnce()).toBe(0);
    h.clock.advance(30_001);
    expect(await dispatcher.runOnce()).toBe(1);

    const recovered = await reload(h, queued.id);
    expect(recovered).toMatchObject({
      status: "SENT",
      provider: "simulator",
      providerMessageId: firstHandOver.providerMessageId,
      attempts: 1,
    });
    const attempts = await attemptsOf(h, queued.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ id: attemptId, outcome: "SENT", providerMessageId: firstHandOver.providerMessageId });
    expect(await h.simulator.listMessages({ to: "+14155550177", first: 10 })).toHaveLength(1);
    expect(preferred.calls).toHaveLength(0);

    // The first hand-over's receipt waited for the message to be recorded SENT, and then applied.
    await h.recorder.until(1);
    expect(h.recorder.results.map((r) => r.result)).toEqual(["applied"]);
    expect((await reload(h, queued.id)).status).toBe("DELIVERED");
    expect(await receiveStatusEvents(h, queued.id)).toHaveLength(1);
  });

  test("a hand-over that outlives its lease is taken over under the same key, and the slow instance records nothing", async () => {
    const slow = new GatedProvider("slow");
    const { dispatcher: first, enqueue } = await h.dispatcher([slow], { instanceId: "instance-a", leaseMs: 30_000 });
    const { dispatcher: second } = await h.dispatcher([], { instanceId: "instance-b", router: new StaticRouter([slow]) });
    const queued = await enqueue();

    const firstPass = first.runOnce();
    await withTimeout(slow.called, 5_000, "the first hand-over");
    expect(await second.runOnce()).toBe(0);
    h.clock.advance(30_001);
    expect(await second.runOnce()).toBe(1);
    slow.open();
    expect(await firstPass).toBe(1);

    expect(slow.calls.map((call) => call.idempotencyKey)).toEqual([slow.calls[0]!.idempotencyKey, slow.calls[0]!.idempotencyKey]);
    expect(await reload(h, queued.id)).toMatchObject({
      status: "SENT",
      attempts: 1,
      leaseOwner: null,
      providerMessageId: `slow-${slow.calls[0]!.idempotencyKey}`,
    });
    expect(await attemptsOf(h, queued.id)).toMatchObject([{ id: slow.calls[0]!.idempotencyKey, outcome: "SENT" }]);
  });

  test("finalizeMessage ends a message once, even when handed the same stale row twice", async () => {
    const vendor = failingThenAccepting("vendor", 0);
    const { dispatcher, enqueue } = await h.dispatcher([vendor]);
    const queued = await enqueue();
    await dispatcher.runOnce();
    const stale = await reload(h, queued.id);
    const again = await reload(h, queued.id);
    const deps = { db: h.db, clock: h.clock, pubsub: h.pubsub, log: h.log };
    const outcome = { status: "UNDELIVERED", errorCode: DeliveryErrorCode.NUMBER_INACTIVE, providerStatus: "undelivered" } as const;
    expect(await h.db.transaction((tx) => finalizeMessage(tx, stale, outcome, deps))).toBe(true);
    expect(await h.db.transaction((tx) => finalizeMessage(tx, again, { ...outcome, status: "DELIVERED", errorCode: null }, deps))).toBe(
      false,
    );
    expect(await reload(h, queued.id)).toMatchObject({ status: "UNDELIVERED", errorCode: "NUMBER_INACTIVE" });
    expect(await receiveStatusEvents(h, queued.id)).toHaveLength(1);
  });

  test("a PENDING attempt at a provider no longer routed is closed, and the message goes on through the route", async () => {
    const { dispatcher, enqueue } = await h.dispatcher([h.simulator]);
    const queued = await enqueue();
    const attemptId = newId("att");
    await h.db.transaction(({ manager }) =>
      manager.insert(MessageAttempt, {
        id: attemptId,
        messageId: queued.id,
        provider: "retired",
        started: h.clock.now(),
        finished: null,
        outcome: "PENDING",
        providerMessageId: null,
        retryable: false,
        detail: null,
      }),
    );
    await dispatcher.runOnce();
    expect(await reload(h, queued.id)).toMatchObject({ status: "SENT", provider: "simulator", attempts: 2 });
    expect(await h.db.manager.findOneByOrFail(MessageAttempt, { id: attemptId })).toMatchObject({
      outcome: "PROVIDER_UNREACHABLE",
      detail: "abandoned: its provider is no longer routed",
    });
  });

  test("MESSAGE_STATUS is published in order QUEUED → SENT → DELIVERED, and not for a duplicate receipt", async () => {
    const vendor = failingThenAccepting("vendor", 0);
    const { dispatcher, enqueue } = await h.dispatcher([vendor]);
    const challengeId = newId("chl");
    const events = h.pubsub.subscribe("MESSAGE_STATUS", challengeId)[Symbol.asyncIterator]();
    const next = async (): Promise<MessageStatusEvent> => {
      const { value, done } = await withTimeout(events.next(), 5_000, "a MESSAGE_STATUS event");
      if (done) throw new Error("subscription ended");
      return value;
    };
    const statusAfter = async (pending: Promise<MessageStatusEvent>) => {
      const event = await pending;
      return { messageId: event.messageId, status: (await reload(h, event.messageId)).status };
    };

    const first = next();
    const queued = await enqueue({ challengeId });
    expect(await statusAfter(first)).toEqual({ messageId: queued.id, status: "QUEUED" });

    const second = next();
    await dispatcher.runOnce();
    expect(await statusAfter(second)).toEqual({ messageId: queued.id, status: "SENT" });

    const third = next();
    const providerMessageId = (await reload(h, queued.id)).providerMessageId!;
    await vendor.report(providerMessageId, "DELIVERED");
    expect(await statusAfter(third)).toEqual({ messageId: queued.id, status: "DELIVERED" });

    // A duplicate publishes nothing: the next event on the topic is the marker sent after it.
    const fourth = next();
    await vendor.report(providerMessageId, "DELIVERED");
    h.pubsub.publish("MESSAGE_STATUS", challengeId, { messageId: "marker", challengeId });
    expect((await fourth).messageId).toBe("marker");
    await events.return?.();
  });

  test("two instances claim disjoint messages, and each message is handed over once", async () => {
    const { dispatcher: first, enqueue } = await h.dispatcher([h.simulator], { batchSize: 20, instanceId: "instance-a" });
    const { dispatcher: second } = await h.dispatcher([], {
      batchSize: 20,
      instanceId: "instance-b",
      router: new StaticRouter([h.simulator]),
    });
    const ids: string[] = [];
    for (let i = 0; i < 40; i += 1) ids.push((await enqueue({ toE164: `+1415555${String(1000 + i)}` })).id);

    const [claimedByFirst, claimedBySecond] = await Promise.all([first.runOnce(), second.runOnce()]);
    expect(claimedByFirst + claimedBySecond).toBe(40);
    const attempts = await h.db.manager.findBy(MessageAttempt, {});
    expect(attempts).toHaveLength(40);
    expect(new Set(attempts.map((a) => a.messageId)).size).toBe(40);
    expect(await h.simulator.listMessages({ first: 100 })).toHaveLength(40);
  });

  test("four instances claiming at once, round after round, take every due message exactly once", async () => {
    const { dispatcher: first, enqueue } = await h.dispatcher([h.simulator], { batchSize: 25, instanceId: "instance-a" });
    const others = await Promise.all(
      ["instance-b", "instance-c", "instance-d"].map(async (instanceId) => (await h.dispatcher([], { batchSize: 25, instanceId, router: new StaticRouter([h.simulator]) })).dispatcher),
    );
    let enqueued = 0;
    for (let round = 0; round < 5; round += 1) {
      for (let i = 0; i < 100; i += 1) await enqueue({ toE164: `+1415556${String(1000 + enqueued++)}` });
      const claimed = await Promise.all([first, ...others].map((dispatcher) => dispatcher.runOnce()));
      expect(claimed.reduce((sum, count) => sum + count, 0)).toBe(100);
    }
    const attempts = await h.db.manager.findBy(MessageAttempt, {});
    expect(new Set(attempts.map((attempt) => attempt.messageId)).size).toBe(attempts.length);
  });

  test("start, wake and stop: the loop sends what the outbox enqueues without waiting for its poll interval", async () => {
    const vendor = failingThenAccepting("vendor", 0);
    const dispatcher = new Dispatcher({
      db: h.db,
      clock: h.clock,
      logger: pino({ level: "silent" }),
      pubsub: h.pubsub,
      log: h.log,
      secrets: h.secrets,
      router: new StaticRouter([vendor, h.simulator]),
      receipts: h.receipts,
      instanceId: "looping",
      pollIntervalMs: 3_600_000,
    });
    await dispatcher.start();
    try {
      const outbox = new Outbox(h.clock, h.secrets, h.pubsub, dispatcher, h.db.statements);
      const queued = await h.db.transaction((tx) =>
        outbox.enqueue(tx, {
          challengeId: null,
          userId: null,
          transactionId: null,
          purpose: "PHONE_VERIFICATION",
          channel: "SMS",
          toE164: "+14155550199",
          country: "US",
          international: false,
          body: BODY,
          language: null,
          encoding: "GSM_7",
          segments: 1,
          estimatedCostMicros: null,
          senderId: null,
        }),
      );
      const sent = await eventually(
        () => reload(h, queued.id),
        (m) => m.status === "SENT",
        "the woken loop sends",
      );
      await vendor.report(sent.providerMessageId!, "DELIVERED");
      expect((await reload(h, queued.id)).status).toBe("DELIVERED");
    } finally {
      await dispatcher.stop();
    }
    await expect(vendor.report("anything", "DELIVERED")).rejects.toThrow("was not started");
  });

  test("1,000 messages with seeded random faults: every one ends, with exactly one receive_status each", async () => {
    const flaky = new FlakyProvider("flaky", seededRandom(20_300_115));
    await h.simulator.setRules([
      { prefix: "+1415555013", outcome: "UNDELIVERED" },
      { prefix: "+1415555019", outcome: "FAILED", errorCode: "PROVIDER_UNREACHABLE" },
    ]);
    const options = { batchSize: 25, receiptWindowMs: 30_000, maxAttempts: 5 };
    const { dispatcher: first, enqueue } = await h.dispatcher([flaky, h.simulator], { ...options, instanceId: "instance-a" });
    const { dispatcher: second } = await h.dispatcher([], {
      ...options,
      instanceId: "instance-b",
      router: new StaticRouter([flaky, h.simulator]),
    });

    const numbers = seededRandom(7);
    for (let i = 0; i < 1_000; i += 1) {
      await enqueue({
        toE164: `+14155550${String(Math.floor(numbers() * 1_000)).padStart(3, "0")}`,
        channel: numbers() < 0.1 ? "VOICE" : "SMS",
      });
    }

    const queuedCount = () => h.db.manager.countBy(Message, { status: "QUEUED" });
    for (let round = 0; round < 2_000; round += 1) {
      const [byFirst, bySecond] = await Promise.all([first.runOnce(), second.runOnce(), second.sweepReceiptTimeouts()]);
      if (byFirst + bySecond > 0) continue;
      if ((await queuedCount()) === 0) break;
      h.clock.advance(1_000);
    }
    expect(await queuedCount()).toBe(0);

    await flaky.settled();
    await eventually(
      () => h.db.manager.countBy(Message, { status: "SENT", provider: "simulator" }),
      (count) => count === 0,
      "the simulator's receipts are applied",
    );
    h.clock.advance(options.receiptWindowMs + 1);
    await first.sweepReceiptTimeouts();

    const byStatus = await h.db.manager
      .createQueryBuilder(Message, "m")
      .select("m.status", "status")
      .addSelect("COUNT(*)", "count")
      .groupBy("m.status")
      .getRawMany<{ status: string; count: string | number }>();
    const counts = Object.fromEntries(byStatus.map((row) => [row.status, Number(row.count)]));
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1_000);
    expect(Object.keys(counts).sort()).toEqual(["DELIVERED", "FAILED", "UNDELIVERED", "UNKNOWN"]);
    expect(
      await h.db.manager.createQueryBuilder(Message, "m").where("m.final_at IS NULL OR m.body_ciphertext IS NOT NULL").getCount(),
    ).toBe(0);
    expect(await h.db.manager.countBy(MessageAttempt, { outcome: "PENDING" })).toBe(0);

    const perMessage = await h.db.manager
      .createQueryBuilder(LogEventTargetRecord, "t")
      .innerJoin(LogEventRecord, "e", "e.uuid = t.eventUuid")
      .select("t.id", "messageId")
      .addSelect("COUNT(*)", "events")
      .where("t.type = :type", { type: "Message" })
      .andWhere("e.eventType IN (:...types)", { types: RECEIVE_STATUS_TYPES })
      .groupBy("t.id")
      .getRawMany<{ messageId: string; events: string | number }>();
    expect(perMessage).toHaveLength(1_000);
    expect(perMessage.filter((row) => Number(row.events) !== 1)).toEqual([]);
    expect(await h.db.manager.countBy(LogEventRecord, { eventType: EventType.SMS_RECEIVE_STATUS })).toBe(
      1_000 - (await h.db.manager.countBy(Message, { channel: "VOICE" })),
    );

    // Receipts only ever deliver or undeliver: each such message was ended by exactly one applied receipt.
    expect(await h.db.manager.countBy(MessageReceipt, { applied: true })).toBe((counts.DELIVERED ?? 0) + (counts.UNDELIVERED ?? 0));
    const late = await h.db.manager.countBy(MessageReceipt, { applied: false });
    expect(late).toBeGreaterThan(0);
  }, 240_000);
});

describe(`SimulatorProvider on ${engine}`, () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const outbound = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
    messageId: newId("msg"),
    idempotencyKey: newId("att"),
    channel: "SMS",
    to: "+447700900123",
    body: BODY,
    voiceLanguage: null,
    senderId: null,
    encoding: "GSM_7",
    segments: 1,
    purpose: "FACTOR_VERIFY",
    ...overrides,
  });

  test.each([
    [{ prefix: "44", outcome: "FAILED" as const }, "rules[0].prefix"],
    [{ prefix: "+1234567890123456", outcome: "FAILED" as const }, "rules[0].prefix"],
    // What an untyped caller could pass.
    [{ prefix: "+44", outcome: "LOST" as "FAILED" }, "rules[0].outcome"],
    [{ prefix: "+44", outcome: "FAILED" as const, errorCode: "CARRIER_VIOLATION" }, "rules[0].errorCode"],
    [{ prefix: "+44", outcome: "DELIVERED" as const, delayMs: 600_001 }, "rules[0].delayMs"],
    [{ prefix: "+44", outcome: "DELIVERED" as const, delayMs: -1 }, "rules[0].delayMs"],
  ])("setRules refuses %j naming %s, and keeps the rules it had", async (rule, field) => {
    await h.simulator.setRules([{ prefix: "+", outcome: "SENT" }]);
    const error = await h.simulator.setRules([rule]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    const { providerMessageId } = await h.simulator.send(outbound());
    const [stored] = await h.simulator.listMessages({ first: 1 });
    expect(stored).toMatchObject({ id: providerMessageId, status: "SENT" });
  });

  test("the first matching rule wins; FAILED is retryable only when unreachable", async () => {
    await h.simulator.setRules([
      { prefix: "+4477009001", outcome: "FAILED", errorCode: "NUMBER_INACTIVE" },
      { prefix: "+44770090", outcome: "FAILED" },
    ]);
    await expect(h.simulator.send(outbound({ to: "+447700900123" }))).rejects.toMatchObject({
      errorCode: "NUMBER_INACTIVE",
      retryable: false,
    });
    await expect(h.simulator.send(outbound({ to: "+447700900999" }))).rejects.toMatchObject({
      errorCode: "PROVIDER_UNREACHABLE",
      retryable: true,
    });
    await h.simulator.setRules([]);
    await expect(h.simulator.send(outbound())).resolves.toMatchObject({ providerStatus: "accepted" });
  });

  test("the same idempotency key twice is one message: one inbox row, one receipt", async () => {
    // The receipt names no outbox message here: an impatient processor calls it unknown at once.
    const processor = new ReceiptProcessor({
      db: h.db,
      clock: h.clock,
      logger: pino({ level: "silent" }),
      pubsub: h.pubsub,
      log: h.log,
      unmatchedReceiptWaitMs: 0,
    });
    const recorder = new ReceiptRecorder(processor);
    await h.simulator.start(recorder.sink);
    const message = outbound();
    const [first, second] = await Promise.all([h.simulator.send(message), h.simulator.send(message)]);
    const third = await h.simulator.send(message);
    expect(second.providerMessageId).toBe(first.providerMessageId);
    expect(third.providerMessageId).toBe(first.providerMessageId);
    expect(await h.simulator.listMessages({ first: 10 })).toHaveLength(1);
    await recorder.until(1);
    await h.simulator.stop();
    expect(recorder.results.map((r) => [r.receipt.providerMessageId, r.result])).toEqual([[first.providerMessageId, "unknown"]]);
  });

  test("listMessages: newest first, filtered by number, at most `first`", async () => {
    const sent: string[] = [];
    for (const to of ["+447700900001", "+447700900002", "+447700900001", "+447700900001"]) {
      sent.push((await h.simulator.send(outbound({ to }))).providerMessageId);
    }
    const forFirst = await h.simulator.listMessages({ to: "+447700900001", first: 2 });
    expect(forFirst.map((m) => m.id)).toEqual([sent[3], sent[2]]);
    expect((await h.simulator.listMessages({ first: 10 })).map((m) => m.id)).toEqual([...sent].reverse());
  });

  test("StaticRouter keeps the configured order and refuses two providers of one name", () => {
    const smsOnly = new ScriptedProvider("a", () => "accept", ["SMS"]);
    const router = new StaticRouter([smsOnly, h.simulator]);
    expect(router.route({ channel: "SMS", country: "US" })).toEqual([smsOnly, h.simulator]);
    expect(router.route({ channel: "VOICE", country: "US" })).toEqual([h.simulator]);
    expect(() => new StaticRouter([h.simulator, h.simulator])).toThrow(/configured twice/);
  });
});
