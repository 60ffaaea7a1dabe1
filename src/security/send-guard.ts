import { EventType } from "../log/event-types";
import { SYSTEM_ACTOR, type LogService } from "../log/log.service";
import type { PhoneMethod } from "../phone/phone.enums";
import { BlockedNumber } from "../phone/phone-authenticator.entity";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { newId } from "../platform/ids";
import { FraudBlockRecord } from "./security-settings.entity";
import { rateLimited, type RateLimits } from "./rate-limits";
import { dayOf, MINUTE_MS, minuteOf, type TrafficCounters } from "./traffic-counters";
import type { SecuritySettings, SecuritySettingsService } from "./security-settings";

export interface SendTarget {
  e164: string;
  country: string;
  userId: string;
  method: PhoneMethod;
  /** The estimated cost of this send, in millionths of a dollar. */
  costMicros: number;
}

/** Whether a send may go out: `stopped` sends are recorded and failed with BLOCKED_SUSPICIOUS. */
export interface SendClearance {
  stopped: boolean;
  reason: string | null;
}

export const CLEARED: SendClearance = { stopped: false, reason: null };

/** Numbers in one range share all but their last two digits: what pumpers iterate over. */
export const rangeOf = (e164: string) => e164.slice(0, -2);

/** Checked before every send: written once rather than built by the query builder each time. */
const ACTIVE_FRAUD_BLOCK =
  `SELECT "scope", "rule" FROM "fraud_blocks" WHERE ("scope" = 'COUNTRY' AND "key" = ? AND "until" > ?) ` +
  `OR ("scope" = 'RANGE' AND "key" = ? AND "until" > ?) LIMIT 1`;

/**
 * Runs before a send's transaction: velocity limits, spend caps, and the SMS pumping rules
 * (Twilio's Fraud Guard and Okta's telephony fraud guidance). A limit refuses the request
 * (RATE_LIMITED, nothing written); a block lets the request succeed but stops the message.
 * Sends and verifications are counted in the send's transaction (recordSend, recordVerified),
 * so every check reads a few counter rows, not the traffic behind them.
 */
