/**
 * Carries SMS templates over from a system that did not check their length, marked legacy:
 *
 *   node -r ts-node/register/transpile-only scripts/import-templates.ts templates.json
 *
 * templates.json is an array of
 *   { "purpose": "FACTOR_VERIFY", "template": "... ${code} ...",
 *     "translations": [{ "locale": "fr", "template": "... ${code} ..." }] }
 * with purpose one of PHONE_VERIFICATION, FACTOR_VERIFY, PASSWORD_RESET, ACCOUNT_UNLOCK.
 *
 * It writes to the database the gateway's environment names (DATABASE_URL, DATABASE_SCHEMA,
 * DATA_DIR), which must be migrated already (npm run migration:run). A legacy template is sent
 * as written, as several parts when long, until an admin saves it again; it must still contain
 * ${code} and no unknown variable. Every record is imported, or none.
 */
import "reflect-metadata";
import fs from "node:fs";
import { SYSTEM_INITIATOR } from "../src/log/initiator";
import { LogService } from "../src/log/log.service";
import { PhoneAuthenticatorService } from "../src/phone/phone-authenticator.service";
import { systemClock } from "../src/platform/clock";
import { loadConfig } from "../src/platform/config";
import { createDataSource, ensureSchema } from "../src/platform/data-source";
import { Database } from "../src/platform/database";
import { createGatewayPubSub } from "../src/platform/pubsub";
import type { ChallengePurpose } from "../src/templates/defaults";
import { SmsTemplateService, type LegacySmsTemplate } from "../src/templates/sms-template.service";

function parseRecords(json: unknown): LegacySmsTemplate[] {
  if (!Array.isArray(json)) throw new Error("The file must hold a JSON array of { purpose, template, translations? }");
  return json.map((entry: unknown, index) => {
    const record = entry as { purpose?: unknown; template?: unknown; translations?: unknown } | null;
    if (typeof record?.purpose !== "string" || typeof record.template !== "string") {
      throw new Error(`Record ${index} needs a string purpose and a string template`);
    }
    const translations = record.translations ?? [];
    if (!Array.isArray(translations)) throw new Error(`Record ${index}: translations must be an array`);
    return {
      // The service refuses an unknown purpose with the list of known ones.
      purpose: record.purpose as ChallengePurpose,
      template: record.template,
      translations: translations.map((item: unknown, position) => {
        const translation = item as { locale?: unknown; template?: unknown } | null;
        if (typeof translation?.locale !== "string" || typeof translation.template !== "string") {
          throw new Error(`Record ${index}, translation ${position}: needs a string locale and a string template`);
        }
        return { locale: translation.locale, template: translation.template };
      }),
    };
  });
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error("usage: import-templates.ts <file.json>");
  const records = parseRecords(JSON.parse(fs.readFileSync(file, "utf8")));

  const config = loadConfig();
  await ensureSchema(config);
  const dataSource = createDataSource(config);
  await dataSource.initialize();
  try {
    if (await dataSource.showMigrations()) throw new Error("The database has pending migrations: run `npm run migration:run` first");
    const db = new Database(dataSource);
    // Its events reach the System Log's table; a running gateway's live subscribers are not told.
    const log = new LogService(systemClock, createGatewayPubSub(), db.statements);
    const service = new SmsTemplateService({
      db,
      clock: systemClock,
      org: config,
      authenticator: new PhoneAuthenticatorService(db, systemClock, log),
      log,
    });
    const imported = await service.importLegacyTemplates(records, SYSTEM_INITIATOR);
    console.log(`Imported ${imported.length} legacy template(s): ${imported.map((view) => view.purpose).join(", ")}`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
