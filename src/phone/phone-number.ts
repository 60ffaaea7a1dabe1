import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
} from "libphonenumber-js/max";
import { AppError, ErrorCode } from "../platform/errors";
import { RecentResults } from "../platform/recent-results";
import { countryEntry, type CountrySettings } from "./country-table";

export const PhoneMethod = { SMS: "SMS", VOICE: "VOICE" } as const;
export type PhoneMethod = (typeof PhoneMethod)[keyof typeof PhoneMethod];

export const PhoneNumberType = {
  MOBILE: "MOBILE",
  FIXED_LINE: "FIXED_LINE",
  FIXED_LINE_OR_MOBILE: "FIXED_LINE_OR_MOBILE",
  TOLL_FREE: "TOLL_FREE",
  PREMIUM_RATE: "PREMIUM_RATE",
  SHARED_COST: "SHARED_COST",
  VOIP: "VOIP",
  PERSONAL_NUMBER: "PERSONAL_NUMBER",
  PAGER: "PAGER",
  UAN: "UAN",
  VOICEMAIL: "VOICEMAIL",
  UNKNOWN: "UNKNOWN",
} as const;
export type PhoneNumberType = (typeof PhoneNumberType)[keyof typeof PhoneNumberType];

export const PhoneRejection = {
  INVALID: "INVALID",
  TOLL_FREE: "TOLL_FREE",
  PREMIUM_RATE: "PREMIUM_RATE",
  SHARED_COST: "SHARED_COST",
  VOIP: "VOIP",
  NOT_REACHABLE_BY_METHOD: "NOT_REACHABLE_BY_METHOD",
  UNSUPPORTED_COUNTRY: "UNSUPPORTED_COUNTRY",
  BLOCKED: "BLOCKED",
} as const;
export type PhoneRejection = (typeof PhoneRejection)[keyof typeof PhoneRejection];

export interface ParsedPhoneNumber {
  /** Exactly what the caller sent. */
  input: string;
  /** Set only for a valid number. */
  e164: string | null;
  valid: boolean;
  type: PhoneNumberType;
  /** ISO 3166-1 alpha-2 of a valid number; null for non-geographic numbers (satellite, +800...). */
  country: string | null;
}

export interface PhoneNumberAssessmentContext {
  /** Effective settings of the number's country; undefined when it has none (non-geographic numbers). */
  country: CountrySettings | undefined;
  allowVoip: boolean;
  /** Whether the number is on the block list. */
  blocked: boolean;
  /** The methods the phone authenticator offers; all methods when absent. */
  authenticatorMethods?: readonly PhoneMethod[];
}

export interface PhoneNumberAssessment {
  /** Methods the number may be enrolled for, in the order SMS, VOICE. */
  methods: PhoneMethod[];
  /** Why no method is possible; null whenever `methods` is not empty. */
  rejection: PhoneRejection | null;
  smsCostPerSegment: number | null;
  voiceCostPerMinute: number | null;
}

/** Far longer than any dialable number with punctuation; bounds the parser's work on hostile input. */
const MAX_INPUT_LENGTH = 64;
const VISIBLE_TRAILING_DIGITS = 4;
const ALL_METHODS: readonly PhoneMethod[] = [PhoneMethod.SMS, PhoneMethod.VOICE];

/** Number types a code must never go to, whatever the country: the caller or we would pay extra. */
const COSTLY_TYPE_REJECTIONS: Partial<Record<PhoneNumberType, PhoneRejection>> = {
  TOLL_FREE: PhoneRejection.TOLL_FREE,
  PREMIUM_RATE: PhoneRejection.PREMIUM_RATE,
  SHARED_COST: PhoneRejection.SHARED_COST,
};

/** VOIP appears here but is rejected before these are consulted unless the tenant allows VoIP. */
const TYPES_REACHABLE_BY: Record<PhoneMethod, ReadonlySet<PhoneNumberType>> = {
  SMS: new Set<PhoneNumberType>(["MOBILE", "FIXED_LINE_OR_MOBILE", "PERSONAL_NUMBER", "VOIP"]),
  VOICE: new Set<PhoneNumberType>(["MOBILE", "FIXED_LINE", "FIXED_LINE_OR_MOBILE", "PERSONAL_NUMBER", "VOIP"]),
};

