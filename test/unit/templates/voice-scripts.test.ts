import { VOICE_SCRIPT_LOCALES, voiceScript } from "../../../src/templates/voice-scripts";

function occurrences(text: string, fragment: string): number {
  return text.split(fragment).length - 1;
}

describe("voiceScript", () => {
  it.each([
    ["en", "en-US", "1, 2, 3, 4, 5, 6"],
    ["fr", "fr-FR", "1, 2, 3, 4, 5, 6"],
    ["de", "de-DE", "1, 2, 3, 4, 5, 6"],
    ["es", "es-ES", "1, 2, 3, 4, 5, 6"],
    ["it", "it-IT", "1, 2, 3, 4, 5, 6"],
    ["pt", "pt-BR", "1, 2, 3, 4, 5, 6"],
    ["nl", "nl-NL", "1, 2, 3, 4, 5, 6"],
    ["ja", "ja-JP", "1、2、3、4、5、6"],
    ["zh", "zh-CN", "1，2，3，4，5，6"],
    ["ko", "ko-KR", "1, 2, 3, 4, 5, 6"],
  ])("%s speaks in %s and reads the digits one by one, twice", (locale, language, spokenCode) => {
    const script = voiceScript(locale, "123456", "Acme");
    expect(script.language).toBe(language);
    expect(occurrences(script.text, spokenCode)).toBe(2);
    expect(script.text).not.toContain("123456");
    expect(script.text).toContain("Acme");
  });

  it("reads every listed locale's digits one by one, twice", () => {
    for (const locale of VOICE_SCRIPT_LOCALES) {
      const { text } = voiceScript(locale, "908172", "Acme");
      expect({ locale, digitRuns: text.match(/\d{2,}/g) }).toEqual({ locale, digitRuns: null });
      for (const digit of "908172") expect(occurrences(text, digit)).toBe(2);
    }
  });

  it("says the English script in full", () => {
    expect(voiceScript("en", "123456", "Acme").text).toBe(
      "Your Acme verification code is: 1, 2, 3, 4, 5, 6. Again, your code is: 1, 2, 3, 4, 5, 6.",
    );
  });

  it.each([
    ["en-GB", "en-GB"],
    ["en-NZ", "en-US"],
    ["fr-CA", "fr-CA"],
    ["fr_BE", "fr-FR"],
    ["es-MX", "es-MX"],
    ["es-AR", "es-ES"],
    ["pt-PT", "pt-PT"],
    ["DE-at", "de-DE"],
    ["zh-TW", "zh-TW"],
    ["sv-SE", "en-US"],
    ["", "en-US"],
  ])("picks the voice for %j: %s", (locale, language) => {
    expect(voiceScript(locale, "1234", "Acme").language).toBe(language);
  });

  it("reads a code of any length", () => {
    expect(voiceScript("en", "0123456789", "Acme").text).toContain("0, 1, 2, 3, 4, 5, 6, 7, 8, 9.");
  });
});
