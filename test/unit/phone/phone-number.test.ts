import { getCountries } from "libphonenumber-js/max";
import { AppError, ErrorCode } from "../../../src/platform/errors";
import {
  allCountries,
  countryEntry,
  effectiveCountrySettings,
  type CountryOverride,
} from "../../../src/phone/country-table";
import {
  assessPhoneNumber,
  maskPhoneNumber,
  parsePhoneNumber,
  phoneNumberError,
  rejectionForMethod,
  type PhoneMethod,
  type PhoneNumberAssessmentContext,
  type PhoneNumberType,
  type PhoneRejection,
} from "../../../src/phone/phone-number";

/** The context a service builds: the number's country with its (optional) admin override. */
function contextFor(
  country: string | null,
  options: {
    allowVoip?: boolean;
    blocked?: boolean;
    override?: CountryOverride;
    authenticatorMethods?: PhoneMethod[];
  } = {},
): PhoneNumberAssessmentContext {
  return {
    country: country ? effectiveCountrySettings(country, options.override) : undefined,
    allowVoip: options.allowVoip ?? false,
    blocked: options.blocked ?? false,
    authenticatorMethods: options.authenticatorMethods,
  };
}

function assess(input: string, options: Parameters<typeof contextFor>[1] = {}, defaultCountry?: string) {
  const parsed = parsePhoneNumber(input, defaultCountry);
  return { parsed, assessment: assessPhoneNumber(parsed, contextFor(parsed.country, options)) };
}

