import { ConfigError, loadConfig } from "../../../src/platform/config";
import { AppError, ErrorCode } from "../../../src/platform/errors";
import { analyseSms } from "../../../src/templates/segments";
import { TemplateInvalidReason, renderSms, templateVariables, validateTemplate } from "../../../src/templates/template";

const org = { orgName: "Acme", maxCodeLength: 10 };

function thrownBy(action: () => unknown): AppError {
  try {
    action();
  } catch (error: unknown) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError, nothing was thrown");
}

describe("templateVariables", () => {
  it("lists distinct variables in order of first appearance, unknown ones included", () => {
    expect(templateVariables("${org.name}: ${code} (${code}) ${foo}")).toEqual(["org.name", "code", "foo"]);
  });

  it("skips an opener that is never closed", () => {
    expect(templateVariables("${oops ${code}")).toEqual(["code"]);
    expect(templateVariables("no variables, $ and } alone are text")).toEqual([]);
  });
});

describe("validateTemplate", () => {
  describe("TEMPLATE_INVALID", () => {
    it.each([
      ["Your verification code is ready", TemplateInvalidReason.MISSING_CODE],
      ["Your ${org.name} code", TemplateInvalidReason.MISSING_CODE],
      ["Your code is $code", TemplateInvalidReason.MISSING_CODE],
      ["", TemplateInvalidReason.MISSING_CODE],
      ["Your ${foo} code is ${code}", TemplateInvalidReason.UNKNOWN_VARIABLE],
      ["Your ${ org.name } code is ${code}", TemplateInvalidReason.UNKNOWN_VARIABLE],
      ["Your code is ${ code }", TemplateInvalidReason.UNKNOWN_VARIABLE],
      ["Your code is ${CODE}", TemplateInvalidReason.UNKNOWN_VARIABLE],
      ["Your code is ${}", TemplateInvalidReason.UNKNOWN_VARIABLE],
      ["Your ${org.name code is ${code}", TemplateInvalidReason.UNBALANCED_PLACEHOLDER],
      ["Your code is ${code", TemplateInvalidReason.UNBALANCED_PLACEHOLDER],
      ["Your code is ${code} ${", TemplateInvalidReason.UNBALANCED_PLACEHOLDER],
    ])("%j is refused with reason %s", (template, reason) => {
      const error = thrownBy(() => validateTemplate(template, org));
      expect(error.code).toBe(ErrorCode.TEMPLATE_INVALID);
      expect(error.extensions).toEqual({ code: ErrorCode.TEMPLATE_INVALID, reason });
    });

    it("names the unknown variable in the message", () => {
      expect(thrownBy(() => validateTemplate("${code} ${orgname}", org)).message).toContain("${orgname}");
    });
  });

  describe("TEMPLATE_TOO_LONG", () => {
    it("accepts a GSM-7 template exactly one segment long with the longest code", () => {
      const template = "x".repeat(150) + "${code}";
      expect(validateTemplate(template, org)).toMatchObject({ encoding: "GSM_7", characters: 160, segments: 1 });
    });

    it("refuses one character more, with encoding, characters and limit", () => {
      const error = thrownBy(() => validateTemplate("x".repeat(151) + "${code}", org));
      expect(error.code).toBe(ErrorCode.TEMPLATE_TOO_LONG);
      expect(error.extensions).toEqual({
        code: ErrorCode.TEMPLATE_TOO_LONG,
        encoding: "GSM_7",
        characters: 161,
        limit: 160,
      });
    });

    it("measures against maxCodeLength, not the code length in use today", () => {
      const template = "x".repeat(152) + "${code}";
      expect(validateTemplate(template, { orgName: "Acme", maxCodeLength: 8 }).characters).toBe(160);
      expect(thrownBy(() => validateTemplate(template, org)).extensions).toMatchObject({ characters: 162 });
    });

    it("counts extension characters twice: 75 € and a 10-digit code fit, 76 do not", () => {
      expect(validateTemplate("€".repeat(75) + "${code}", org).characters).toBe(160);
      const error = thrownBy(() => validateTemplate("€".repeat(76) + "${code}", org));
      expect(error.extensions).toMatchObject({ encoding: "GSM_7", characters: 162, limit: 160 });
    });

    it("measures the org name as substituted", () => {
      const template = "${org.name} " + "x".repeat(100) + " ${code}";
      expect(validateTemplate(template, { orgName: "A".repeat(48), maxCodeLength: 10 }).characters).toBe(160);
      expect(thrownBy(() => validateTemplate(template, { orgName: "A".repeat(49), maxCodeLength: 10 })).code).toBe(
        ErrorCode.TEMPLATE_TOO_LONG,
      );
    });

    it("applies the UCS-2 limit of 70 and names the characters that forced UCS-2", () => {
      const fits = "’" + "x".repeat(59) + "${code}";
      expect(validateTemplate(fits, org)).toMatchObject({ encoding: "UCS_2", characters: 70, segments: 1 });

      const error = thrownBy(() => validateTemplate("It’s " + "x".repeat(56) + "${code}", org));
      expect(error.extensions).toEqual({
        code: ErrorCode.TEMPLATE_TOO_LONG,
        encoding: "UCS_2",
        characters: 71,
        limit: 70,
      });
      expect(error.message).toContain("’");
      expect(error.message).toContain("U+2019");
      expect(error.message).toContain("UCS-2");
    });

    it("blames an org name that forces UCS-2 just the same", () => {
      const error = thrownBy(() =>
        validateTemplate("Your ${org.name} verification code is ${code}", {
          orgName: "Café Ünïcode Holdings International",
          maxCodeLength: 10,
        }),
      );
      expect(error.code).toBe(ErrorCode.TEMPLATE_TOO_LONG);
      expect(error.extensions).toMatchObject({ encoding: "UCS_2", limit: 70 });
      expect(error.message).toContain("ï");
    });

    it("counts the origin-bound line when the org binds codes to its domain", () => {
      const originLine = "\n@example.com #0123456789";
      const template = "x".repeat(160 - 10 - originLine.length) + "${code}";
      expect(validateTemplate(template, org).characters).toBe(160 - originLine.length);

      const analysis = validateTemplate(template, { ...org, originDomain: "example.com" });
      expect(analysis.characters).toBe(160);
      expect(analysis.text.endsWith(originLine)).toBe(true);

      const error = thrownBy(() => validateTemplate("x" + template, { ...org, originDomain: "example.com" }));
      expect(error.extensions).toMatchObject({ encoding: "GSM_7", characters: 161, limit: 160 });
      expect(error.message).toContain("origin-bound line");
    });
  });

  it("refuses an origin domain that the origin-bound line cannot carry", () => {
    for (const originDomain of ["https://example.com", "example.com:8443", "exa mple.com", "exämple.com", "a..b"]) {
      expect(thrownBy(() => validateTemplate("${code}", { ...org, originDomain })).code).toBe(ErrorCode.BAD_USER_INPUT);
    }
  });
});

