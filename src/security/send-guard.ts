import { Between, In, MoreThan, MoreThanOrEqual } from "typeorm";
import { EventType } from "../log/event-types";
import { SYSTEM_ACTOR, type LogService } from "../log/log.service";
import { Challenge } from "../phone/challenge.entity";
import type { PhoneMethod } from "../phone/phone.enums";
import { BlockedNumber } from "../phone/phone-authenticator.entity";
import type { Clock } from "../platform/clock";
import type { Database } from "../platform/database";
import { newId } from "../platform/ids";
import { Message } from "../telephony/message.entity";
import { FraudBlockRecord } from "./security-settings.entity";
import { rateLimited, type RateLimits } from "./rate-limits";
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

/**
 * Runs before a send's transaction: velocity limits, spend caps, and the SMS pumping rules
 * (Twilio's Fraud Guard and Okta's telephony fraud guidance). A limit refuses the request
 * (RATE_LIMITED, nothing written); a block lets the request succeed but stops the message.
 */
export class SendGuard {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      log: LogService;
      settings: SecuritySettingsService;
      limits: RateLimits;
      homeCountry: string;
    },
  ) {}

  async clear(target: SendTarget): Promise<SendClearance> {
    const settings = await this.deps.settings.get();
    await this.deps.limits.consumeSend(settings, target);
    await this.checkSpend(settings, target);
    await this.detectPumping(settings, target);
    return this.blockOf(target);
  }

  async checkPublicRequest(ipAddress: string | null): Promise<void> {
    await this.deps.limits.consumePublicRequest(await this.deps.settings.get(), ipAddress);
  }

  /** Is the number, its range or its country blocked right now? */
  async blockOf(target: Pick<SendTarget, "e164" | "country">): Promise<SendClearance> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const number = await db.manager.findOneBy(BlockedNumber, { e164: target.e164 });
    if (number && (!number.expiresAt || number.expiresAt > now)) return { stopped: true, reason: `NUMBER_BLOCKED:${number.source}` };
    const fraud = await db.manager.findOne(FraudBlockRecord, {
      where: [
        { scope: "COUNTRY", key: target.country, until: MoreThan(now) },
        { scope: "RANGE", key: rangeOf(target.e164), until: MoreThan(now) },
      ],
    });
    return fraud ? { stopped: true, reason: `${fraud.scope}:${fraud.rule}` } : { stopped: false, reason: null };
  }

  private async checkSpend(settings: SecuritySettings, target: SendTarget): Promise<void> {
    const { db, clock, log } = this.deps;
    const now = clock.now();
    const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const spentSince = async (since: number) => {
      const row = await db.manager
        .createQueryBuilder(Message, "m")
        .select("COALESCE(SUM(m.estimated_cost_micros), 0)", "total")
        .where("m.created >= :since", { since })
        .andWhere("(m.error_code IS NULL OR m.error_code <> 'BLOCKED_SUSPICIOUS')")
        .getRawOne<{ total: string | number }>();
      return Number(row?.total ?? 0);
    };
    for (const [cap, since, period] of [
      [settings.dailySpendCapUsd, dayStart, "day"],
      [settings.monthlySpendCapUsd, monthStart, "month"],
    ] as const) {
      const capMicros = cap * 1_000_000;
      const spent = await spentSince(since);
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

  private async detectPumping(settings: SecuritySettings, target: SendTarget): Promise<void> {
    const { db, clock, homeCountry } = this.deps;
    const now = clock.now();
    const since = new Date(now.getTime() - settings.pumpingWindowMinutes * 60_000);
    const existing = await this.blockOf(target);
    if (existing.stopped) return;
    const window = await db.manager.find(Message, {
      where: { country: target.country, created: Between(since, now) },
      select: { id: true, toE164: true, challengeId: true },
    });
    const sends = window.length + 1;
    if (target.country !== homeCountry && sends >= settings.pumpingCountryBurst) {
      return this.block("COUNTRY", target.country, "COUNTRY_BURST", { country: target.country, sends, windowMinutes: settings.pumpingWindowMinutes }, settings);
    }
    const range = rangeOf(target.e164);
    const numbersInRange = new Set([...window.map((m) => m.toE164).filter((to) => rangeOf(to) === range), target.e164]);
    if (numbersInRange.size >= settings.pumpingRangeBurst) {
      return this.block("RANGE", range, "SEQUENTIAL_NUMBERS", { range, distinctNumbers: numbersInRange.size, windowMinutes: settings.pumpingWindowMinutes }, settings);
    }
    if (sends >= settings.pumpingRatioMinimumSends) {
      const challengeIds = [...new Set(window.map((m) => m.challengeId).filter((id): id is string => !!id))];
      const verified = challengeIds.length
        ? await db.manager.count(Challenge, { where: { id: In(challengeIds), status: "VERIFIED", verifiedAt: MoreThanOrEqual(since) } })
        : 0;
      const percent = (verified / sends) * 100;
      if (percent < settings.pumpingMinimumVerifyPercent) {
        return this.block("COUNTRY", target.country, "LOW_VERIFY_RATIO", { country: target.country, sends, verified, percent: Math.round(percent) }, settings);
      }
    }
  }

  private async block(scope: "COUNTRY" | "RANGE", key: string, rule: string, figures: Record<string, number | string>, settings: SecuritySettings): Promise<void> {
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
  }
}
