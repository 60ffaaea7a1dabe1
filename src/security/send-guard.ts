import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import { SYSTEM_ACTOR, type LogService } from "../log/log.service";
import type { PhoneMethod } from "../phone/phone.enums";
import { DAY_MS, type Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { notFound, type AppError } from "../platform/errors";
import { newId } from "../platform/ids";
import type { Logger } from "../platform/logger";
import { FraudBlockRecord } from "./security-settings.entity";
import { rateLimited, type RateLimits } from "./rate-limits";
import {
  dayOf,
  MINUTE_MS,
  minuteOf,
  monthOf,
  readSendFigures,
  SEND_FIGURES,
  sendFiguresParameters,
  type SendFigures,
  type CounterAddition,
  type SendFiguresRow,
  type TrafficCounters,
} from "./traffic-counters";
import type { SecuritySettings, SecuritySettingsService } from "./security-settings";

export interface SendTarget {
  e164: string;
  country: string;
  userId: string;
  method: PhoneMethod;
  /** The estimated cost of this send, in millionths of a dollar. */
  costMicros: number;
  /** A recovery's code, which anyone who knows the login may ask for (RateLimits.consumeSend). */
  recovery?: boolean;
}

/** Whether a send may go out: `stopped` sends are recorded and failed with BLOCKED_SUSPICIOUS. */
export interface SendClearance {
  stopped: boolean;
  reason: string | null;
  /**
   * The month's spend before the UTC day `day` began, as clear() read it. Days gone by do not
   * change, so recordSend holds the monthly cap to it plus the day's total without reading it again.
   */
  spentBeforeDay?: { day: number; micros: number };
  /** For a caller whose send then fails before it is written: gives back what the limits counted. */
  refund?: () => Promise<void>;
  /**
   * The settings clear() held the send to, for recordSend to hold it to them again: it runs in
   * the send's transaction, where a read of its own would wait for a second pooled connection.
   */
  settings?: SecuritySettings;
}

export const CLEARED: SendClearance = { stopped: false, reason: null };

/** The least time between two spend cap events of one period on one instance. */
const CAP_EVENT_INTERVAL_MS = MINUTE_MS;

interface CapReached {
  period: "day" | "month";
  capUsd: number;
  /** Spent before this send, in millionths of a dollar. */
  spent: number;
  costMicros: number;
  country: string;
  now: Date;
}

/**
 * The first cap, the day's then the month's, that a send of `costMicros` would take past, given
 * what was spent before it; null when it fits under both.
 */
function capReached(
  settings: SecuritySettings,
  spentBefore: { day: number; month: number },
  send: { costMicros: number; country: string },
  now: Date,
): CapReached | null {
  for (const [capUsd, spent, period] of [
    [settings.dailySpendCapUsd, spentBefore.day, "day"],
    [settings.monthlySpendCapUsd, spentBefore.month, "month"],
  ] as const) {
    if (spent + send.costMicros > capUsd * 1_000_000) return { period, capUsd, spent, costMicros: send.costMicros, country: send.country, now };
  }
  return null;
}

/** RATE_LIMITED (limit "spend"), to retry when the day or the month starts over. */
function capRefusal({ period, now }: CapReached): AppError {
  const resetAt = period === "day" ? dayOf(now.getTime()) + DAY_MS : Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return rateLimited("spend", (resetAt - now.getTime()) / 1000, `The organisation's telephony spend cap for the ${period} is reached`);
}

/** Numbers in one range share all but their last two digits: what pumpers iterate over. */
export const rangeOf = (e164: string) => e164.slice(0, -2);

/**
 * Kept beside the blocks in fraud_blocks: an admin lifted a block on this country or range, and
 * until it lapses the rules do not block it again on the traffic that is still in their window.
 */
const LIFTED = "LIFTED";

const LIFTED_BLOCK = `SELECT 1 AS "lifted" FROM "fraud_blocks" WHERE "scope" = ? AND "key" = ? AND "rule" = '${LIFTED}' AND "until" > ? LIMIT 1`;

/**
 * The number's own block, else an active pumping block on its country or range; joined to the
 * send figures, so that everything weighed before a send is one statement.
 */
const ACTIVE_BLOCK =
  `SELECT 'NUMBER' AS "scope", "source" AS "rule", 0 AS "precedence" FROM "blocked_numbers" ` +
  `WHERE "e164" = ? AND ("expires_at" IS NULL OR "expires_at" > ?) ` +
  `UNION ALL SELECT "scope", "rule", 1 AS "precedence" FROM "fraud_blocks" ` +
  `WHERE (("scope" = 'COUNTRY' AND "key" = ? AND "until" > ?) OR ("scope" = 'RANGE' AND "key" = ? AND "until" > ?)) AND "rule" <> '${LIFTED}' ` +
  `ORDER BY "precedence" LIMIT 1`;

const FIGURES_AND_BLOCK =
  `SELECT "f".*, "b"."scope" AS "blockScope", "b"."rule" AS "blockRule" FROM (${SEND_FIGURES}) "f" LEFT JOIN (${ACTIVE_BLOCK}) "b" ON 1 = 1`;

type FiguresAndBlockRow = SendFiguresRow & { blockScope: string | null; blockRule: string | null };

/**
 * Runs before a send's transaction: velocity limits, spend caps, and the SMS pumping rules
 * (Twilio's Fraud Guard and Okta's telephony fraud guidance). A limit refuses the request
 * (RATE_LIMITED, nothing written); a block lets the request succeed but stops the message.
 * Sends are counted in the send's transaction (recordSend) and verifications in theirs
 * (recordVerified), so every check reads a few counter rows, not the traffic behind them.
 */
export class SendGuard {
  /** Per period, when its last spend cap event was written here, and the refusals since that wrote none. */
  private readonly capEvents = new Map<CapReached["period"], { at: number; refusedSince: number }>();

  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      log: LogService;
      logger: Logger;
      settings: SecuritySettingsService;
      limits: RateLimits;
      counters: TrafficCounters;
      homeCountry: string;
    },
  ) {}

  async clear(target: SendTarget): Promise<SendClearance> {
    const { db, settings: settingsService, limits, clock } = this.deps;
    const settings = await settingsService.get();
    const counted = await limits.consumeSend(settings, target);
    const refund = () => limits.refundSend(settings, counted);
    // Refused or failed from here on, the send is no send: what the windows counted goes back.
    try {
      const now = clock.now();
      const at = now.getTime();
      const windowStart = at - settings.pumpingWindowMinutes * MINUTE_MS;
      const range = rangeOf(target.e164);
      const figuresQuery = { dayStart: dayOf(at), monthStart: monthOf(at), country: target.country, windowMinute: minuteOf(windowStart), windowStart, e164: target.e164, range };
      const [row] = await db.statements.query<FiguresAndBlockRow>(db.manager, FIGURES_AND_BLOCK, [
        ...sendFiguresParameters(figuresQuery),
        // ACTIVE_BLOCK's
        target.e164,
        at,
        target.country,
        at,
        range,
        at,
      ]);
      const figures = readSendFigures(row!);
      await this.checkSpend(settings, target, figures, now);
      const spentBeforeDay = { day: dayOf(at), micros: figures.spentThisMonth - figures.spentToday };
      if (row!.blockScope !== null) {
        const reason = row!.blockScope === "NUMBER" ? `NUMBER_BLOCKED:${row!.blockRule}` : `${row!.blockScope}:${row!.blockRule}`;
        return { stopped: true, reason, spentBeforeDay, refund, settings };
      }
      return { ...((await this.detectPumping(settings, target, figures)) ?? CLEARED), spentBeforeDay, refund, settings };
    } catch (error) {
      await refund().catch(() => undefined);
      throw error;
    }
  }

  /** The fraud rules' blocks in force, newest first. */
  activeBlocks(): Promise<FraudBlockRecord[]> {
    return this.deps.db.manager
      .createQueryBuilder(FraudBlockRecord, "b")
      .where("b.until > :now AND b.rule <> :lifted", { now: this.deps.clock.now().getTime(), lifted: LIFTED })
      .orderBy("b.created", "DESC")
      .addOrderBy("b.id", "DESC")
      .getMany();
  }

  /**
   * Ends a fraud rule's block now, for an admin who judged it a false alarm. The traffic that
   * tripped it is still in the rules' window, so for that window the rules leave this country or
   * range alone (a LIFTED row). False when the block had ended already.
   *
   * Every block in force on the same country or range ends with it: sends cleared at the same
   * moment can each trip a rule before either block is committed, and lifting one of two would
   * leave the country as stopped as before.
   */
  async liftBlock(id: string, initiator: Initiator): Promise<boolean> {
    const { db, clock, log, settings } = this.deps;
    const windowMinutes = (await settings.get()).pumpingWindowMinutes;
    return db.transaction(async (tx) => {
      const block = await tx.manager.findOneBy(FraudBlockRecord, { id });
      if (!block || block.rule === LIFTED) throw notFound("Fraud block");
      const now = clock.now();
      if (block.until <= now) return false;
      const { affected: liftedBlocks } = await tx.manager
        .createQueryBuilder()
        .update(FraudBlockRecord)
        .set({ until: now })
        .where(`"scope" = :scope AND "key" = :key AND "rule" <> :lifted AND "until" > :now`, { scope: block.scope, key: block.key, lifted: LIFTED, now: now.getTime() })
        .execute();
      // The window is counted in whole minutes: it reaches back one minute more than it says.
      const until = new Date(now.getTime() + (windowMinutes + 1) * MINUTE_MS);
      await tx.manager.insert(FraudBlockRecord, { id: newId("rul"), scope: block.scope, key: block.key, rule: LIFTED, figures: { liftedBlock: id }, created: now, until });
      await log.recordChange(tx, initiator, {
        eventType: EventType.FRAUD_BLOCK_LIFT,
        displayMessage: "Lift fraud block",
        target: [{ id: block.key, type: block.scope === "COUNTRY" ? "Country" : "NumberRange" }],
        debugContext: {
          rule: block.rule,
          scope: block.scope,
          key: block.key,
          blockedUntil: block.until.toISOString(),
          rulesIdleUntil: until.toISOString(),
          liftedBlocks: liftedBlocks ?? 1,
        },
      });
      return true;
    });
  }

  async checkPublicRequest(ipAddress: string | null): Promise<void> {
    await this.deps.limits.consumePublicRequest(await this.deps.settings.get(), ipAddress);
  }

  /**
   * Counts a send that goes out in its transaction, towards the pumping rules and the spend caps.
   * One a block stopped counts towards neither: it costs nothing, and it can never be verified,
   * so counted in the rules' window it tripped the block again on the traffic it had stopped
   * (a lapsed block on a busy country renewed itself for as long as its users retried).
   *
   * clear() weighed the caps against spend already committed, so sends cleared at the same
   * moment could together pass a cap. Here the caps are held to the day's total as the addition
   * itself leaves it, the row locked until commit: a send that takes the day or the month past
   * its cap is refused with RATE_LIMITED, and rolls back whole. On PostgreSQL the addition and
   * the check are one statement that goes with the COMMIT (Transaction.commitWith); on SQLite,
   * where transactions run one at a time, they are the transaction's last write.
   */
  async recordSend(tx: Transaction, send: { e164: string; country: string; costMicros: number; clearance: SendClearance }): Promise<void> {
    if (send.clearance.stopped) return;
    const { counters, settings } = this.deps;
    const current = send.clearance.settings ?? (await settings.get());
    const now = this.deps.clock.now();
    const day = dayOf(now.getTime());
    const costMicros = send.costMicros;
    const sent = { e164: send.e164, range: rangeOf(send.e164), epochMs: now.getTime() };
    const additions: CounterAddition[] = [
      { kind: "SENDS", key: send.country, bucket: minuteOf(now.getTime()), value: 1 },
      { kind: "SPEND", key: "*", bucket: day, value: costMicros },
    ];
    const spentBeforeToday = async () => {
      const known = send.clearance.spentBeforeDay;
      return known?.day === day ? known.micros : counters.spentBetween(tx, monthOf(now.getTime()), day);
    };
    if (tx.commitWith) {
      // PostgreSQL: every send locks the day's SPEND row and its country's minute. Written with
      // the COMMIT, the counters stay locked for the commit only; added in the transaction, they
      // stayed locked for a round trip through the event loop, and under load every send queued
      // on them (pg_stat_statements: 9.7 ms of waiting per upsert at 16 passcode pairs in flight).
      const beforeToday = costMicros > 0 ? await spentBeforeToday() : 0;
      const caps = { day: Math.floor(current.dailySpendCapUsd * 1_000_000), month: Math.floor(current.monthlySpendCapUsd * 1_000_000) - beforeToday };
      tx.commitWith({
        ...counters.noteSendAndAddWithinCaps(sent, additions, caps),
        refusal: (error) => {
          const code = (error as { code?: unknown }).code;
          if (code !== "RF001" && code !== "RF002") return error;
          const spentToday = Number((error as { detail?: unknown }).detail);
          const period = code === "RF001" ? "day" : "month";
          return this.refuseWithinSend({
            period,
            capUsd: period === "day" ? current.dailySpendCapUsd : current.monthlySpendCapUsd,
            spent: (period === "day" ? 0 : beforeToday) + spentToday - costMicros,
            costMicros,
            country: send.country,
            now,
          });
        },
      });
      return;
    }
    const totals = await counters.noteSendAndAdd(tx, sent, ...additions);
    const spentToday = totals.find((total) => total.kind === "SPEND")?.value;
    if (spentToday === undefined) return;
    const beforeToday = await spentBeforeToday();
    const spentBefore = { day: spentToday - costMicros, month: beforeToday + spentToday - costMicros };
    const reached = capReached(current, spentBefore, { costMicros, country: send.country }, now);
    if (reached) throw this.refuseWithinSend(reached);
  }

  /**
   * Counts a verified challenge towards its country's verify-to-send ratio, in the
   * verification's transaction. Every verification in a country within a minute adds to one
   * row. On PostgreSQL the addition goes with the COMMIT (Transaction.commitWith): sent on its
   * own inside the transaction, the row stayed locked for a round trip through the event loop
   * and verifications queued on it (8.7 ms of waiting per upsert in pg_stat_statements, at 16
   * passcode pairs in flight); sent after the commit, it cost a statement and a commit of its own,
   * and a crash in between lost the count.
   */
  async recordVerified(tx: Transaction, country: string): Promise<void> {
    const { counters, clock } = this.deps;
    const verified = { kind: "VERIFIED", key: country, bucket: minuteOf(clock.now().getTime()), value: 1 } as const;
    const later = tx.commitWith ? counters.later(verified) : null;
    if (tx.commitWith && later) tx.commitWith(later);
    else await counters.add(tx, verified);
  }

  /** Drops counters no window or cap can reach any more. */
  async purgeCounters(): Promise<void> {
    const now = this.deps.clock.now();
    const monthStart = monthOf(now.getTime());
    const longestWindow = (await this.deps.settings.get()).pumpingWindowMinutes * MINUTE_MS;
    // The pumping window may be changed to its maximum at any time: keep a day of minutes at least.
    const windowStart = now.getTime() - Math.max(longestWindow, 86_400_000);
    await this.deps.counters.purgeBefore(Math.min(monthStart, windowStart), windowStart);
  }

  /**
   * Drops the fraud blocks and lifts that have lapsed: no send reads them again, and the System
   * Log keeps each block's and lift's event. Returns how many went.
   */
  async purgeLapsedBlocks(): Promise<number> {
    const { db, clock } = this.deps;
    return db.transaction(async (tx) => {
      if (!(await db.tryScheduleLock(tx, "ringfence:fraud-block-purge"))) return 0;
      return db.statements.write(tx.manager, `DELETE FROM "fraud_blocks" WHERE "until" <= ?`, [clock.now().getTime()]);
    });
  }

  private async checkSpend(settings: SecuritySettings, target: SendTarget, figures: SendFigures, now: Date): Promise<void> {
    const reached = capReached(settings, { day: figures.spentToday, month: figures.spentThisMonth }, target, now);
    if (!reached) return;
    // The refusal is the answer, whether or not its event could be written: a recovery must tell
    // it from a failure, or a real login would answer apart from a decoy.
    await this.recordCapReached(reached).catch((error: unknown) => this.deps.logger.error({ err: error }, "spend cap event not recorded"));
    throw capRefusal(reached);
  }

  /**
   * The cap's event, at most once a minute for each period on this instance. A reached cap refuses
   * every send as fast as clients ask, and gives each refusal back to the windows that would
   * slow them: an event for each was a write for each, at the caller's pace. The next event
   * written counts the refusals that wrote none (refusedSinceLastEvent).
   */
  private recordCapReached(reached: CapReached): Promise<unknown> {
    const { period, capUsd, spent, costMicros, country, now } = reached;
    const last = this.capEvents.get(period);
    const at = now.getTime();
    if (last && at >= last.at && at - last.at < CAP_EVENT_INTERVAL_MS) {
      last.refusedSince += 1;
      return Promise.resolve();
    }
    this.capEvents.set(period, { at, refusedSince: 0 });
    const refusedSinceLastEvent = last?.refusedSince ?? 0;
    return this.deps.db.transaction((tx) =>
      this.deps.log.record(tx, {
        eventType: EventType.SPEND_CAP_REACHED,
        displayMessage: `Telephony spend cap for the ${period} reached; sends stopped`,
        severity: "WARN",
        actor: SYSTEM_ACTOR,
        outcome: { result: "DENY", reason: `SPEND_CAP_${period.toUpperCase()}` },
        debugContext: {
          period,
          capUsd,
          spentUsd: spent / 1_000_000,
          attemptedCostUsd: costMicros / 1_000_000,
          country,
          ...(refusedSinceLastEvent ? { refusedSinceLastEvent } : {}),
        },
      }),
    );
  }

  /**
   * Refused inside the send's transaction: the event cannot be written in it, for the refusal
   * rolls it back. It is written in a transaction of its own, queued behind this one.
   */
  private refuseWithinSend(reached: CapReached): AppError {
    this.recordCapReached(reached).catch((error: unknown) => this.deps.logger.error({ err: error }, "the spend cap event could not be written"));
    return capRefusal(reached);
  }

  /**
   * The window is counted in whole minutes, so it reaches back between `pumpingWindowMinutes`
   * and one minute more.
   */
  private async detectPumping(settings: SecuritySettings, target: SendTarget, figures: SendFigures): Promise<SendClearance | null> {
    // A country-wide block never falls on the home country: it would stop every user's codes, a
    // denial of service anyone able to trigger sends could cause. The range rule, the rate limits
    // and the spend caps still hold there.
    const foreign = target.country !== this.deps.homeCountry;
    const sends = figures.sends + 1;
    if (foreign && sends >= settings.pumpingCountryBurst) {
      const blocked = await this.block("COUNTRY", target.country, "COUNTRY_BURST", { country: target.country, sends, windowMinutes: settings.pumpingWindowMinutes }, settings);
      if (blocked) return blocked;
    }
    const range = rangeOf(target.e164);
    // This send's number counts too.
    const distinctNumbers = figures.rangeNumbers + (figures.rangeIncludesThis ? 0 : 1);
    if (distinctNumbers >= settings.pumpingRangeBurst) {
      const blocked = await this.block("RANGE", range, "SEQUENTIAL_NUMBERS", { range, distinctNumbers, windowMinutes: settings.pumpingWindowMinutes }, settings);
      if (blocked) return blocked;
    }
    if (foreign && sends >= settings.pumpingRatioMinimumSends) {
      const percent = (figures.verified / sends) * 100;
      if (percent < settings.pumpingMinimumVerifyPercent) {
        const blocked = await this.block("COUNTRY", target.country, "LOW_VERIFY_RATIO", { country: target.country, sends, verified: figures.verified, percent: Math.round(percent) }, settings);
        if (blocked) return blocked;
      }
    }
    return null;
  }

  private async block(
    scope: "COUNTRY" | "RANGE",
    key: string,
    rule: string,
    figures: Record<string, number | string>,
    settings: SecuritySettings,
  ): Promise<SendClearance | null> {
    const { db, clock, log } = this.deps;
    const now = clock.now();
    // Read only when a rule trips, which is rare: the hot path never pays for lifted blocks.
    const [lifted] = await db.statements.query(db.manager, LIFTED_BLOCK, [scope, key, now.getTime()]);
    if (lifted) return null;
    const until = new Date(now.getTime() + settings.fraudBlockMinutes * 60_000);
    await db.transaction(async (tx) => {
      await tx.manager.insert(FraudBlockRecord, { id: newId("rul"), scope, key, rule, figures, created: now, until });
      await log.record(tx, {
        eventType: EventType.SMS_FRAUD_BLOCKED,
        displayMessage: `SMS pumping suspected: sends to ${scope === "COUNTRY" ? `country ${key}` : `numbers ${key}xx`} blocked`,
        severity: "WARN",
        actor: SYSTEM_ACTOR,
        target: [{ id: key, type: scope === "COUNTRY" ? "Country" : "NumberRange" }],
        outcome: { result: "DENY", reason: rule },
        debugContext: { rule, scope, key, until: until.toISOString(), ...figures },
      });
    });
    return { stopped: true, reason: `${scope}:${rule}` };
  }
}