const TYPE_DESCRIPTIONS: Record<PhoneNumberType, string> = {
  MOBILE: "mobile",
  FIXED_LINE: "landline",
  FIXED_LINE_OR_MOBILE: "landline or mobile",
  TOLL_FREE: "toll-free",
  PREMIUM_RATE: "premium-rate",
  SHARED_COST: "shared-cost",
  VOIP: "VoIP",
  PERSONAL_NUMBER: "personal",
  PAGER: "pager",
  UAN: "universal access",
  VOICEMAIL: "voicemail",
  UNKNOWN: "phone",
};

/** Never throws: anything that is not a complete, valid number comes back with `valid: false`. */
export function parsePhoneNumber(input: string, defaultCountry?: string | null): ParsedPhoneNumber {
  if (input.length > MAX_INPUT_LENGTH) return parseUncached(input, defaultCountry);
  // Frozen: the same object goes to every caller that asks about this input.
  return recentParses.get(`${defaultCountry ?? ""}\u0000${input}`, () => Object.freeze(parseUncached(input, defaultCountry)));
}

function parseUncached(input: string, defaultCountry: string | null | undefined): ParsedPhoneNumber {
  const invalid: ParsedPhoneNumber = { input, e164: null, valid: false, type: "UNKNOWN", country: null };
  if (input.length > MAX_INPUT_LENGTH) return invalid;
  // libphonenumber reads full-width digits but keeps only an ASCII "+", and it refuses space
  // before the number: NFKC makes "＋" and "﹢" the plus they look like, where a dropped one
  // turned an international number into a national one of the default country.
  const number = parseStrictly(input.normalize("NFKC").trim(), supportedRegion(defaultCountry));
  // An extension cannot receive an SMS and an automated call cannot dial one, so the code would
  // go to whoever answers the main line.
  if (!number || !number.isValid() || number.ext) return invalid;
  return {
    input,
    e164: number.number,
    valid: true,
    type: number.getType() ?? "UNKNOWN",
    country: number.country ?? null,
  };
}

/**
 * Checks, in this order: validity, costly number types, VoIP, the block list, then which
 * methods the number type and the country allow.
 */
export function assessPhoneNumber(
  parsed: ParsedPhoneNumber,
  context: PhoneNumberAssessmentContext,
): PhoneNumberAssessment {
  if (!parsed.valid) {
    return { methods: [], rejection: PhoneRejection.INVALID, smsCostPerSegment: null, voiceCostPerMinute: null };
  }
  const costs = {
    smsCostPerSegment: context.country?.smsCostPerSegment ?? null,
    voiceCostPerMinute: context.country?.voiceCostPerMinute ?? null,
  };
  const rejected = (rejection: PhoneRejection): PhoneNumberAssessment => ({ methods: [], rejection, ...costs });

  const costlyType = COSTLY_TYPE_REJECTIONS[parsed.type];
  if (costlyType) return rejected(costlyType);
  if (parsed.type === PhoneNumberType.VOIP && !context.allowVoip) return rejected(PhoneRejection.VOIP);
  if (context.blocked) return rejected(PhoneRejection.BLOCKED);

  const wanted = ALL_METHODS.filter((method) => context.authenticatorMethods?.includes(method) ?? true);
  const reachable = wanted.filter((method) => TYPES_REACHABLE_BY[method].has(parsed.type));
  if (reachable.length === 0) return rejected(PhoneRejection.NOT_REACHABLE_BY_METHOD);
  const methods = reachable.filter((method) => countryEnables(context.country, method));
  if (methods.length === 0) return rejected(PhoneRejection.UNSUPPORTED_COUNTRY);
  return { methods, rejection: null, ...costs };
}

/**
 * Why `method` cannot be used with this number, or null if it can. Whether the authenticator
 * offers the method at all is a policy question (METHOD_NOT_ALLOWED) and is not asked here.
 */
export function rejectionForMethod(
  parsed: ParsedPhoneNumber,
  method: PhoneMethod,
  context: Omit<PhoneNumberAssessmentContext, "authenticatorMethods">,
): PhoneRejection | null {
  return assessPhoneNumber(parsed, { ...context, authenticatorMethods: [method] }).rejection;
}

/** The INVALID_PHONE_NUMBER error of the contract; `method` makes the message name the channel. */
export function phoneNumberError(parsed: ParsedPhoneNumber, rejection: PhoneRejection, method?: PhoneMethod): AppError {
  return new AppError(ErrorCode.INVALID_PHONE_NUMBER, rejectionMessage(parsed, rejection, method), {
    rejection,
    type: parsed.type,
    country: parsed.country,
  });
}