describe("renderSms", () => {
  it("substitutes every occurrence of both variables", () => {
    expect(renderSms("${org.name}: ${code}. Again: ${code}", { code: "123456", orgName: "Acme" })).toBe(
      "Acme: 123456. Again: 123456",
    );
  });

  it("substitutes in one pass, so an org name is never read as template or replacement syntax", () => {
    expect(renderSms("${org.name} ${code}", { code: "42", orgName: "${code} $& $1 Ltd" })).toBe("${code} $& $1 Ltd 42");
  });

  it("appends the origin-bound line after a single newline", () => {
    const text = renderSms("Your ${org.name} code is ${code}", {
      code: "747723",
      orgName: "ExampleCo",
      originDomain: "example.com",
    });
    expect(text).toBe("Your ExampleCo code is 747723\n@example.com #747723");
    expect(text.split("\n").at(-1)).toMatch(/^@example\.com #747723$/);
  });

  it("adds no line without an origin domain", () => {
    for (const originDomain of [undefined, null, ""]) {
      expect(renderSms("Code ${code}", { code: "1", orgName: "Acme", originDomain })).toBe("Code 1");
    }
  });

  it("refuses to render a malformed template rather than send a broken SMS", () => {
    expect(thrownBy(() => renderSms("Code ${cod}", { code: "1", orgName: "Acme" })).code).toBe(
      ErrorCode.TEMPLATE_INVALID,
    );
  });

  it("renders a template too long for one segment, as a legacy template must still send", () => {
    const text = renderSms("x".repeat(200) + "${code}", { code: "123456", orgName: "Acme" });
    expect(analyseSms(text).segments).toBe(2);
  });
});

describe("ORIGIN_DOMAIN", () => {
  it.each(["login.example.com.", "login..example.com", "-login.example.com", ".", `${"a".repeat(64)}.example.com`])(
    "%j stops the start, where every SMS would have failed",
    (originDomain) => {
      expect(() => loadConfig({ ORIGIN_DOMAIN: originDomain })).toThrow(ConfigError);
    },
  );

  it("a host name that every SMS can end with starts", () => {
    expect(loadConfig({ ORIGIN_DOMAIN: "login.example.com" }).originDomain).toBe("login.example.com");
  });
});