describe("mobile numbers", () => {
  // libphonenumber's own example mobile numbers. NANP and Mexican numbers cannot be told apart
  // from landlines by their digits, so libphonenumber says FIXED_LINE_OR_MOBILE for them.
  test.each<[string, string, string, PhoneNumberType]>([
    ["US", "+1 201-555-0123", "+12015550123", "FIXED_LINE_OR_MOBILE"],
    ["CA", "+1 506 234 5678", "+15062345678", "FIXED_LINE_OR_MOBILE"],
    ["MX", "+52 222 123 4567", "+522221234567", "FIXED_LINE_OR_MOBILE"],
    ["GB", "+44 7400 123456", "+447400123456", "MOBILE"],
    ["DE", "+49 1512 3456789", "+4915123456789", "MOBILE"],
    ["FR", "+33 6 12 34 56 78", "+33612345678", "MOBILE"],
    ["ES", "+34 612 34 56 78", "+34612345678", "MOBILE"],
    ["IT", "+39 312 345 6789", "+393123456789", "MOBILE"],
    ["NL", "+31 6 12345678", "+31612345678", "MOBILE"],
    ["SE", "+46 70 123 45 67", "+46701234567", "MOBILE"],
    ["CH", "+41 78 123 45 67", "+41781234567", "MOBILE"],
    ["PL", "+48 512 345 678", "+48512345678", "MOBILE"],
    ["IE", "+353 85 012 3456", "+353850123456", "MOBILE"],
    ["IN", "+91 81234 56789", "+918123456789", "MOBILE"],
    ["BR", "+55 11 96123-4567", "+5511961234567", "MOBILE"],
    ["AR", "+54 9 11 2345-6789", "+5491123456789", "MOBILE"],
    ["AU", "+61 412 345 678", "+61412345678", "MOBILE"],
    ["NZ", "+64 21 123 4567", "+64211234567", "MOBILE"],
    ["JP", "+81 90-1234-5678", "+819012345678", "MOBILE"],
    ["CN", "+86 131 2345 6789", "+8613123456789", "MOBILE"],
    ["KR", "+82 10-2000-0000", "+821020000000", "MOBILE"],
    ["SG", "+65 8123 4567", "+6581234567", "MOBILE"],
    ["PH", "+63 905 123 4567", "+639051234567", "MOBILE"],
    ["ZA", "+27 71 123 4567", "+27711234567", "MOBILE"],
    ["NG", "+234 802 123 4567", "+2348021234567", "MOBILE"],
    ["KE", "+254 712 123456", "+254712123456", "MOBILE"],
    ["EG", "+20 10 01234567", "+201001234567", "MOBILE"],
    ["TR", "+90 501 234 56 78", "+905012345678", "MOBILE"],
    ["AE", "+971 50 123 4567", "+971501234567", "MOBILE"],
    ["SA", "+966 51 234 5678", "+966512345678", "MOBILE"],
    ["RU", "+7 912 345-67-89", "+79123456789", "MOBILE"],
    // Crown dependencies share +44 but are their own countries.
    ["GG", "+44 7781 123456", "+447781123456", "MOBILE"],
    ["IM", "+44 7624 123456", "+447624123456", "MOBILE"],
    ["AS", "+1 684 733 1234", "+16847331234", "MOBILE"],
  ])("%s %s is accepted for SMS and VOICE", (country, input, e164, type) => {
    const { parsed, assessment } = assess(input);

    expect(parsed).toEqual({ input, e164, valid: true, type, country });
    expect(assessment.methods).toEqual(["SMS", "VOICE"]);
    expect(assessment.rejection).toBeNull();
    expect(assessment.smsCostPerSegment).toBe(countryEntry(country)?.smsCostPerSegment);
    expect(assessment.voiceCostPerMinute).toBe(countryEntry(country)?.voiceCostPerMinute);
  });

  test.each([
    ["07400 123456", "GB", "+447400123456"],
    ["(201) 555-0123", "US", "+12015550123"],
    ["(604) 555-0100", "CA", "+16045550100"],
    ["01512 3456789", "DE", "+4915123456789"],
    ["06 12 34 56 78", "FR", "+33612345678"],
    ["312 345 6789", "IT", "+393123456789"],
    ["08123456789", "IN", "+918123456789"],
    ["(11) 96123-4567", "BR", "+5511961234567"],
    ["0412 345 678", "AU", "+61412345678"],
    ["090-1234-5678", "JP", "+819012345678"],
    ["010-2000-0000", "KR", "+821020000000"],
    ["0802 123 4567", "NG", "+2348021234567"],
    ["071 123 4567", "ZA", "+27711234567"],
    ["07400 123456", "gb", "+447400123456"],
    // The international access code of the default country is understood.
    ["0044 7400 123456", "GB", "+447400123456"],
    ["011 44 7400 123456", "US", "+447400123456"],
  ])("national input %s with default country %s is normalised to %s", (input, defaultCountry, e164) => {
    expect(parsePhoneNumber(input, defaultCountry)).toMatchObject({ valid: true, e164 });
  });

  test.each([
    // libphonenumber keeps only an ASCII "+": a full-width one was dropped, and the rest read as a
    // national number of the default country, a UK mobile as a valid German landline.
    ["\uFF0B44 7400 123456", "DE", "+447400123456"],
    ["\uFF0B354 611 1234", "US", "+3546111234"],
    ["\uFE62354 611 1234", null, "+3546111234"],
    ["\uFF0B\uFF14\uFF14 \uFF17\uFF14\uFF10\uFF10 \uFF11\uFF12\uFF13\uFF14\uFF15\uFF16", null, "+447400123456"],
    // Space around the number, as pasted.
    [" +81 90 1234 5678", null, "+819012345678"],
    ["\t+81 90 1234 5678\n", null, "+819012345678"],
  ])("%j (default country %s) is read as typed: %s", (input, defaultCountry, e164) => {
    expect(parsePhoneNumber(input, defaultCountry)).toMatchObject({ valid: true, e164, input });
  });

  test("international input ignores the default country", () => {
    expect(parsePhoneNumber("+44 7400 123456", "US")).toMatchObject({
      valid: true,
      e164: "+447400123456",
      country: "GB",
    });
  });

  test("a personal number (UK 070) is reachable by SMS and VOICE", () => {
    expect(assess("+44 7012 345678").assessment).toMatchObject({ methods: ["SMS", "VOICE"], rejection: null });
  });
});