export class SendGuard {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      log: LogService;
      settings: SecuritySettingsService;
      limits: RateLimits;
      counters: TrafficCounters;
      homeCountry: string;
    },
  ) {}

  async clear(target: SendTarget): Promise<SendClearance> {
    const settings = await this.deps.settings.get();
    await this.deps.limits.consumeSend(settings, target);
    await this.checkSpend(settings, target);
    const existing = await this.blockOf(target);
    if (existing.stopped) return existing;
    return (await this.detectPumping(settings, target)) ?? CLEARED;
  }

  async checkPublicRequest(ipAddress: string | null): Promise<void> {
    await this.deps.limits.consumePublicRequest(await this.deps.settings.get(), ipAddress);
  }

  /**
   * Counts a send in its transaction: every send towards the pumping rules, and a send that
   * goes out towards the spend caps (a stopped one costs nothing). Make it the last write.
   */
  async recordSend(tx: Transaction, send: { e164: string; country: string; costMicros: number; stopped: boolean }): Promise<void> {
    const now = this.deps.clock.now().getTime();
    await this.deps.counters.noteSendTo(tx, send.e164, rangeOf(send.e164), now);
    await this.deps.counters.add(tx, "SENDS", send.country, minuteOf(now), 1);
    if (!send.stopped) await this.deps.counters.add(tx, "SPEND", "*", dayOf(now), send.costMicros);
  }

  /** Counts a verified challenge towards its country's verify-to-send ratio. */
  async recordVerified(tx: Transaction, country: string): Promise<void> {
    await this.deps.counters.add(tx, "VERIFIED", country, minuteOf(this.deps.clock.now().getTime()), 1);
  }

  /** Drops counters no window or cap can reach any more. */
  async purgeCounters(): Promise<void> {
    const now = this.deps.clock.now();
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const longestWindow = (await this.deps.settings.get()).pumpingWindowMinutes * MINUTE_MS;
    // The pumping window may be changed to its maximum at any time: keep a day of minutes at least.
    const windowStart = now.getTime() - Math.max(longestWindow, 86_400_000);
    await this.deps.counters.purgeBefore(Math.min(monthStart, windowStart), windowStart);
  }

  /** Is the number, its range or its country blocked right now? */
  async blockOf(target: Pick<SendTarget, "e164" | "country">): Promise<SendClearance> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const number = await db.statements.findOneBy(db.manager, BlockedNumber, { e164: target.e164 });
    if (number && (!number.expiresAt || number.expiresAt > now)) return { stopped: true, reason: `NUMBER_BLOCKED:${number.source}` };
    const at = now.getTime();
    const [fraud]: Array<Pick<FraudBlockRecord, "scope" | "rule">> = await db.statements.query(db.manager, ACTIVE_FRAUD_BLOCK, [
      target.country,
      at,
      rangeOf(target.e164),
      at,
    ]);
    return fraud ? { stopped: true, reason: `${fraud.scope}:${fraud.rule}` } : { stopped: false, reason: null };
  }

  private async checkSpend(settings: SecuritySettings, target: SendTarget): Promise<void> {
    const { db, clock, log, counters } = this.deps;
    const now = clock.now();
    const dayStart = dayOf(now.getTime());
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    for (const [cap, since, period] of [
      [settings.dailySpendCapUsd, dayStart, "day"],
      [settings.monthlySpendCapUsd, monthStart, "month"],
    ] as const) {
      const capMicros = cap * 1_000_000;
      const spent = await counters.sumSince("SPEND", "*", since);
      if (spent + target.costMicros > capMicros) {
        await db.transaction((tx) =>
          log.record(tx, {
            eventType: EventType.SPEND_CAP_REACHED,
            displayMessage: `Telephony spend cap for the ${period} reached; sends stopped`,
            severity: "WARN",
            actor: SYSTEM_ACTOR,
            outcome: { result: "DENY", reason: `SPEND_CAP_${period.toUpperCase()}` },
            debugContext: { period, capUsd: cap, spentUsd: spent / 1_000_000, attemptedCostUsd: target.costMicros / 1_000_000, country: target.country },
          }),
        );
        const resetAt = period === "day" ? dayStart + 86_400_000 : Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
        throw rateLimited("spend", (resetAt - now.getTime()) / 1000, `The organisation's telephony spend cap for the ${period} is reached`);
      }
    }
  }

  /**
   * The window is counted in whole minutes, so it reaches back between `pumpingWindowMinutes`
   * and one minute more.
   */
  private async detectPumping(settings: SecuritySettings, target: SendTarget): Promise<SendClearance | null> {
    const { clock, homeCountry, counters } = this.deps;
    const since = clock.now().getTime() - settings.pumpingWindowMinutes * MINUTE_MS;
    const sends = (await counters.sumSince("SENDS", target.country, minuteOf(since))) + 1;
    if (target.country !== homeCountry && sends >= settings.pumpingCountryBurst) {
      return this.block("COUNTRY", target.country, "COUNTRY_BURST", { country: target.country, sends, windowMinutes: settings.pumpingWindowMinutes }, settings);
    }
    const range = rangeOf(target.e164);
    const distinctNumbers = await this.distinctNumbersInRange(target.e164, since);
    if (distinctNumbers >= settings.pumpingRangeBurst) {
      return this.block("RANGE", range, "SEQUENTIAL_NUMBERS", { range, distinctNumbers, windowMinutes: settings.pumpingWindowMinutes }, settings);
    }
    if (sends >= settings.pumpingRatioMinimumSends) {
      const verified = await counters.sumSince("VERIFIED", target.country, minuteOf(since));
      const percent = (verified / sends) * 100;
      if (percent < settings.pumpingMinimumVerifyPercent) {
        return this.block("COUNTRY", target.country, "LOW_VERIFY_RATIO", { country: target.country, sends, verified, percent: Math.round(percent) }, settings);
      }
    }
    return null;
  }

  /**
   * Distinct numbers sent to since `since` in the range of `e164` (same length, same digits
   * but the last two), this one included: an index range over the range's recent numbers.
   */
  private async distinctNumbersInRange(e164: string, since: number): Promise<number> {
    const { numbers, includes } = await this.deps.counters.numbersSentInRange(rangeOf(e164), e164, since);
    return numbers + (includes ? 0 : 1);
  }

  private async block(
    scope: "COUNTRY" | "RANGE",
    key: string,
    rule: string,
    figures: Record<string, number | string>,
    settings: SecuritySettings,
  ): Promise<SendClearance> {
    const { db, clock, log } = this.deps;
    const now = clock.now();
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
