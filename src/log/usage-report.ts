import type { ChallengePurpose } from "../phone/phone.enums";
import { PhoneMethod } from "../phone/phone.enums";
import type { Database } from "../platform/database";
import { badInput } from "../platform/errors";
import { Message } from "../telephony/message.entity";
import type { UsagePurposeCounts, UsageReport, UsageRow } from "./log.types";

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const MAX_MONTHS = 36;
const CHANNELS: readonly PhoneMethod[] = [PhoneMethod.SMS, PhoneMethod.VOICE];

const PURPOSE_FIELD: Record<ChallengePurpose, keyof UsagePurposeCounts> = {
  PHONE_VERIFICATION: "phoneVerification",
  FACTOR_VERIFY: "factorVerify",
  PASSWORD_RESET: "passwordReset",
  ACCOUNT_UNLOCK: "accountUnlock",
};

interface UsageGroup {
  month: string;
  channel: PhoneMethod;
  international: boolean | number | string;
  purpose: ChallengePurpose;
  not_sent: boolean | number | string;
  messages: number | string;
  segments: number | string | null;
  cost_micros: number | string | null;
}

/**
 * SMS and voice usage per month, read from the outbox itself (`messages`) rather than from a
 * counter kept beside it, so the report cannot drift from what was sent.
 *
 * What counts: every message the gateway queued and offered to a provider, whatever became of
 * it. A message that ended UNDELIVERED, UNKNOWN or even FAILED was still handed to, or at least
 * offered to, a provider that may bill for it, and the report is for spotting abuse and cost as
 * much as for reconciling invoices; `estimatedCost` is the estimate made when each was queued.
 * A message FAILED with no attempt was never offered (the fraud rules stopped it, or no
 * provider could be tried): it costs nothing and is counted apart, as `notSent`. Months
 * are UTC calendar months of `messages.created`; domestic and international follow
 * `messages.international`, which was decided against ORG_HOME_COUNTRY when each was queued.
 */
export class UsageReportService {
  constructor(private readonly db: Database) {}

  /** One row per month from `from` to `to` (YYYY-MM, inclusive) and channel, zeros included. */
  async report(from: string, to: string): Promise<UsageReport> {
    const first = parseMonth(from, "from");
    const last = parseMonth(to, "to");
    const span = last - first + 1;
    if (span < 1) throw badInput("from", "must not be after to");
    if (span > MAX_MONTHS) throw badInput("to", `a report spans at most ${MAX_MONTHS} months`);

    const rows = new Map<string, UsageRow>();
    for (let month = first; month <= last; month++) {
      for (const channel of CHANNELS) rows.set(`${formatMonth(month)}:${channel}`, emptyRow(formatMonth(month), channel));
    }

    for (const group of await this.groups(monthStart(first), monthStart(last + 1))) {
      const row = rows.get(`${group.month}:${group.channel}`);
      if (!row) continue;
      const messages = Number(group.messages);
      if (isTrue(group.not_sent)) {
        row.notSent += messages;
        continue;
      }
      if (isTrue(group.international)) row.international += messages;
      else row.domestic += messages;
      const purpose = PURPOSE_FIELD[group.purpose];
      if (purpose) row.byPurpose[purpose] += messages;
      row.segments += Number(group.segments ?? 0);
      row.estimatedCost += Number(group.cost_micros ?? 0);
    }
    // Summed in whole micro-dollars above, converted once here, so no rounding error builds up.
    for (const row of rows.values()) row.estimatedCost /= 1_000_000;
    return { rows: [...rows.values()] };
  }

  private groups(start: number, end: number): Promise<UsageGroup[]> {
    const month =
      this.db.engine === "postgres"
        ? "to_char(to_timestamp(m.created / 1000) AT TIME ZONE 'UTC', 'YYYY-MM')"
        : "strftime('%Y-%m', m.created / 1000, 'unixepoch')";
    // Offered to a provider is having an attempt: a FAILED message may have none and still name no
    // provider (every circuit open on its last round) after an earlier provider took it.
    const notSent = `CASE WHEN m.status = 'FAILED' AND NOT EXISTS (SELECT 1 FROM message_attempts a WHERE a.message_id = m.id) THEN 1 ELSE 0 END`;
    return this.db.manager
      .createQueryBuilder(Message, "m")
      .select(month, "month")
      .addSelect("m.channel", "channel")
      .addSelect("m.international", "international")
      .addSelect("m.purpose", "purpose")
      .addSelect(notSent, "not_sent")
      .addSelect("COUNT(*)", "messages")
      .addSelect("SUM(m.segments)", "segments")
      .addSelect("SUM(m.estimated_cost_micros)", "cost_micros")
      .where("m.created >= :start AND m.created < :end", { start, end })
      .groupBy(month)
      .addGroupBy("m.channel")
      .addGroupBy("m.international")
      .addGroupBy("m.purpose")
      .addGroupBy(notSent)
      .getRawMany<UsageGroup>();
  }
}

/** Months counted from year 0, so that a span is a subtraction. */
function parseMonth(text: string, field: string): number {
  const match = MONTH.exec(text);
  if (!match) throw badInput(field, "must be a month written YYYY-MM");
  return Number(match[1]) * 12 + Number(match[2]) - 1;
}

function formatMonth(month: number): string {
  return `${String(Math.floor(month / 12)).padStart(4, "0")}-${String((month % 12) + 1).padStart(2, "0")}`;
}

/** Epoch ms of the first instant of the month, UTC. */
function monthStart(month: number): number {
  const instant = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  instant.setUTCFullYear(Math.floor(month / 12), month % 12, 1);
  return instant.getTime();
}

function emptyRow(month: string, channel: PhoneMethod): UsageRow {
  return {
    month,
    channel,
    domestic: 0,
    international: 0,
    byPurpose: { phoneVerification: 0, factorVerify: 0, passwordReset: 0, accountUnlock: 0 },
    segments: 0,
    estimatedCost: 0,
    notSent: 0,
  };
}

/** SQLite returns booleans as 0/1, PostgreSQL as true/false. */
function isTrue(value: boolean | number | string): boolean {
  return value === true || value === 1 || value === "1" || value === "t" || value === "true";
}