describe("invalid input", () => {
  test.each([
    ["empty", ""],
    ["letters", "abc"],
    ["a calling code and three digits", "+1 555"],
    ["an unassigned calling code", "+999 123"],
    ["one digit short", "+44 7400 12345"],
    ["one digit long", "+44 7400 1234567"],
    ["an eleven-digit NANP number", "+1 201 555 01234"],
    ["70 digits", "1".repeat(70)],
    ["65 characters of a valid number padded with spaces", `+447400123456${" ".repeat(52)}`],
    ["national input without a default country", "07400 123456"],
    ["a number inside text", "call +44 7400 123456 now"],
    ["a tel: URI", "tel:+447400123456"],
    ["a number with an extension", "+44 7400 123456 ext. 12"],
    ["only punctuation", "+()- ."],
  ])("%s is INVALID", (_description, input) => {
    const { parsed, assessment } = assess(input);

    expect(parsed).toEqual({ input, e164: null, valid: false, type: "UNKNOWN", country: null });
    expect(assessment).toEqual({
      methods: [],
      rejection: "INVALID",
      smsCostPerSegment: null,
      voiceCostPerMinute: null,
    });
  });

  test.each(["ZZ", "GBR", "", "g", "12", "001", "AC ", null])(
    "a default country of %p is treated as absent, never thrown on",
    (defaultCountry) => {
      expect(parsePhoneNumber("07400 123456", defaultCountry)).toMatchObject({ valid: false, e164: null });
      expect(parsePhoneNumber("+44 7400 123456", defaultCountry)).toMatchObject({ valid: true, e164: "+447400123456" });
    },
  );

  test("INVALID wins over every other reason", () => {
    const parsed = parsePhoneNumber("+1 555");
    expect(assessPhoneNumber(parsed, contextFor("US", { blocked: true })).rejection).toBe("INVALID");
  });
});

describe("number types that are never accepted", () => {
  test.each<[string, string, PhoneNumberType & PhoneRejection]>([
    ["US toll-free 800", "+1 800 555 0199", "TOLL_FREE"],
    ["US toll-free 888", "+1 888 234 5678", "TOLL_FREE"],
    ["GB toll-free 0800", "+44 800 123 4567", "TOLL_FREE"],
    ["GB toll-free 0808", "+44 808 157 0192", "TOLL_FREE"],
    ["AU toll-free 1800", "+61 1800 123 456", "TOLL_FREE"],
    ["FR toll-free 0800", "+33 800 12 34 56", "TOLL_FREE"],
    ["JP toll-free 0120", "+81 120 123 456", "TOLL_FREE"],
    ["IN toll-free 1800", "+91 1800 123 4567", "TOLL_FREE"],
    ["GB premium rate 09", "+44 909 876 5432", "PREMIUM_RATE"],
    ["US premium rate 900", "+1 900 234 5678", "PREMIUM_RATE"],
    ["FR premium rate 0899", "+33 899 12 34 56", "PREMIUM_RATE"],
    ["AU premium rate 1900", "+61 1900 123 456", "PREMIUM_RATE"],
    ["FR shared cost 0810", "+33 810 12 34 56", "SHARED_COST"],
    ["AU shared cost 1300", "+61 1300 123 456", "SHARED_COST"],
    ["ES shared cost 901", "+34 901 123 456", "SHARED_COST"],
    ["CN shared cost 400", "+86 400 123 4567", "SHARED_COST"],
  ])("%s (%s) is refused as %s", (_description, input, typeAndRejection) => {
    const { parsed, assessment } = assess(input, { allowVoip: true });

    expect(parsed.type).toBe(typeAndRejection);
    expect(assessment.methods).toEqual([]);
    expect(assessment.rejection).toBe(typeAndRejection);
  });

  test("the number type outranks the block list", () => {
    expect(assess("+1 800 555 0199", { blocked: true }).assessment.rejection).toBe("TOLL_FREE");
  });
});

describe("fixed lines", () => {
  test.each([
    ["GB", "+44 20 7946 0958"],
    ["GB", "+44 121 496 0000"],
    ["DE", "+49 30 12345678"],
    ["FR", "+33 1 23 45 67 89"],
    ["IT", "+39 02 1234 5678"],
    ["ES", "+34 91 123 45 67"],
    ["NL", "+31 20 123 4567"],
    ["SE", "+46 8 123 456 78"],
    ["IE", "+353 1 234 5678"],
    ["AU", "+61 2 9374 4000"],
    ["JP", "+81 3-1234-5678"],
    ["CN", "+86 10 1234 5678"],
    ["IN", "+91 11 2345 6789"],
    ["BR", "+55 11 3123-4567"],
    ["ZA", "+27 11 123 4567"],
    ["RU", "+7 495 123-45-67"],
  ])("%s %s is refused for SMS but allowed for VOICE", (country, input) => {
    const { parsed, assessment } = assess(input);
    const context = contextFor(country);

    expect(parsed).toMatchObject({ valid: true, type: "FIXED_LINE", country });
    expect(assessment).toMatchObject({ methods: ["VOICE"], rejection: null });
    expect(rejectionForMethod(parsed, "SMS", context)).toBe("NOT_REACHABLE_BY_METHOD");
    expect(rejectionForMethod(parsed, "VOICE", context)).toBeNull();
  });

  test("a fixed line under an SMS-only authenticator is NOT_REACHABLE_BY_METHOD", () => {
    const { assessment } = assess("+44 20 7946 0958", { authenticatorMethods: ["SMS"] });
    expect(assessment).toMatchObject({ methods: [], rejection: "NOT_REACHABLE_BY_METHOD" });
  });

  test.each([
    ["a UK pager", "+44 7640 123456", "PAGER"],
    ["a UK universal access number", "+44 55 1234 5678", "UAN"],
    ["a UK 0300 number", "+44 300 123 4567", "UAN"],
  ])("%s is NOT_REACHABLE_BY_METHOD for both methods", (_description, input, type) => {
    const { parsed, assessment } = assess(input);

    expect(parsed.type).toBe(type);
    expect(assessment).toMatchObject({ methods: [], rejection: "NOT_REACHABLE_BY_METHOD" });
  });
});

