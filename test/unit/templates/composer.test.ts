import { MessageComposer, type TemplateSource } from "../../../src/templates/composer";
import { analyseSms } from "../../../src/templates/segments";

/** One template for every purpose and locale. */
const only = (template: string): TemplateSource => ({ smsTemplate: async () => ({ template, translations: [] }) });

const TEMPLATES = {
  plain: "${org.name}: your code is ${code}",
  // 150 characters before the code: a 6-digit code still fits one segment, an 11-digit one does not.
  atTheBoundary: `${"x".repeat(150)} ${"${code}"}`,
  escapeBesideTheCode: "€${code}€ [${code}] from ${org.name}",
  ucs2: "🔐 ${org.name} — код ${code}",
  ucs2AtTheBoundary: `${"ж".repeat(62)}${"${code}"}`,
  keycap: "${code}\u20E3 is your code",
};

describe("MessageComposer", () => {
  test.each(Object.entries(TEMPLATES))("%s: every code gets the encoding and segments of its own body", async (_name, template) => {
    for (const originDomain of [null, "login.example.com"]) {
      const composer = new MessageComposer(only(template), { orgName: "Acme", originDomain });
      for (const code of ["0000", "123456", "98765432", "12345678901", "999999"]) {
        const composed = await composer.compose("SMS", "FACTOR_VERIFY", "en", code);
        const measured = analyseSms(composed.body);
        expect(composed.body).toContain(code);
        expect({ encoding: composed.encoding, segments: composed.segments }).toEqual({ encoding: measured.encoding, segments: measured.segments });
      }
    }
  });

  test("a code that is not all digits is measured as sent", async () => {
    const composer = new MessageComposer(only(`${"x".repeat(154)}${"${code}"}`), { orgName: "Acme", originDomain: null });
    const digits = await composer.compose("SMS", "FACTOR_VERIFY", "en", "123456");
    const withEscape = await composer.compose("SMS", "FACTOR_VERIFY", "en", "12345€");
    // € takes two septets: 161 in all where the digits made 160.
    expect(digits.segments).toBe(1);
    expect(withEscape.segments).toBe(2);
    const nonGsm = await composer.compose("SMS", "FACTOR_VERIFY", "en", "12345ж");
    expect(nonGsm.encoding).toBe("UCS_2");
  });
});
