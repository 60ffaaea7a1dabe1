import { MessageStatus, PhoneMethod } from "../../phone/phone.enums";
import type { Clock } from "../../platform/clock";
import { isUniqueViolation, type Database } from "../../platform/database";
import { badInput, DeliveryErrorCode } from "../../platform/errors";
import type { Logger } from "../../platform/logger";
import { ShortLived } from "../../platform/short-lived";
import { uuidv7 } from "../../platform/uuid";
import {
  ProviderError,
  type DeliveryReceipt,
  type OutboundMessage,
  type ReceiptSink,
  type SendResult,
  type TelephonyProvider,
} from "../provider";
import type { SenderIds } from "../sender-ids";
import { SimulatorMessageRecord, SimulatorRuleRecord } from "./simulator.entity";

export interface SimulatorDependencies {
  db: Database;
  clock: Clock;
  /** Delay before a receipt, for numbers whose rule names none (real time). */
  receiptDelayMs: number;
  /** Where a receipt that could not be stored or delivered is reported. */
  logger?: Logger;
  /** The senders a message shows, as a real adapter applies them. @default none: the simulator's own */
  senderIds?: SenderIds;
}

/** What happens to messages for numbers starting with `prefix`; the first matching rule wins. */
export interface SimulatorRule {
  prefix: string;
  outcome: MessageStatus;
  errorCode?: string | null;
  delayMs?: number | null;
}

const E164_PREFIX = /^\+[0-9]{0,15}$/;
const MAX_RULES = 100;
const MAX_RULE_DELAY_MS = 600_000;

const isDeliveryErrorCode = (value: string | null | undefined): value is DeliveryErrorCode =>
  value != null && Object.hasOwn(DeliveryErrorCode, value);

type SimulatorRuleRow = Pick<SimulatorRuleRecord, "prefix" | "outcome" | "errorCode" | "delayMs">;

/** A message as the simulated handset received it. */
export type HandsetMessage = Pick<SimulatorMessageRecord, "id" | "toE164" | "channel" | "body" | "created">;
export type HandsetListener = (message: HandsetMessage) => void;

/**
 * A telephony provider that delivers to a simulated handset inbox in the database, for
 * development and tests: a real adapter of the port, with receipts, failures and
 * idempotency, steered per number prefix by rules.
 *
 * Outcomes: DELIVERED (no rule) and UNDELIVERED are accepted and receipted after the delay;
 * FAILED is refused at hand-over; SENT, QUEUED and UNKNOWN are accepted and never receipted.
 */
export class SimulatorProvider implements TelephonyProvider {
  readonly name = "simulator";
  readonly channels: readonly PhoneMethod[] = [PhoneMethod.SMS, PhoneMethod.VOICE];

  private sink: ReceiptSink | null = null;
  /** Rules set through this instance apply to its next send; another instance's, within a second. */
  private readonly rules = new ShortLived<"all", SimulatorRuleRow[]>(1_000, 1);
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly listeners = new Set<HandsetListener>();

  constructor(private readonly deps: SimulatorDependencies) {}

  async start(receipts: ReceiptSink): Promise<void> {
    this.sink = receipts;
  }

  /**
   * Deletes what the handsets received before `before`: the inbox is for reading a code while
   * it is good, and would otherwise keep every number and body it was ever sent.
   */
  purgeReceivedBefore(before: Date): Promise<number> {
    return this.deps.db.purgeInBatches("ringfence:simulator-purge", "simulator_messages", `"created" < ?`, [before.getTime()]);
  }

