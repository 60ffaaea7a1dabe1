import { parsePhoneNumber } from "../phone/phone-number";
import type { OutboundMessage } from "./provider";

/** What the recipient sees as the sender of an SMS, per destination country. */
export interface SenderIdSettings {
  /** For countries not listed in byCountry. @default unset: each provider's own sender */
  default?: string | null;
  /** ISO 3166-1 alpha-2 country to sender id (a short code, a number, or an alphanumeric id). */
  byCountry?: Readonly<Record<string, string>>;
}

/** GSM 03.40 caps alphanumeric senders at 11 characters; numbers and short codes at 15 digits. */
const SENDER_ID = /^(?:\+?[0-9]{3,15}|[A-Za-z0-9 ._-]{1,11})$/;

/** Problems with sender id settings, each naming its path; empty when they are valid. */
export function senderIdProblems(settings: SenderIdSettings, path = "senderIds"): string[] {
  const problems: string[] = [];
  const check = (value: string, where: string) => {
    if (!SENDER_ID.test(value) || !/[A-Za-z0-9]/.test(value)) {
      problems.push(
        `${where} must be a number or short code of up to 15 digits, or an alphanumeric id of up to 11 characters (got "${value}")`,
      );
    }
  };
  if (settings.default != null) check(settings.default, `${path}.default`);
  for (const [country, senderId] of Object.entries(settings.byCountry ?? {})) {
    if (!/^[A-Z]{2}$/.test(country))
      problems.push(`${path}.byCountry keys must be ISO 3166-1 alpha-2 codes such as "US" (got "${country}")`);
    check(senderId, `${path}.byCountry.${country}`);
  }
  return problems;
}

/**
 * Picks an SMS's sender: the one the message already carries, else the destination country's,
 * else the default, else none (the provider then uses its own). Calls keep their provider's
 * caller id: an alphanumeric id or a short code cannot place a call. Adapters apply this, so
 * the dispatcher stays unaware of senders.
 */
export class SenderIds {
  constructor(private readonly settings: SenderIdSettings = {}) {
    const problems = senderIdProblems(settings);
    if (problems.length) throw new Error(problems.join("; "));
  }

  for(message: Pick<OutboundMessage, "channel" | "to" | "senderId">): string | null {
    if (message.senderId) return message.senderId;
    if (message.channel !== "SMS") return null;
    const byCountry = this.settings.byCountry ?? {};
    if (Object.keys(byCountry).length) {
      const country = countryOf(message.to);
      if (country && Object.hasOwn(byCountry, country)) return byCountry[country] ?? null;
    }
    return this.settings.default ?? null;
  }
}

/** The ISO country of an E.164 number, or null when it does not parse. */
export function countryOf(e164: string): string | null {
  return parsePhoneNumber(e164).country;
}
