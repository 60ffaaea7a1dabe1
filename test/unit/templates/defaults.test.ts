import {
  ChallengePurpose,
  DEFAULT_SMS_TEMPLATES,
  findLocaleMatch,
  pickTranslation,
} from "../../../src/templates/defaults";
import { renderSms, validateTemplate } from "../../../src/templates/template";
import { voiceScript } from "../../../src/templates/voice-scripts";

const REQUIRED_LOCALES = ["en", "fr", "de", "es", "it", "pt", "nl", "ja", "zh", "zh-TW", "ko"];
const LATIN_SCRIPT_LOCALES = new Set(["en", "fr", "de", "es", "it", "pt", "nl"]);

const allDefaults = Object.values(ChallengePurpose).flatMap((purpose) => {
  const { template, translations } = DEFAULT_SMS_TEMPLATES[purpose];
  return [
    { purpose, locale: "default", template },
    ...translations.map((translation) => ({ purpose, ...translation })),
  ];
});

describe("DEFAULT_SMS_TEMPLATES", () => {
  it.each(Object.values(ChallengePurpose))("%s has a translation for every required locale", (purpose) => {
    const locales = DEFAULT_SMS_TEMPLATES[purpose].translations.map((translation) => translation.locale);
    expect(locales).toEqual(expect.arrayContaining(REQUIRED_LOCALES));
    expect(new Set(locales).size).toBe(locales.length);
  });

  it.each(allDefaults)("$purpose/$locale is valid with a 10-digit code and the origin-bound line", ({ template }) => {
    expect(() =>
      validateTemplate(template, { orgName: "Acme Corp", maxCodeLength: 10, originDomain: "login.acme.com" }),
    ).not.toThrow();
    expect(() =>
      validateTemplate(template, { orgName: "Acme Corporation Worldwide", maxCodeLength: 10 }),
    ).not.toThrow();
  });

  it.each(allDefaults.filter(({ locale }) => locale === "default" || LATIN_SCRIPT_LOCALES.has(locale)))(
    "$purpose/$locale stays within GSM-7",
    ({ template }) => {
      const analysis = validateTemplate(template, { orgName: "Acme", maxCodeLength: 10 });
      expect({ template, encoding: analysis.encoding, nonGsm: analysis.nonGsmCharacters }).toEqual({
        template,
        encoding: "GSM_7",
        nonGsm: [],
      });
    },
  );

  it("uses the English translation as the default", () => {
    for (const purpose of Object.values(ChallengePurpose)) {
      const { template, translations } = DEFAULT_SMS_TEMPLATES[purpose];
      expect(pickTranslation("en", "unused", translations)).toBe(template);
    }
  });

  it.each([
    ["zh-TW", "zh-TW", "zh-TW"],
    ["zh-Hant-TW", "zh-TW", "zh-TW"],
    ["zh-HK", "zh-TW", "zh-TW"],
    ["zh-Hant", "zh-TW", "zh-TW"],
    ["zh-MO", "zh-TW", "zh-TW"],
    ["zh-CN", "zh", "zh-CN"],
    ["zh-SG", "zh", "zh-CN"],
    ["zh", "zh", "zh-CN"],
  ])("%s gets the %s SMS, in the script of its %s voice call", (locale, translation, voice) => {
    expect(voiceScript(locale, "123456", "Acme").language).toBe(voice);
    for (const purpose of Object.values(ChallengePurpose)) {
      const { template, translations } = DEFAULT_SMS_TEMPLATES[purpose];
      const expected = translations.find((candidate) => candidate.locale === translation)!.template;
      expect({ purpose, template: pickTranslation(locale, template, translations) }).toEqual({ purpose, template: expected });
    }
  });

  it("renders the Traditional Chinese sign-in message", () => {
    const { template, translations } = DEFAULT_SMS_TEMPLATES.FACTOR_VERIFY;
    expect(renderSms(pickTranslation("zh-HK", template, translations), { code: "123456", orgName: "Acme" })).toBe(
      "您的Acme登入驗證碼是123456",
    );
  });

  it("renders the English phone verification message", () => {
    const { template } = DEFAULT_SMS_TEMPLATES.PHONE_VERIFICATION;
    expect(renderSms(template, { code: "123456", orgName: "Acme" })).toBe("Your Acme verification code is 123456");
  });
});

describe("pickTranslation", () => {
  const translations = [
    { locale: "fr", template: "fr" },
    { locale: "fr-CA", template: "fr-CA" },
    { locale: "pt-BR", template: "pt-BR" },
    { locale: "zh", template: "zh" },
  ];

  it.each([
    ["fr-CA", "fr-CA"],
    ["FR-ca", "fr-CA"],
    ["fr_CA", "fr-CA"],
    ["fr", "fr"],
    ["fr-BE", "fr"],
    ["fr-FR", "fr"],
    ["pt-PT", "pt-BR"],
    ["pt", "pt-BR"],
    ["zh-Hant-TW", "zh"],
    ["de-DE", "default"],
    ["", "default"],
    ["  ", "default"],
  ])("%j picks %s", (locale, expected) => {
    expect(pickTranslation(locale, "default", translations)).toBe(expected);
  });

  it.each([
    ["zh-Hant-TW", "zh-TW"],
    ["zh-TW", "zh-TW"],
    ["zh-HK", "zh-TW"],
    ["zh-Hant", "zh-TW"],
    ["zh-CN", "zh-CN"],
    ["zh-Hans-SG", "zh-CN"],
    ["zh", "zh-CN"],
  ])("Chinese: %j is written as %s reads it", (locale, expected) => {
    const chinese = [
      { locale: "zh-CN", template: "zh-CN" },
      { locale: "zh-TW", template: "zh-TW" },
    ];
    expect(pickTranslation(locale, "default", chinese)).toBe(expected);
  });

  it("a voice call in Traditional Chinese for Taiwan and Hong Kong, Simplified otherwise", () => {
    expect(voiceScript("zh-Hant-TW", "123456", "Acme").language).toBe("zh-TW");
    expect(voiceScript("zh-HK", "123456", "Acme").language).toBe("zh-TW");
    expect(voiceScript("zh-SG", "123456", "Acme").language).toBe("zh-CN");
    expect(voiceScript("fr-BE", "123456", "Acme").language).toBe("fr-FR");
  });

  it.each([
    ["nb-NO", ["no"], "no"],
    ["nb", ["no-NO"], "no-NO"],
    ["no-NO", ["nb"], "nb"],
    ["no", ["nb-NO"], "nb-NO"],
    ["nb-NO", ["no", "nb"], "nb"],
    ["no-NO", ["nb", "no"], "no"],
    ["nb", ["no", "nb"], "nb"],
    ["no", ["nb", "no"], "no"],
  ])("Norwegian: %j among %j picks %s", (locale, tags, expected) => {
    expect(pickTranslation(locale, "default", tags.map((tag) => ({ locale: tag, template: tag })))).toBe(expected);
  });

  it("falls back to the default without translations", () => {
    expect(pickTranslation("fr-CA", "default", [])).toBe("default");
  });

  it("prefers the bare language over another region of it", () => {
    const regionFirst = [
      { locale: "es-MX", template: "es-MX" },
      { locale: "es", template: "es" },
    ];
    expect(pickTranslation("es-AR", "default", regionFirst)).toBe("es");
    expect(findLocaleMatch("es-AR", regionFirst.slice(0, 1))?.template).toBe("es-MX");
  });
});
