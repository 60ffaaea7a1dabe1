import table from "./countries.json";

/** One ISO 3166-1 alpha-2 country as shipped in countries.json (costs are USD estimates). */
export interface CountryEntry {
  code: string;
  name: string;
  /** Without the leading "+". */
  callingCode: string;
  /** Whether Ringfence can deliver SMS there at all; an admin cannot go beyond this. */
  smsOffered: boolean;
  voiceOffered: boolean;
  smsCostPerSegment: number;
  voiceCostPerMinute: number;
  /** Known toll-fraud / SMS-pumping destination: both methods start disabled. */
  highRisk: boolean;
}

/** What an admin stored for a country; null or absent means "keep the default". */
export interface CountryOverride {
  code: string;
  smsEnabled?: boolean | null;
  voiceEnabled?: boolean | null;
  smsCostPerSegment?: number | null;
  voiceCostPerMinute?: number | null;
}

/** A country's effective settings: the shipped entry with the admin's override applied. */
export interface CountrySettings {
  code: string;
  name: string;
  smsOffered: boolean;
  voiceOffered: boolean;
  smsEnabled: boolean;
  voiceEnabled: boolean;
  smsCostPerSegment: number;
  voiceCostPerMinute: number;
  highRisk: boolean;
}

/** Estimated costs are USD per segment or minute; past this an admin's entry is a typo, not a price. */
export const MAX_COUNTRY_COST_USD = 100;

const countries: readonly CountryEntry[] = Object.freeze(table.countries.map((entry) => Object.freeze({ ...entry })));
const countriesByCode: ReadonlyMap<string, CountryEntry> = new Map(countries.map((entry) => [entry.code, entry]));

/** Accepts any letter case; undefined for a code that is not in the table. */
export function countryEntry(code: string): CountryEntry | undefined {
  return countriesByCode.get(code.toUpperCase());
}

/** Every country, ordered by code. */
export function allCountries(): readonly CountryEntry[] {
  return countries;
}

export function effectiveCountrySettings(code: string, override?: CountryOverride | null): CountrySettings | undefined {
  const entry = countryEntry(code);
  if (!entry) return undefined;
  if (override && override.code.toUpperCase() !== entry.code) {
    // Applying another country's override would silently open or price the wrong destination.
    throw new Error(`override for ${override.code} applied to ${entry.code}`);
  }
  const enabledByDefault = !entry.highRisk;
  return {
    code: entry.code,
    name: entry.name,
    smsOffered: entry.smsOffered,
    voiceOffered: entry.voiceOffered,
    // An override can switch a method off anywhere, but on only where it is offered.
    smsEnabled: entry.smsOffered && (override?.smsEnabled ?? enabledByDefault),
    voiceEnabled: entry.voiceOffered && (override?.voiceEnabled ?? enabledByDefault),
    smsCostPerSegment: override?.smsCostPerSegment ?? entry.smsCostPerSegment,
    voiceCostPerMinute: override?.voiceCostPerMinute ?? entry.voiceCostPerMinute,
    highRisk: entry.highRisk,
  };
}