  /** Drops receipts not yet due and waits for those being delivered. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.deliveries]);
    this.sink = null;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const rule = await this.ruleFor(message.to);
    const outcome = rule?.outcome ?? MessageStatus.DELIVERED;
    const ruleErrorCode = rule && isDeliveryErrorCode(rule.errorCode) ? rule.errorCode : null;
    if (outcome === MessageStatus.FAILED) {
      const errorCode = ruleErrorCode ?? DeliveryErrorCode.PROVIDER_UNREACHABLE;
      throw new ProviderError(
        errorCode,
        errorCode === DeliveryErrorCode.PROVIDER_UNREACHABLE,
        `simulated ${errorCode} for numbers starting ${rule?.prefix}`,
        "simulated",
      );
    }
    const receipted = outcome === MessageStatus.DELIVERED || outcome === MessageStatus.UNDELIVERED;
    const { record, stored } = await this.store(message, receipted ? MessageStatus.SENT : outcome);
    if (stored) this.tellListeners(record);
    // A repeated hand-over of the same attempt is the same message: one inbox row, one receipt.
    if (stored && receipted) {
      this.scheduleReceipt(
        {
          provider: this.name,
          providerMessageId: record.id,
          status: outcome,
          providerStatus: outcome.toLowerCase(),
          errorCode: outcome === MessageStatus.UNDELIVERED ? (ruleErrorCode ?? DeliveryErrorCode.NUMBER_INACTIVE) : null,
        },
        rule?.delayMs ?? this.deps.receiptDelayMs,
      );
    }
    return { providerMessageId: record.id, providerStatus: "accepted", senderId: this.deps.senderIds?.for(message) ?? null };
  }

  /**
   * Tells `listener` of each message the handset receives from now on, once it is stored; a
   * repeated hand-over of the same message is not told again. For a process that embeds the
   * gateway and wants its codes as they arrive rather than by reading the inbox over and over
   * (the bench hands them to its load generator, as the peer's sendOTP does). Returns the way
   * to stop listening.
   */
  onMessage(listener: HandsetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The handset inbox, newest first. */
  listMessages(options: { to?: string; first: number }): Promise<SimulatorMessageRecord[]> {
    return this.deps.db.manager.find(SimulatorMessageRecord, {
      where: options.to === undefined ? {} : { toE164: options.to },
      // Ids are time-ordered, so messages made in the same millisecond still come out newest first.
      order: { created: "DESC", id: "DESC" },
      take: options.first,
    });
  }

  /** Replaces every rule; the list's order is the order they are matched in. */
  async setRules(rules: SimulatorRule[]): Promise<void> {
    if (rules.length > MAX_RULES) throw badInput("rules", `must hold at most ${MAX_RULES} rules`);
    rules.forEach((rule, index) => {
      const field = (name: string) => `rules[${index}].${name}`;
      if (!E164_PREFIX.test(rule.prefix)) throw badInput(field("prefix"), "must be + followed by at most 15 digits");
      if (!Object.hasOwn(MessageStatus, rule.outcome)) {
        throw badInput(field("outcome"), `must be one of ${Object.keys(MessageStatus).join(", ")}`);
      }
      if (rule.errorCode != null && !isDeliveryErrorCode(rule.errorCode)) {
        throw badInput(field("errorCode"), `must be one of ${Object.values(DeliveryErrorCode).join(", ")}`);
      }
      if (rule.delayMs != null && !(Number.isInteger(rule.delayMs) && rule.delayMs >= 0 && rule.delayMs <= MAX_RULE_DELAY_MS)) {
        throw badInput(field("delayMs"), `must be an integer from 0 to ${MAX_RULE_DELAY_MS}`);
      }
    });
    await this.deps.db.transaction(async (tx) => {
      const { manager } = tx;
      // Replaced whole: two replacements at once would each insert position 0 (PostgreSQL).
      await this.deps.db.serializeOn(tx, "settings:simulator_rules");
      await manager.createQueryBuilder().delete().from(SimulatorRuleRecord).execute();
      if (!rules.length) return;
      await manager.insert(
        SimulatorRuleRecord,
        rules.map((rule, position) => ({
          position,
          prefix: rule.prefix,
          outcome: rule.outcome,
          errorCode: rule.errorCode ?? null,
          delayMs: rule.delayMs ?? null,
        })),
      );
    });
    this.rules.forget();
  }

  /** Matched on every send, read at most once a second: a few rows, as one written statement rather than a query-builder find. */
  private async ruleFor(to: string): Promise<SimulatorRuleRow | null> {
    const rules = await this.rules.get("all", () =>
      this.deps.db.manager.query('SELECT "prefix", "outcome", "error_code" AS "errorCode", "delay_ms" AS "delayMs" FROM "simulator_rules" ORDER BY "position"'),
    );
    return rules.find((rule) => to.startsWith(rule.prefix)) ?? null;
  }

  private async store(message: OutboundMessage, status: MessageStatus): Promise<{ record: SimulatorMessageRecord; stored: boolean }> {
    const { db, clock } = this.deps;
    const idempotencyKey = message.idempotencyKey;
    try {
      return await db.transaction(async ({ manager }) => {
        const existing = await db.statements.findOneBy(manager, SimulatorMessageRecord, { idempotencyKey });
        if (existing) return { record: existing, stored: false };
        const created = clock.now();
        const record = manager.create(SimulatorMessageRecord, {
          id: `sim_${uuidv7(created)}`,
          idempotencyKey,
          toE164: message.to,
          channel: message.channel,
          body: message.body,
          status,
          created,
        });
        await db.statements.insert(manager, SimulatorMessageRecord, record);
        return { record, stored: true };
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A concurrent hand-over under the same key won the insert: it is the same message.
      return { record: await db.manager.findOneByOrFail(SimulatorMessageRecord, { idempotencyKey }), stored: false };
    }
  }

  /** A listener's failure is its own: the message was delivered, and the send stands. */
  private tellListeners(record: SimulatorMessageRecord): void {
    if (!this.listeners.size) return;
    const { id, toE164, channel, body, created } = record;
    for (const listener of this.listeners) {
      try {
        listener({ id, toE164, channel, body, created });
      } catch (error) {
        this.deps.logger?.error({ err: error, messageId: id }, "a simulator handset listener failed");
      }
    }
  }

  private scheduleReceipt(receipt: DeliveryReceipt, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const delivery = this.deliverReceipt(receipt).finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    }, delayMs);
    this.timers.add(timer);
  }

  private async deliverReceipt(receipt: DeliveryReceipt): Promise<void> {
    try {
      // The handset's state and the gateway's receipt are independent writes: begun together,
      // they share one commit on SQLite.
      await Promise.all([
        this.deps.db.singleStatement(({ manager }) =>
          this.deps.db.statements.update(manager, SimulatorMessageRecord, { id: receipt.providerMessageId }, { status: receipt.status }),
        ),
        this.sink?.(receipt),
      ]);
    } catch (error) {
      this.deps.logger?.error({ err: error, providerMessageId: receipt.providerMessageId }, "simulated receipt not delivered");
    }
  }
}
