import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import {
  PreviewSmsTemplateDocument,
  SmsTemplatesDocument,
  UpdatePhoneAuthenticatorDocument,
  UpdateSmsTemplateDocument,
  type SmsTemplateInput,
} from "../../../src/generated/graphql";
import { SYSTEM_INITIATOR } from "../../../src/log/initiator";
import { DEFAULT_SMS_TEMPLATES } from "../../../src/templates/defaults";
import { SmsTemplateRecord } from "../../../src/templates/sms-template.entity";
import { engine, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, latestSimulated, receivedCode } from "../../support/phone";

const run = promisify(execFile);
const REPOSITORY = path.join(__dirname, "..", "..", "..");

/** Admin-saved SMS templates over HTTP: the length and syntax rules, localisation, preview and legacy imports. */
describe(`SMS templates on ${engine}`, () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const update = (input: SmsTemplateInput) => gateway.admin.request(UpdateSmsTemplateDocument, { input });
  const failedUpdate = (input: SmsTemplateInput) => gateway.admin.fails(UpdateSmsTemplateDocument, { input });
  const savedRows = () => gateway.db.manager.find(SmsTemplateRecord, { order: { purpose: "ASC" } });
  const listed = async () => (await gateway.admin.ok(SmsTemplatesDocument)).smsTemplates;

  /** The SMS body a new user with `locale` receives when enrolling `phoneNumber`, with its code. */
  async function enrolledText(phoneNumber: string, locale?: string) {
    const user = await createUser(gateway, { locale });
    const { challenge } = await enroll(gateway, user.id, phoneNumber, "SMS");
    const code = await receivedCode(gateway, phoneNumber);
    const message = await latestSimulated(gateway, phoneNumber);
    return { body: message?.body, code, sent: challenge.messages[0] };
  }

  test("every purpose is listed with its defaults until saved, none legacy", async () => {
    expect(await listed()).toEqual(
      (["PHONE_VERIFICATION", "FACTOR_VERIFY", "PASSWORD_RESET", "ACCOUNT_UNLOCK"] as const).map((purpose) => ({
        purpose,
        template: DEFAULT_SMS_TEMPLATES[purpose].template,
        translations: DEFAULT_SMS_TEMPLATES[purpose].translations,
        legacy: false,
      })),
    );
    expect(await savedRows()).toEqual([]);
  });

  test("only admins read, preview or change templates", async () => {
    expect((await gateway.anonymous.fails(SmsTemplatesDocument)).code).toBe("UNAUTHENTICATED");
    expect((await gateway.anonymous.fails(PreviewSmsTemplateDocument, { template: "${code}" })).code).toBe("UNAUTHENTICATED");
    expect(
      (await gateway.anonymous.fails(UpdateSmsTemplateDocument, { input: { purpose: "FACTOR_VERIFY", template: "${code}" } })).code,
    ).toBe("UNAUTHENTICATED");
  });

  test("a saved translation reaches a user by exact tag, then by language; other locales get the saved default", async () => {
    const result = await update({
      purpose: "PHONE_VERIFICATION",
      template: "Default: ${code} for ${org.name}",
      translations: [
        { locale: "pt-br", template: "PT-BR: ${code} para ${org.name}" },
        { locale: "fr", template: "FR: ${code} pour ${org.name}" },
      ],
    });
    expect(result.errors).toBeUndefined();
    const saved = {
      purpose: "PHONE_VERIFICATION",
      template: "Default: ${code} for ${org.name}",
      translations: [
        { locale: "pt-BR", template: "PT-BR: ${code} para ${org.name}" },
        { locale: "fr", template: "FR: ${code} pour ${org.name}" },
      ],
      legacy: false,
    };
    expect(result.data?.updateSmsTemplate).toEqual(saved);
    expect((await listed()).find((template) => template.purpose === "PHONE_VERIFICATION")).toEqual(saved);

    const exact = await enrolledText("+447400900001", "pt-BR");
    expect(exact.body).toBe(`PT-BR: ${exact.code} para Ringfence`);
    const language = await enrolledText("+447400900002", "fr-CA");
    expect(language.body).toBe(`FR: ${language.code} pour Ringfence`);
    // The saved translations replace the default ones, so German falls through to the saved default.
    const fallback = await enrolledText("+447400900003", "de");
    expect(fallback.body).toBe(`Default: ${fallback.code} for Ringfence`);
  });

  test("a template without ${code} is TEMPLATE_INVALID", async () => {
    const error = await failedUpdate({ purpose: "FACTOR_VERIFY", template: "Your ${org.name} code is ready" });
    expect(error.code).toBe("TEMPLATE_INVALID");
    expect(error.extensions).toEqual({ code: "TEMPLATE_INVALID", reason: "MISSING_CODE" });
  });

  test("an unknown variable is TEMPLATE_INVALID, and the message names it", async () => {
    const error = await failedUpdate({ purpose: "FACTOR_VERIFY", template: "Hi ${user.firstName}, your code is ${code}" });
    expect(error.extensions).toEqual({ code: "TEMPLATE_INVALID", reason: "UNKNOWN_VARIABLE" });
    expect(error.message).toContain("${user.firstName}");
  });

  test("161 GSM-7 characters once rendered with a 10-digit code is TEMPLATE_TOO_LONG; 160 fits", async () => {
    const error = await failedUpdate({ purpose: "FACTOR_VERIFY", template: "${code}" + "a".repeat(151) });
    expect(error.extensions).toEqual({ code: "TEMPLATE_TOO_LONG", encoding: "GSM_7", characters: 161, limit: 160 });
    expect(error.message).toContain("10-digit code");
    expect((await update({ purpose: "FACTOR_VERIFY", template: "${code}" + "a".repeat(150) })).errors).toBeUndefined();
  });

  test("GSM-7 extension characters count twice and push a template over", async () => {
    expect((await update({ purpose: "FACTOR_VERIFY", template: "${code}" + "a".repeat(148) })).errors).toBeUndefined();
    // The same number of typed characters, three of them € (escape + code each).
    const error = await failedUpdate({ purpose: "FACTOR_VERIFY", template: "${code}" + "a".repeat(145) + "€€€" });
    expect(error.extensions).toEqual({ code: "TEMPLATE_TOO_LONG", encoding: "GSM_7", characters: 161, limit: 160 });
  });

  test("a curly apostrophe makes the text UCS-2, where one SMS holds 70", async () => {
    expect((await update({ purpose: "FACTOR_VERIFY", template: "${code} don't" + "a".repeat(55) })).errors).toBeUndefined();
    const error = await failedUpdate({ purpose: "FACTOR_VERIFY", template: "${code} don’t" + "a".repeat(55) });
    expect(error.extensions).toEqual({ code: "TEMPLATE_TOO_LONG", encoding: "UCS_2", characters: 71, limit: 70 });
    expect(error.message).toContain("U+2019");
  });

  test("a translation is held to the same rules, and the error says which one", async () => {
    const error = await failedUpdate({
      purpose: "FACTOR_VERIFY",
      template: "Your code is ${code}",
      translations: [{ locale: "ja", template: "${code}" + "コ".repeat(61) }],
    });
    expect(error.extensions).toEqual({ code: "TEMPLATE_TOO_LONG", encoding: "UCS_2", characters: 71, limit: 70 });
    expect(error.message).toContain("ja translation");
  });

  test("preview renders with the authenticator's code length and says which characters force UCS-2", async () => {
    const { previewSmsTemplate } = await gateway.admin.ok(PreviewSmsTemplateDocument, {
      template: "Don’t share ${code} with anyone — ${org.name}",
      locale: "en-GB",
    });
    expect(previewSmsTemplate).toEqual({
      text: "Don’t share 123456 with anyone — Ringfence",
      encoding: "UCS_2",
      characters: 42,
      segments: 1,
      nonGsmCharacters: ["’", "—"],
    });

    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 8 } });
    try {
      const { previewSmsTemplate: longer } = await gateway.admin.ok(PreviewSmsTemplateDocument, { template: "Code ${code}" });
      expect(longer).toMatchObject({ text: "Code 12345678", encoding: "GSM_7", characters: 13, nonGsmCharacters: [] });
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 6 } });
    }
  });

  test("preview allows a multi-part text but refuses a malformed one", async () => {
    const { previewSmsTemplate } = await gateway.admin.ok(PreviewSmsTemplateDocument, { template: "${code} " + "a".repeat(300) });
    expect(previewSmsTemplate).toMatchObject({ encoding: "GSM_7", characters: 307, segments: 3 });
    const error = await gateway.admin.fails(PreviewSmsTemplateDocument, { template: "${code} ${org}" });
    expect(error.extensions).toEqual({ code: "TEMPLATE_INVALID", reason: "UNKNOWN_VARIABLE" });
    expect((await gateway.admin.fails(PreviewSmsTemplateDocument, { template: "${code}", locale: "not a locale" })).code).toBe(
      "BAD_USER_INPUT",
    );
  });

  test("nothing is written when the template or any translation fails", async () => {
    const before = await savedRows();
    const valid = { locale: "fr", template: "Votre code : ${code}" };
    const attempts: Array<[SmsTemplateInput, string]> = [
      [
        { purpose: "ACCOUNT_UNLOCK", template: "Unlock with ${code}", translations: [valid, { locale: "de", template: "Code ${kode}" }] },
        "TEMPLATE_INVALID",
      ],
      [
        {
          purpose: "ACCOUNT_UNLOCK",
          template: "Unlock with ${code}",
          translations: [valid, { locale: "de", template: "${code}" + "ß".repeat(151) }],
        },
        "TEMPLATE_TOO_LONG",
      ],
      [
        { purpose: "ACCOUNT_UNLOCK", template: "Unlock with ${code}", translations: [valid, { locale: "FR", template: "Code : ${code}" }] },
        "BAD_USER_INPUT",
      ],
      [
        { purpose: "ACCOUNT_UNLOCK", template: "Unlock with ${code}", translations: [{ locale: "no such tag!", template: "${code}" }] },
        "BAD_USER_INPUT",
      ],
      // Well-formed, but matched as en-Latn-US: it would be sent to English readers.
      [{ purpose: "ACCOUNT_UNLOCK", template: "Unlock with ${code}", translations: [{ locale: "und", template: "${code}" }] }, "BAD_USER_INPUT"],
      [{ purpose: "ACCOUNT_UNLOCK", template: "Unlock", translations: [valid] }, "TEMPLATE_INVALID"],
    ];
    for (const [input, code] of attempts) expect((await failedUpdate(input)).code).toBe(code);
    expect(await savedRows()).toEqual(before);
    expect((await listed()).find((template) => template.purpose === "ACCOUNT_UNLOCK")).toMatchObject({
      template: DEFAULT_SMS_TEMPLATES.ACCOUNT_UNLOCK.template,
      legacy: false,
    });
  });

  test("legacy: an imported long template is listed as legacy, sent multi-part, and validated again once changed", async () => {
    const long =
      "Your Ringfence verification code is ${code}. " +
      "Never share it with anyone, not even with our support staff, who will never ask you for it. ".repeat(2);
    const file = path.join(gateway.config.dataDir, "legacy-templates.json");
    fs.writeFileSync(file, JSON.stringify([{ purpose: "PHONE_VERIFICATION", template: long }]));
    const { stdout } = await run(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/import-templates.ts", file], {
      cwd: REPOSITORY,
      env: {
        ...process.env,
        DATA_DIR: gateway.config.dataDir,
        DATABASE_URL: gateway.config.databaseUrl ?? "",
        DATABASE_SCHEMA: gateway.config.databaseSchema ?? "",
        LOG_LEVEL: "silent",
      },
    });
    expect(stdout).toContain("Imported 1 legacy template(s): PHONE_VERIFICATION");
    expect((await listed()).find((template) => template.purpose === "PHONE_VERIFICATION")).toEqual({
      purpose: "PHONE_VERIFICATION",
      template: long,
      translations: [],
      legacy: true,
    });

    const received = await enrolledText("+447400900004", "pt-BR");
    expect(received.body).toBe(long.replace("${code}", received.code));
    expect(received.sent).toMatchObject({ encoding: "GSM_7", segments: 2 });

    const error = await failedUpdate({ purpose: "PHONE_VERIFICATION", template: long });
    expect(error.extensions).toMatchObject({ code: "TEMPLATE_TOO_LONG", encoding: "GSM_7", limit: 160 });
    expect((await listed()).find((template) => template.purpose === "PHONE_VERIFICATION")?.legacy).toBe(true);

    const { data } = await update({ purpose: "PHONE_VERIFICATION", template: "Your Ringfence code is ${code}. Never share it." });
    expect(data?.updateSmsTemplate).toMatchObject({ legacy: false, translations: [] });
    const after = await enrolledText("+447400900005");
    expect(after.body).toBe(`Your Ringfence code is ${after.code}. Never share it.`);
    expect(after.sent).toMatchObject({ segments: 1 });
  });

  test("a legacy import must still be renderable, and writes nothing when one record is not", async () => {
    const before = await savedRows();
    await expect(
      gateway.services.smsTemplates.importLegacyTemplates(
        [
          { purpose: "PASSWORD_RESET", template: "Reset: ${code}" },
          { purpose: "ACCOUNT_UNLOCK", template: "Unlock your account" },
        ],
        SYSTEM_INITIATOR,
      ),
    ).rejects.toMatchObject({ code: "TEMPLATE_INVALID", extensions: expect.objectContaining({ reason: "MISSING_CODE" }) });
    expect(await savedRows()).toEqual(before);
  });
});

describe("SMS templates checked again at start", () => {
  test("with the default ORG_NAME, every template fits one segment", async () => {
    const gateway = await startTestGateway();
    try {
      expect(await gateway.services.smsTemplates.beyondOneSegment()).toEqual([]);
    } finally {
      await gateway.stop();
    }
  });

  test("a 64-character ORG_NAME takes the CJK defaults past one UCS-2 segment, and they are named", async () => {
    const gateway = await startTestGateway({ ORG_NAME: "Ringfence Identity Services for the Greater Metropolitan Region X".slice(0, 64) });
    try {
      const found = await gateway.services.smsTemplates.beyondOneSegment();
      expect(new Set(found.map((one) => one.locale))).toEqual(new Set(["ja", "zh", "zh-TW", "ko"]));
      const korean = found.find((one) => one.purpose === "PASSWORD_RESET" && one.locale === "ko");
      expect(korean).toMatchObject({ encoding: "UCS_2", limit: 70 });
      expect(korean!.characters).toBeGreaterThan(70);
    } finally {
      await gateway.stop();
    }
  });
});
