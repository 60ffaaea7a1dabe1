/**
 * One-off generator for src/phone/countries.json: `npx tsx scripts/generate-countries.ts`.
 *
 * The JSON is the source of truth once generated and may be edited by hand; this script only
 * records how the first version was derived (regions from libphonenumber's metadata, names from
 * CLDR through Intl, prices from the regional tiers below).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { getCountries, getCountryCallingCode, isSupportedCountry } from "libphonenumber-js/max";

interface Price {
  sms: number;
  voice: number;
}

/** libphonenumber regions that are not ISO 3166-1 alpha-2 codes. */
const NON_ISO_REGIONS = new Set(["AC", "TA", "XK"]);

/**
 * ISO 3166-1 codes libphonenumber has no numbering plan for: their numbers are dialled inside
 * another plan and parse as that region, so they never come out of parsing themselves.
 */
const ISO_WITHOUT_OWN_PLAN: Record<string, { callingCode: string; plan: string }> = {
  AQ: { callingCode: "672", plan: "Norfolk Island's +672 plan (Australian Antarctic Territory)" },
  BV: { callingCode: "47", plan: "Norway's plan" },
  GS: { callingCode: "500", plan: "the Falkland Islands' +500 plan" },
  HM: { callingCode: "672", plan: "Norfolk Island's +672 plan" },
  PN: { callingCode: "64", plan: "New Zealand's plan" },
  TF: { callingCode: "262", plan: "Réunion's +262 plan" },
  UM: { callingCode: "1", plan: "the United States' plan" },
};

const SANCTIONED: Record<string, string> = {
  CU: "comprehensively sanctioned destination (US OFAC); most providers refuse traffic",
  IR: "comprehensively sanctioned destination (US OFAC, EU); most providers refuse traffic",
  KP: "comprehensively sanctioned destination (UN, US OFAC, EU); no provider terminates traffic",
  SY: "comprehensively sanctioned destination (US OFAC); most providers refuse traffic",
};

/** Space-separated ISO codes, so the tables below stay one line per group. */
const codes = (list: string): string[] => list.split(" ");

/**
 * Small or remote numbering plans with high termination rates, and destinations recurring in
 * CPaaS and carrier toll-fraud / SMS-pumping advisories (IRSF). Disabled until an admin opts in.
 */
const HIGH_RISK = new Set([
  // Remote islands and tiny numbering plans.
  ...codes("CK FK FM IO KI MH NF NR NU PG SB SH TK TO TV VU WF"),
  // African destinations frequently named in international revenue share fraud reports.
  ...codes("CF ER GN GW KM SL SO ST TD"),
]);

const REGION_TIERS: { region: string; price: Price; codes: string[] }[] = [
  { region: "US and Canada", price: { sms: 0.0079, voice: 0.014 }, codes: codes("US CA") },
  { region: "US territories", price: { sms: 0.0079, voice: 0.02 }, codes: codes("PR VI GU AS MP UM") },
  {
    region: "Caribbean",
    price: { sms: 0.07, voice: 0.18 },
    codes: codes("AG AI AW BB BM BQ BS CU CW DM DO GD HT JM KN KY LC MS SX TC TT VC VG"),
  },
  { region: "United Kingdom", price: { sms: 0.04, voice: 0.02 }, codes: codes("GB") },
  { region: "Crown dependencies", price: { sms: 0.05, voice: 0.05 }, codes: codes("GG JE IM") },
  {
    region: "Western Europe",
    price: { sms: 0.08, voice: 0.03 },
    codes: codes("AD AT AX BE CH DE DK ES FI FO FR GI GL IE IS IT LI LU MC MT NL NO PT SE SJ SM VA"),
  },
  {
    region: "Central and Eastern Europe",
    price: { sms: 0.06, voice: 0.05 },
    codes: codes("AL BA BG BY CY CZ EE GR HR HU LT LV MD ME MK PL RO RS SI SK UA"),
  },
  {
    region: "Russia, Caucasus, Central Asia",
    price: { sms: 0.25, voice: 0.12 },
    codes: codes("AM AZ GE KG KZ RU TJ TM UZ"),
  },
  {
    region: "Middle East",
    price: { sms: 0.1, voice: 0.12 },
    codes: codes("AE BH IL IQ IR JO KW LB OM PS QA SA SY TR YE"),
  },
  { region: "North Africa", price: { sms: 0.15, voice: 0.2 }, codes: codes("DZ EG EH LY MA SD TN") },
  {
    region: "Sub-Saharan Africa",
    price: { sms: 0.12, voice: 0.22 },
    codes: codes(
      "AO BF BI BJ BW CD CF CG CI CM CV DJ ER ET GA GH GM GN GQ GW KE KM LR LS MG ML MR MU MW MZ NA NE NG RE RW SC SL " +
        "SN SO SS ST SZ TD TG TZ UG YT ZA ZM ZW",
    ),
  },
  { region: "South Asia", price: { sms: 0.1, voice: 0.06 }, codes: codes("AF BD BT IN LK MV NP PK") },
  { region: "East Asia", price: { sms: 0.07, voice: 0.06 }, codes: codes("CN HK JP KP KR MN MO TW") },
  { region: "Southeast Asia", price: { sms: 0.06, voice: 0.08 }, codes: codes("BN ID KH LA MM MY PH SG TH TL VN") },
  { region: "Australia and New Zealand", price: { sms: 0.05, voice: 0.03 }, codes: codes("AU NZ") },
  {
    region: "Pacific islands",
    price: { sms: 0.15, voice: 0.5 },
    codes: codes("CC CK CX FJ FM KI MH NC NF NR NU PF PG PW SB TK TO TV VU WF WS"),
  },
  {
    region: "Latin America",
    price: { sms: 0.06, voice: 0.06 },
    codes: codes("AR BO BR BZ CL CO CR EC GT GY HN MX NI PA PE PY SR SV UY VE"),
  },
  { region: "French overseas", price: { sms: 0.09, voice: 0.06 }, codes: codes("BL GF GP MF MQ PM TF") },
  { region: "Remote territories", price: { sms: 0.2, voice: 1.0 }, codes: codes("AQ BV FK GS HM IO PN SH") },
];

