import { changedSettings } from "../log/changes";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService, LogTarget } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database } from "../platform/database";
import { AppError, badInput, ErrorCode } from "../platform/errors";
import { keysetConnection, pageSize } from "../platform/pagination";
import { ShortLived } from "../platform/short-lived";
import { allCountries, countryEntry, effectiveCountrySettings, MAX_COUNTRY_COST_USD, type CountryEntry, type CountryOverride, type CountrySettings } from "./country-table";
import { isSupportedCountry } from "libphonenumber-js/max";
import { BlockedNumber, CountryOverrideRecord } from "./phone-authenticator.entity";
import type { PhoneAuthenticatorService } from "./phone-authenticator.service";
import { assessPhoneNumber, parsePhoneNumber, phoneNumberError, rejectionForMethod, type ParsedPhoneNumber } from "./phone-number";
import type { PhoneMethod, PhoneNumberType, PhoneRejection } from "./phone.enums";
import type { BlockedPhoneNumberConnection } from "./phone.types";

export interface PhoneNumberCheckResult {
  input: string;
  e164: string | null;
  valid: boolean;
  type: PhoneNumberType;
  country: string | null;
  methods: PhoneMethod[];
  rejection: PhoneRejection | null;
  smsCostPerSegment: number | null;
  voiceCostPerMinute: number | null;
}

/** A country as an admin sees it: its effective settings, and whether an override of theirs applies. */
export interface CountryView extends CountrySettings {
  callingCode: string;
  overridden: boolean;
}

/** An admin's change to a country: undefined keeps what is set, null goes back to the shipped value. */
export interface CountryChanges {
  smsEnabled?: boolean | null;
  voiceEnabled?: boolean | null;
  smsCostPerSegment?: number | null;
  voiceCostPerMinute?: number | null;
}

export interface EnrollableNumber {
  parsed: ParsedPhoneNumber & { e164: string; country: string };
  country: CountrySettings;
}