describe("VoIP numbers", () => {
  test.each([
    ["GB", "+44 56 1234 5678"],
    ["FR", "+33 9 51 23 45 67"],
    ["NL", "+31 85 123 4567"],
    ["IE", "+353 76 123 4567"],
    ["JP", "+81 50 1234 5678"],
    ["ZA", "+27 87 123 4567"],
  ])("%s %s is refused unless VoIP is allowed", (country, input) => {
    const refused = assess(input, { allowVoip: false });
    const allowed = assess(input, { allowVoip: true });

    expect(refused.parsed).toMatchObject({ valid: true, type: "VOIP", country });
    expect(refused.assessment).toMatchObject({ methods: [], rejection: "VOIP" });
    expect(allowed.assessment).toMatchObject({ methods: ["SMS", "VOICE"], rejection: null });
  });

  test("a refused VoIP number is VOIP even when also blocked", () => {
    expect(assess("+44 56 1234 5678", { blocked: true }).assessment.rejection).toBe("VOIP");
  });
});

describe("the block list", () => {
  test("a blocked mobile is BLOCKED for every method", () => {
    const { parsed, assessment } = assess("+44 7400 123456", { blocked: true });

    expect(assessment).toMatchObject({ methods: [], rejection: "BLOCKED", smsCostPerSegment: 0.04 });
    expect(rejectionForMethod(parsed, "SMS", contextFor("GB", { blocked: true }))).toBe("BLOCKED");
  });

  test("a blocked VoIP number where VoIP is allowed is BLOCKED", () => {
    expect(assess("+44 56 1234 5678", { blocked: true, allowVoip: true }).assessment.rejection).toBe("BLOCKED");
  });
});