/** Markets priced apart from their region's tier. */
const COUNTRY_PRICES: Record<string, Price> = {
  AR: { sms: 0.07, voice: 0.05 },
  AT: { sms: 0.09, voice: 0.03 },
  BE: { sms: 0.09, voice: 0.03 },
  BR: { sms: 0.05, voice: 0.04 },
  BY: { sms: 0.2, voice: 0.1 },
  CH: { sms: 0.06, voice: 0.04 },
  CN: { sms: 0.05, voice: 0.03 },
  DE: { sms: 0.09, voice: 0.03 },
  DK: { sms: 0.05, voice: 0.03 },
  ES: { sms: 0.07, voice: 0.03 },
  ID: { sms: 0.35, voice: 0.1 },
  IE: { sms: 0.07, voice: 0.03 },
  IN: { sms: 0.08, voice: 0.04 },
  JP: { sms: 0.08, voice: 0.1 },
  KE: { sms: 0.08, voice: 0.12 },
  KR: { sms: 0.04, voice: 0.04 },
  MX: { sms: 0.05, voice: 0.04 },
  NG: { sms: 0.1, voice: 0.15 },
  NL: { sms: 0.1, voice: 0.03 },
  NO: { sms: 0.07, voice: 0.03 },
  NZ: { sms: 0.09, voice: 0.05 },
  PH: { sms: 0.2, voice: 0.1 },
  PK: { sms: 0.15, voice: 0.06 },
  PL: { sms: 0.04, voice: 0.03 },
  PT: { sms: 0.04, voice: 0.03 },
  SE: { sms: 0.06, voice: 0.03 },
  SG: { sms: 0.04, voice: 0.03 },
  TR: { sms: 0.05, voice: 0.08 },
  ZA: { sms: 0.04, voice: 0.05 },
};

/** CLDR's short names, where a fuller or plainer name reads better in an admin console. */
const NAME_OVERRIDES: Record<string, string> = {
  CD: "Democratic Republic of the Congo",
  CG: "Republic of the Congo",
  CI: "Côte d'Ivoire",
  HK: "Hong Kong",
  MM: "Myanmar",
  MO: "Macao",
  PS: "Palestine",
  UM: "United States Minor Outlying Islands",
};

const regionNames = new Intl.DisplayNames(["en"], { type: "region" });

function countryName(code: string): string {
  const name = NAME_OVERRIDES[code] ?? regionNames.of(code);
  if (!name || name === code) throw new Error(`no English name for ${code}`);
  return name.replace(/ & /g, " and ").replace(/^St\. /, "Saint ");
}

function priceOf(code: string): Price {
  const specific = COUNTRY_PRICES[code];
  if (specific) return specific;
  const tiers = REGION_TIERS.filter((tier) => tier.codes.includes(code));
  if (tiers.length !== 1) throw new Error(`${code} is in ${tiers.length} price tiers, expected exactly one`);
  return tiers[0].price;
}

function callingCodeOf(code: string): string {
  const withoutOwnPlan = ISO_WITHOUT_OWN_PLAN[code];
  if (withoutOwnPlan) return withoutOwnPlan.callingCode;
  if (!isSupportedCountry(code)) throw new Error(`no calling code for ${code}`);
  return getCountryCallingCode(code);
}

const isoCodes = [
  ...getCountries().filter((code) => !NON_ISO_REGIONS.has(code)),
  ...Object.keys(ISO_WITHOUT_OWN_PLAN),
].sort();

const notOffered: Record<string, string> = { ...SANCTIONED };
for (const [code, { plan }] of Object.entries(ISO_WITHOUT_OWN_PLAN)) {
  notOffered[code] = `no numbering plan of its own: its numbers belong to ${plan} and are treated as that region's`;
}

const countries = isoCodes.map((code) => {
  const offered = !(code in notOffered);
  const price = priceOf(code);
  return {
    code,
    name: countryName(code),
    callingCode: callingCodeOf(code),
    smsOffered: offered,
    voiceOffered: offered,
    smsCostPerSegment: price.sms,
    voiceCostPerMinute: price.voice,
    highRisk: HIGH_RISK.has(code),
  };
});

const table = {
  note:
    "Costs are ESTIMATES in USD of a provider's outbound price (SMS per 160-character GSM-7 segment, " +
    "voice per started minute), tiered by region for budgeting and the usage report only; they are not " +
    "any provider's price list. Admins override them per country.",
  currency: "USD",
  highRiskNote:
    "highRisk marks small or remote numbering plans with high termination rates and destinations recurring in " +
    "toll-fraud / SMS-pumping (IRSF) advisories; both methods are disabled there until an admin enables them.",
  notOffered: Object.fromEntries(Object.entries(notOffered).sort(([a], [b]) => a.localeCompare(b))),
  countries,
};

const target = join(__dirname, "..", "src", "phone", "countries.json");
writeFileSync(target, `${JSON.stringify(table, null, 2)}\n`);
console.log(`wrote ${countries.length} countries to ${target}`);