/**
 * Parses and masks computed lately: a number is parsed for every challenge and masked for every
 * event and response about it, and libphonenumber's parse dominates either.
 */
const recentMasks = new RecentResults<string>(4_096);
const recentParses = new RecentResults<Readonly<ParsedPhoneNumber>>(4_096);

/**
 * `+1 XXX-XXX-1234` for NANP numbers; otherwise `+<calling code> ` and the national number grouped
 * as in international format, with every digit but the last four replaced by X.
 */
export function maskPhoneNumber(e164: string): string {
  return recentMasks.get(e164, () => maskUncached(e164));
}

function maskUncached(e164: string): string {
  // Masked already (a deleted user's messages keep only this): masking again would regroup it.
  if (e164.includes("X")) return e164;
  const number = parseStrictly(e164, undefined);
  if (!number) return maskAllButTrailingDigits(e164.replace(/\D/g, ""));
  const { countryCallingCode, nationalNumber } = number;
  const lastDigits = nationalNumber.slice(-VISIBLE_TRAILING_DIGITS);
  if (countryCallingCode === "1" && nationalNumber.length === 10) return `+1 XXX-XXX-${lastDigits}`;

  const prefix = `+${countryCallingCode} `;
  const international = number.formatInternational();
  const grouped = international.startsWith(prefix) ? international.slice(prefix.length) : "";
  // Grouping is only trusted when it holds exactly the national digits (no extension, no prefix).
  const national = grouped.replace(/\D/g, "") === nationalNumber ? grouped : nationalNumber;
  return prefix + maskAllButTrailingDigits(national);
}

function parseStrictly(input: string, defaultCountry: CountryCode | undefined): PhoneNumber | undefined {
  try {
    // extract: false refuses text around the number ("call +44 ... now") instead of digging it out.
    return parsePhoneNumberFromString(input, { defaultCountry, extract: false });
  } catch {
    return undefined;
  }
}

function supportedRegion(code: string | null | undefined): CountryCode | undefined {
  if (!code || !/^[A-Za-z]{2}$/.test(code)) return undefined;
  const upperCase = code.toUpperCase();
  return isSupportedCountry(upperCase) ? upperCase : undefined;
}

function countryEnables(country: CountrySettings | undefined, method: PhoneMethod): boolean {
  if (!country) return false;
  return method === PhoneMethod.SMS ? country.smsEnabled : country.voiceEnabled;
}

function maskAllButTrailingDigits(text: string): string {
  let digitsKept = 0;
  let masked = "";
  for (let index = text.length - 1; index >= 0; index--) {
    const character = text[index];
    const isDigit = character >= "0" && character <= "9";
    if (isDigit && digitsKept < VISIBLE_TRAILING_DIGITS) {
      digitsKept++;
      masked = character + masked;
    } else {
      masked = (isDigit ? "X" : character) + masked;
    }
  }
  return masked;
}

function rejectionMessage(
  parsed: ParsedPhoneNumber,
  rejection: PhoneRejection,
  method: PhoneMethod | undefined,
): string {
  const byMethod = method === undefined ? "" : method === PhoneMethod.SMS ? " by SMS" : " by voice call";
  switch (rejection) {
    case PhoneRejection.INVALID:
      return "This is not a valid phone number. Enter it in international format (+...) or give its country.";
    case PhoneRejection.TOLL_FREE:
      return "Toll-free numbers cannot be used to receive verification codes.";
    case PhoneRejection.PREMIUM_RATE:
      return "Premium-rate numbers cannot be used to receive verification codes.";
    case PhoneRejection.SHARED_COST:
      return "Shared-cost numbers cannot be used to receive verification codes.";
    case PhoneRejection.VOIP:
      return "VoIP numbers are not allowed to receive verification codes.";
    case PhoneRejection.NOT_REACHABLE_BY_METHOD:
      return `This ${TYPE_DESCRIPTIONS[parsed.type]} number cannot receive verification codes${byMethod}.`;
    case PhoneRejection.UNSUPPORTED_COUNTRY: {
      const numbers = parsed.country
        ? `Phone numbers in ${countryEntry(parsed.country)?.name ?? parsed.country}`
        : "Non-geographic phone numbers (satellite, global services)";
      return `${numbers} are not supported for verification codes${byMethod}.`;
    }
    case PhoneRejection.BLOCKED:
      return "This phone number is blocked.";
  }
}