describe("countries", () => {
  test.each([
    ["high-risk Somalia", "+252 90 7123456", "SO"],
    ["high-risk Solomon Islands", "+677 7421234", "SB"],
    ["sanctioned Iran", "+98 912 345 6789", "IR"],
    ["sanctioned Cuba", "+53 5 123 4567", "CU"],
  ])("a mobile in %s is UNSUPPORTED_COUNTRY by default", (_description, input, country) => {
    const { parsed, assessment } = assess(input);

    expect(parsed).toMatchObject({ valid: true, type: "MOBILE", country });
    expect(assessment).toMatchObject({ methods: [], rejection: "UNSUPPORTED_COUNTRY" });
    expect(assessment.smsCostPerSegment).toBe(countryEntry(country)?.smsCostPerSegment);
  });

  test("an override enables SMS alone in a high-risk country", () => {
    const override = { code: "SO", smsEnabled: true };
    const { parsed, assessment } = assess("+252 90 7123456", { override });

    expect(assessment).toMatchObject({ methods: ["SMS"], rejection: null });
    expect(rejectionForMethod(parsed, "VOICE", contextFor("SO", { override }))).toBe("UNSUPPORTED_COUNTRY");
  });

  test("an override cannot enable a method that is not offered (sanctions)", () => {
    const override = { code: "IR", smsEnabled: true, voiceEnabled: true };
    expect(assess("+98 912 345 6789", { override }).assessment.rejection).toBe("UNSUPPORTED_COUNTRY");
  });

  test("an override disabling SMS leaves a mobile VOICE only, and SMS is UNSUPPORTED_COUNTRY", () => {
    const override = { code: "GB", smsEnabled: false };
    const { parsed, assessment } = assess("+44 7400 123456", { override });

    expect(assessment).toMatchObject({ methods: ["VOICE"], rejection: null });
    expect(rejectionForMethod(parsed, "SMS", contextFor("GB", { override }))).toBe("UNSUPPORTED_COUNTRY");
    expect(rejectionForMethod(parsed, "VOICE", contextFor("GB", { override }))).toBeNull();
  });

  test("an override disabling VOICE makes a fixed line UNSUPPORTED_COUNTRY", () => {
    const override = { code: "GB", voiceEnabled: false };
    expect(assess("+44 20 7946 0958", { override }).assessment).toMatchObject({
      methods: [],
      rejection: "UNSUPPORTED_COUNTRY",
    });
  });

  test("a mobile whose country disabled SMS, under an SMS-only authenticator, is UNSUPPORTED_COUNTRY", () => {
    const override = { code: "GB", smsEnabled: false };
    expect(assess("+44 7400 123456", { override, authenticatorMethods: ["SMS"] }).assessment.rejection).toBe(
      "UNSUPPORTED_COUNTRY",
    );
  });

  test("an override's costs replace the estimates", () => {
    const override = { code: "GB", smsCostPerSegment: 0.031, voiceCostPerMinute: null };
    expect(assess("+44 7400 123456", { override }).assessment).toMatchObject({
      smsCostPerSegment: 0.031,
      voiceCostPerMinute: 0.02,
    });
  });

  test("the authenticator's methods restrict the result", () => {
    expect(assess("+44 7400 123456", { authenticatorMethods: ["VOICE"] }).assessment.methods).toEqual(["VOICE"]);
  });

  test("a non-geographic satellite number is valid but UNSUPPORTED_COUNTRY, with no costs", () => {
    const { parsed, assessment } = assess("+881 6 123 45678");

    expect(parsed).toMatchObject({ valid: true, e164: "+881612345678", type: "MOBILE", country: null });
    expect(assessment).toEqual({
      methods: [],
      rejection: "UNSUPPORTED_COUNTRY",
      smsCostPerSegment: null,
      voiceCostPerMinute: null,
    });
  });
});

describe("phoneNumberError", () => {
  test("carries the contract's extensions and a message naming the channel", () => {
    const parsed = parsePhoneNumber("+44 20 7946 0958");
    const error = phoneNumberError(parsed, "NOT_REACHABLE_BY_METHOD", "SMS");

    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe(ErrorCode.INVALID_PHONE_NUMBER);
    expect(error.extensions).toMatchObject({
      code: "INVALID_PHONE_NUMBER",
      rejection: "NOT_REACHABLE_BY_METHOD",
      type: "FIXED_LINE",
      country: "GB",
    });
    expect(error.message).toBe("This landline number cannot receive verification codes by SMS.");
  });

  test("names the country of an unsupported number and never echoes the input", () => {
    const parsed = parsePhoneNumber("+252 90 7123456");
    const error = phoneNumberError(parsed, "UNSUPPORTED_COUNTRY");

    expect(error.message).toBe("Phone numbers in Somalia are not supported for verification codes.");
    expect(phoneNumberError(parsePhoneNumber("+1 555"), "INVALID").message).not.toContain("555");
  });

  test.each<PhoneRejection>([
    "INVALID",
    "TOLL_FREE",
    "PREMIUM_RATE",
    "SHARED_COST",
    "VOIP",
    "NOT_REACHABLE_BY_METHOD",
    "UNSUPPORTED_COUNTRY",
    "BLOCKED",
  ])("has a message for %s", (rejection) => {
    const error = phoneNumberError(parsePhoneNumber("abc"), rejection, "VOICE");
    expect(error.message).toMatch(/^[A-Z].+\.$/);
    expect(error.extensions).toMatchObject({ rejection, type: "UNKNOWN", country: null });
  });
});