export class PhoneNumberService {
  /** Country overrides are read on every send and edited in the database by hand: seen within a second. */
  private readonly overrides = new ShortLived<string, CountryOverrideRecord | null>(1_000, 300);

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly authenticator: PhoneAuthenticatorService,
    private readonly log: LogService,
  ) {}

  async check(input: string, defaultCountry?: string | null): Promise<PhoneNumberCheckResult> {
    const parsed = parsePhoneNumber(input, normaliseCountry(defaultCountry));
    const [country, blocked, settings] = await Promise.all([
      parsed.country ? this.countrySettings(parsed.country) : undefined,
      parsed.e164 ? this.isBlocked(parsed.e164) : false,
      this.authenticator.get(),
    ]);
    const assessment = assessPhoneNumber(parsed, {
      country,
      blocked: blocked !== null && blocked !== false,
      allowVoip: settings.allowVoip,
      authenticatorMethods: settings.methodList,
    });
    return { ...parsed, ...assessment };
  }

  /**
   * The number, normalised, if it may be enrolled or messaged by `method`; otherwise the contract's
   * error. A block's `reason` is its source (ADMIN), and the admin's own note only for `forAdmin`:
   * the note is read where blockedPhoneNumbers is, not by the users who meet the block.
   */
  async requireReachable(input: string, defaultCountry: string | null | undefined, method: PhoneMethod, { forAdmin = false } = {}): Promise<EnrollableNumber> {
    const parsed = parsePhoneNumber(input, normaliseCountry(defaultCountry, "input.defaultCountry"));
    if (!parsed.valid || !parsed.e164) throw phoneNumberError(parsed, "INVALID", method);
    const [block, country, settings] = await Promise.all([
      this.isBlocked(parsed.e164),
      parsed.country ? this.countrySettings(parsed.country) : undefined,
      this.authenticator.get(),
    ]);
    // In validatePhoneNumber's order (assessPhoneNumber): a costly number type or VoIP first, then the block list.
    const rejection = rejectionUnlessBlocked(parsed, method, { country, block, allowVoip: settings.allowVoip, forAdmin });
    if (rejection || !country || !parsed.country) throw phoneNumberError(parsed, rejection ?? "UNSUPPORTED_COUNTRY", method);
    return { parsed: parsed as EnrollableNumber["parsed"], country };
  }

  async countrySettings(code: string): Promise<CountrySettings | undefined> {
    const override = await this.overrides.get(code, () => this.db.manager.findOneBy(CountryOverrideRecord, { code }));
    return effectiveCountrySettings(code, override && toOverride(override));
  }

  /** Every country of the table, by code; `enabled` keeps those where some method is (or is not) on. */
  async countries(enabled?: boolean | null): Promise<CountryView[]> {
    const overrides = new Map((await this.db.manager.find(CountryOverrideRecord)).map((record) => [record.code, record]));
    const views = allCountries().map((entry) => this.view(entry, overrides.get(entry.code) ?? null));
    return enabled == null ? views : views.filter((country) => (country.smsEnabled || country.voiceEnabled) === enabled);
  }

  async country(code: string): Promise<CountryView> {
    const entry = this.requireKnownCountry(code);
    return this.view(entry, await this.db.manager.findOneBy(CountryOverrideRecord, { code: entry.code }));
  }

  /**
   * Switches a country's methods on or off and sets its estimated costs, for every send from
   * now on (another instance sees it within a second). A method is switched on only where the
   * table offers it; with nothing left overridden, the country is back to its shipped values.
   */
  async updateCountry(code: string, changes: CountryChanges, initiator: Initiator): Promise<CountryView> {
    const entry = this.requireKnownCountry(code);
    const known = entry.code;
    if (changes.smsEnabled === true && !entry.smsOffered) throw badInput("input.smsEnabled", `SMS is not offered to ${entry.name}`);
    if (changes.voiceEnabled === true && !entry.voiceOffered) throw badInput("input.voiceEnabled", `Voice calls are not offered to ${entry.name}`);
    const micros = (field: "smsCostPerSegment" | "voiceCostPerMinute"): number | null | undefined => {
      const value = changes[field];
      if (value == null) return value;
      if (!Number.isFinite(value) || value < 0 || value > MAX_COUNTRY_COST_USD) {
        throw badInput(`input.${field}`, `must be a cost in USD from 0 to ${MAX_COUNTRY_COST_USD}`);
      }
      return Math.round(value * 1_000_000);
    };
    const smsCostMicros = micros("smsCostPerSegment");
    const voiceCostMicros = micros("voiceCostPerMinute");
    const record = await this.db
      .transaction(async (tx) => {
        const { manager } = tx;
        await this.db.serializeOn(tx, `settings:country:${known}`);
        const current = await manager.findOneBy(CountryOverrideRecord, { code: known });
        const next = manager.create(CountryOverrideRecord, {
          code: known,
          smsEnabled: changes.smsEnabled === undefined ? (current?.smsEnabled ?? null) : changes.smsEnabled,
          voiceEnabled: changes.voiceEnabled === undefined ? (current?.voiceEnabled ?? null) : changes.voiceEnabled,
          smsCostMicros: smsCostMicros === undefined ? (current?.smsCostMicros ?? null) : smsCostMicros,
          voiceCostMicros: voiceCostMicros === undefined ? (current?.voiceCostMicros ?? null) : voiceCostMicros,
          updated: this.clock.now(),
        });
        const overridesNothing = [next.smsEnabled, next.voiceEnabled, next.smsCostMicros, next.voiceCostMicros].every((value) => value === null);
        const changed = changedSettings(overrideValues(current), overrideValues(next), ["smsEnabled", "voiceEnabled", "smsCostPerSegment", "voiceCostPerMinute"]);
        if (!changed) return current;
        if (overridesNothing) await manager.delete(CountryOverrideRecord, { code: known });
        else await manager.save(CountryOverrideRecord, next);
        // A null in debugContext: that setting is back to the shipped table's value.
        await this.log.recordChange(tx, initiator, {
          eventType: EventType.COUNTRY_UPDATE,
          displayMessage: "Update country settings",
          target: [{ id: known, type: "Country", displayName: entry.name }],
          debugContext: changed,
        });
        return overridesNothing ? null : next;
      })
      .finally(() => this.overrides.forget(known));
    return this.view(entry, record);
  }

  /** The blocks in force, newest first, a keyset page at a time. */
  async blockedNumbers(first: number | null | undefined, after: string | null | undefined): Promise<BlockedPhoneNumberConnection> {
    const limit = pageSize(first);
    const active = this.db.manager
      .createQueryBuilder(BlockedNumber, "b")
      .where("(b.expires_at IS NULL OR b.expires_at > :now)", { now: this.clock.now().getTime() });
    return keysetConnection(
      active,
      { limit, after },
      { at: "b.created", id: "b.e164", direction: "DESC", cursorOf: (block) => ({ at: block.created.getTime(), id: block.e164 }) },
      (block) => ({ phoneNumber: block.e164, reason: block.reason, source: block.source, created: block.created, expiresAt: block.expiresAt }),
    );
  }

  async isBlocked(e164: string): Promise<BlockedNumber | null> {
    const block = await this.db.statements.findOneBy(this.db.manager, BlockedNumber, { e164 });
    if (!block) return null;
    return block.expiresAt && block.expiresAt <= this.clock.now() ? null : block;
  }

  async block(input: string, reason: string | null | undefined, initiator: Initiator): Promise<boolean> {
    const e164 = this.normaliseForBlockList(input);
    if (reason && reason.length > 256) throw badInput("reason", "must be at most 256 characters");
    await this.db.transaction(async (tx) => {
      // One statement: two blocks of the same number at once each replace it, where a delete
      // then an insert made the second a duplicate key on PostgreSQL.
      await tx.manager.upsert(BlockedNumber, { e164, reason: reason ?? null, source: "ADMIN", created: this.clock.now(), expiresAt: null }, ["e164"]);
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.NUMBER_BLOCK,
        displayMessage: "Block phone number",
        target: [blockedNumberTarget(e164)],
        debugContext: { reason: reason ?? null },
      });
    });
    return true;
  }

  /** True when a block was lifted, false when the number was not blocked (and nothing is logged). */
  async unblock(input: string, initiator: Initiator): Promise<boolean> {
    const e164 = this.normaliseForBlockList(input);
    return this.db.transaction(async (tx) => {
      const result = await tx.manager.delete(BlockedNumber, { e164 });
      if (!result.affected) return false;
      await this.log.recordChange(tx, initiator, { eventType: EventType.NUMBER_UNBLOCK, displayMessage: "Unblock phone number", target: [blockedNumberTarget(e164)] });
      return true;
    });
  }

  /** The table's entry for an alpha-2 code in either letter case ("ß" upper-cases to South Sudan's SS: letters A to Z only). */
  private requireKnownCountry(code: string): CountryEntry {
    const entry = /^[A-Za-z]{2}$/.test(code) ? countryEntry(code) : undefined;
    if (!entry) throw badInput("code", "must be an ISO 3166-1 alpha-2 code such as US or GB");
    return entry;
  }

  private view(entry: CountryEntry, override: CountryOverrideRecord | null): CountryView {
    const settings = effectiveCountrySettings(entry.code, override && toOverride(override))!;
    return { ...settings, callingCode: entry.callingCode, overridden: override !== null };
  }

  private normaliseForBlockList(input: string): string {
    const parsed = parsePhoneNumber(input, undefined);
    if (parsed.e164) return parsed.e164;
    // Numbers that libphonenumber rejects can still be pumped at: accept any E.164 shape.
    const digits = input.replace(/[\s().-]/g, "");
    if (/^\+[1-9][0-9]{6,14}$/.test(digits)) return digits;
    throw badInput("number", "must be a phone number in E.164 form, such as +14155550123");
  }
}