describe("maskPhoneNumber", () => {
  test.each([
    ["+12015550123", "+1 XXX-XXX-0123"],
    ["+16045550100", "+1 XXX-XXX-0100"],
    ["+18762101234", "+1 XXX-XXX-1234"],
    ["+447400123456", "+44 XXXX XX3456"],
    ["+442079460958", "+44 XX XXXX 0958"],
    ["+4915123456789", "+49 XXXX XXX6789"],
    ["+33612345678", "+33 X XX XX 56 78"],
    ["+918123456789", "+91 XXXXX X6789"],
    ["+5491123456789", "+54 X XX XXXX 6789"],
    ["+819012345678", "+81 XX XXXX 5678"],
    ["+6581234567", "+65 XXXX 4567"],
    ["+971501234567", "+971 XX XXX 4567"],
  ])("%s is masked as %s", (e164, masked) => {
    expect(maskPhoneNumber(e164)).toBe(masked);
  });

  test.each(["+12015550123", "+447400123456", "+33612345678", "+881612345678"])("masking %s again leaves it as it was", (e164) => {
    const masked = maskPhoneNumber(e164);
    expect(maskPhoneNumber(masked)).toBe(masked);
  });

  test.each(["+12015550123", "+447400123456", "+5511961234567", "+79123456789", "+881612345678"])(
    "%s reveals only the calling code and the last four digits",
    (e164) => {
      const masked = maskPhoneNumber(e164);
      const [callingCode, ...rest] = masked.split(" ");
      const revealedDigits = rest.join(" ").replace(/[^0-9]/g, "");

      expect(e164.startsWith(callingCode)).toBe(true);
      expect(revealedDigits).toBe(e164.slice(-4));
    },
  );

  test("something that is not a number still shows no more than four digits", () => {
    expect(maskPhoneNumber("999123456")).toBe("XXXXX3456");
    expect(maskPhoneNumber("")).toBe("");
  });
});

describe("country table", () => {
  const countries = allCountries();
  const ISO_CODES_WITHOUT_PLAN = ["AQ", "BV", "GS", "HM", "PN", "TF", "UM"];
  const NON_ISO_REGIONS = ["AC", "TA", "XK"];

  test("covers every ISO 3166-1 alpha-2 code once", () => {
    const codes = countries.map((entry) => entry.code);

    expect(countries.length).toBeGreaterThanOrEqual(245);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[A-Z]{2}$/);
    expect(codes).toEqual([...codes].sort());
  });

  test("holds every region libphonenumber knows except non-ISO ones, and the ISO codes it lacks", () => {
    const codes = new Set(countries.map((entry) => entry.code));
    const expected = [...getCountries().filter((code) => !NON_ISO_REGIONS.includes(code)), ...ISO_CODES_WITHOUT_PLAN];

    expect([...codes].sort()).toEqual(expected.sort());
  });

  test("every entry is complete, with numeric costs of at least zero", () => {
    for (const entry of countries) {
      expect(entry.name.length).toBeGreaterThan(0);
      expect(entry.callingCode).toMatch(/^[1-9][0-9]{0,2}$/);
      expect(typeof entry.smsOffered).toBe("boolean");
      expect(typeof entry.voiceOffered).toBe("boolean");
      expect(typeof entry.highRisk).toBe("boolean");
      for (const cost of [entry.smsCostPerSegment, entry.voiceCostPerMinute]) {
        expect(Number.isFinite(cost)).toBe(true);
        expect(cost).toBeGreaterThanOrEqual(0);
      }
    }
  });

  test("sanctioned destinations are offered for neither method", () => {
    for (const code of ["CU", "IR", "KP", "SY"]) {
      expect(countryEntry(code)).toMatchObject({ smsOffered: false, voiceOffered: false });
    }
  });

  test("lookups ignore letter case and miss unknown codes", () => {
    expect(countryEntry("gb")?.name).toBe("United Kingdom");
    expect(countryEntry("XK")).toBeUndefined();
    expect(effectiveCountrySettings("ZZ")).toBeUndefined();
  });

  test("methods are enabled by default where offered and not high-risk", () => {
    expect(effectiveCountrySettings("US")).toEqual({
      code: "US",
      name: "United States",
      smsOffered: true,
      voiceOffered: true,
      smsEnabled: true,
      voiceEnabled: true,
      smsCostPerSegment: 0.0079,
      voiceCostPerMinute: 0.014,
      highRisk: false,
    });
    for (const entry of countries.filter((country) => country.highRisk)) {
      expect(effectiveCountrySettings(entry.code)).toMatchObject({ smsEnabled: false, voiceEnabled: false });
    }
  });

  test("a null override field keeps the default", () => {
    expect(effectiveCountrySettings("GB", { code: "GB", smsEnabled: null, smsCostPerSegment: null })).toMatchObject({
      smsEnabled: true,
      smsCostPerSegment: 0.04,
    });
  });

  test("applying another country's override is a programming error", () => {
    expect(() => effectiveCountrySettings("GB", { code: "US", smsEnabled: false })).toThrow();
  });
});