/** `field`: an argument of its own (validatePhoneNumber), or an enrollment's input field. */
export function normaliseCountry(code: string | null | undefined, field = "defaultCountry"): string | null {
  if (code == null || code === "") return null;
  if (!/^[A-Za-z]{2}$/.test(code)) throw badInput(field, "must be an ISO 3166-1 alpha-2 code such as US or GB");
  const upperCase = code.toUpperCase();
  // Ignored, an unknown code (UK for GB is the usual one) left a national number unreadable, and
  // the refusal said to give a country, which the user had.
  if (!isSupportedCountry(upperCase)) throw badInput(field, `${upperCase} is not a country's ISO 3166-1 alpha-2 code (the United Kingdom's is GB)`);
  return upperCase;
}

/**
 * Unmasked, unlike the numbers in message events: the block list is configuration an admin
 * typed, and whoever reviews it must be able to find and lift the very number.
 */
const blockedNumberTarget = (e164: string): LogTarget => ({ id: e164, type: "PhoneNumber" });

function overrideValues(record: CountryOverrideRecord | null) {
  const { smsEnabled = null, voiceEnabled = null, smsCostPerSegment = null, voiceCostPerMinute = null } = record ? toOverride(record) : {};
  return { smsEnabled, voiceEnabled, smsCostPerSegment, voiceCostPerMinute };
}

function toOverride(record: CountryOverrideRecord): CountryOverride {
  return {
    code: record.code,
    smsEnabled: record.smsEnabled,
    voiceEnabled: record.voiceEnabled,
    smsCostPerSegment: record.smsCostMicros == null ? null : record.smsCostMicros / 1_000_000,
    voiceCostPerMinute: record.voiceCostMicros == null ? null : record.voiceCostMicros / 1_000_000,
  };
}

/**
 * Why `method` cannot reach the number (rejectionForMethod), or null when it can; thrown as
 * NUMBER_BLOCKED when what stops it is an admin's block.
 */
export function rejectionUnlessBlocked(
  parsed: ParsedPhoneNumber,
  method: PhoneMethod,
  { block, forAdmin, ...context }: { country: CountrySettings | undefined; block: BlockedNumber | null; allowVoip: boolean; forAdmin: boolean },
): PhoneRejection | null {
  const rejection = rejectionForMethod(parsed, method, { ...context, blocked: block !== null });
  if (block && rejection === "BLOCKED") throw numberBlocked(block, { forAdmin });
  return rejection;
}

/** NUMBER_BLOCKED, whose `reason` is the block's source, and the admin's own note only for admins. */
export function numberBlocked(block: Pick<BlockedNumber, "reason" | "source">, { forAdmin }: { forAdmin: boolean }): AppError {
  return new AppError(ErrorCode.NUMBER_BLOCKED, "This phone number is blocked", {
    reason: (forAdmin ? block.reason : null) ?? block.source,
    rejection: "BLOCKED",
  });
}
