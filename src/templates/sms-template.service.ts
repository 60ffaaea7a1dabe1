import type { EntityManager } from "typeorm";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import { AUTHENTICATOR_LIMITS, type PhoneAuthenticatorService } from "../phone/phone-authenticator.service";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { AppError, badInput, ErrorCode } from "../platform/errors";
import { canonicalLocale } from "../users/user.service";
import type { TemplateSource } from "./composer";
import { ChallengePurpose, DEFAULT_SMS_TEMPLATES, type TemplateTranslation } from "./defaults";
import { analyseSms, type SmsAnalysis } from "./segments";
import { SmsTemplateRecord } from "./sms-template.entity";
import { renderSms, validateTemplate } from "./template";

export interface SmsTemplateView {
  purpose: ChallengePurpose;
  template: string;
  translations: TemplateTranslation[];
  legacy: boolean;
}

export interface SmsTemplateChange {
  purpose: ChallengePurpose;
  template: string;
  /** Replaces every translation; omitted or null: none, so every locale gets `template`. */
  translations?: readonly TemplateTranslation[] | null;
}

/** A template as another system stored it: purpose, text and translations, nothing checked for length. */
export type LegacySmsTemplate = SmsTemplateChange;

export interface SmsTemplateServiceDependencies {
  db: Database;
  clock: Clock;
  org: { orgName: string; originDomain: string | null };
  authenticator: PhoneAuthenticatorService;
  log: LogService;
}

const PURPOSES: readonly ChallengePurpose[] = Object.values(ChallengePurpose);

/**
 * Every admin-saved template must fit one SMS with the longest code the authenticator can be
 * set to, not only today's length: otherwise raising codeLength later would silently turn
 * each message into two.
 */
const LONGEST_CODE_LENGTH = AUTHENTICATOR_LIMITS.codeLength.max;

export class SmsTemplateService {
  constructor(private readonly deps: SmsTemplateServiceDependencies) {}

  /** All four purposes, in enum order; a purpose never saved shows its defaults. */
  async list(): Promise<SmsTemplateView[]> {
    const saved = await this.deps.db.manager.find(SmsTemplateRecord);
    const byPurpose = new Map(saved.map((record) => [record.purpose, record]));
    return PURPOSES.map((purpose) => {
      const record = byPurpose.get(purpose);
      return record ? toView(record) : defaultView(purpose);
    });
  }

  /**
   * Saves a purpose's template and translations, all of them checked first (well-formed, one
   * segment with the longest code and the origin line), so a failure writes nothing. Saving
   * clears `legacy`: a changed template is held to today's rules.
   */
  async update(change: SmsTemplateChange, initiator: Initiator): Promise<SmsTemplateView> {
    requirePurpose(change.purpose);
    const translations = canonicalTranslations(change.translations ?? [], "input.translations");
    this.validate(change.template, null);
    for (const translation of translations) this.validate(translation.template, translation.locale);
    return this.save(change.purpose, change.template, translations, initiator);
  }

  /**
   * Stores templates carried over from before length validation existed (as Okta keeps
   * those), marked legacy and sent as written, concatenated when long. Well-formedness is
   * still required: a template without `${code}` would send no code, and one naming an
   * unknown variable could not be rendered at all, so either would break every challenge.
   * All records or none.
   */
  async importLegacyTemplates(records: readonly LegacySmsTemplate[], initiator: Initiator): Promise<SmsTemplateView[]> {
    const checked = records.map((record, index) => {
      requirePurpose(record.purpose, `records[${index}].purpose`);
      const translations = canonicalTranslations(record.translations ?? [], `records[${index}].translations`);
      assertRenderable(record.template, `records[${index}]`);
      for (const translation of translations) assertRenderable(translation.template, `records[${index}] (${translation.locale})`);
      return { purpose: record.purpose, template: record.template, translations };
    });
    const purposes = checked.map((record) => record.purpose);
    const repeated = purposes.find((purpose, index) => purposes.indexOf(purpose) !== index);
    if (repeated) throw badInput("records", `${repeated} appears more than once`);

    const now = this.deps.clock.now();
    return this.deps.db.transaction(async (tx) => {
      const views: SmsTemplateView[] = [];
      for (const record of checked) {
        const row = tx.manager.create(SmsTemplateRecord, { ...record, legacy: true, updated: now });
        await tx.manager.upsert(SmsTemplateRecord, row, ["purpose"]);
        await this.recordUpdate(tx, initiator, row);
        views.push(toView(row));
      }
      return views;
    });
  }

  /**
   * What a template would send today: rendered with a sample code of the authenticator's
   * current length, the org name and the origin line. Long texts are allowed here (an admin
   * may be drafting a multi-part operator text), so only a malformed template is refused.
   * `locale`, when given, must be a well-formed tag: rendering does not depend on it today.
   */
  async preview(template: string, locale?: string | null): Promise<SmsAnalysis> {
    if (locale != null) canonicalLocale(locale, "locale");
    const { codeLength } = await this.deps.authenticator.get();
    return analyseSms(renderSms(template, { ...this.renderOptions(), code: sampleCode(codeLength) }));
  }

  /**
   * The templates whose message no longer fits one segment with today's code length, ORG_NAME
   * and ORIGIN_DOMAIN: a saved one was checked against those of the day it was saved, and a
   * default against none (a long ORG_NAME can take a CJK default past 70). Their messages go out
   * in several parts. Legacy templates are left out: they are sent as written on purpose.
   */
  async beyondOneSegment(): Promise<Array<{ purpose: ChallengePurpose; locale: string | null; encoding: string; characters: number; limit: number }>> {
    const [views, settings] = await Promise.all([this.list(), this.deps.authenticator.get()]);
    const found = [];
    for (const view of views.filter((one) => !one.legacy)) {
      for (const { locale, template } of [{ locale: null, template: view.template }, ...view.translations]) {
        try {
          validateTemplate(template, { ...this.renderOptions(), maxCodeLength: settings.codeLength });
        } catch (error: unknown) {
          if (!(error instanceof AppError) || error.code !== ErrorCode.TEMPLATE_TOO_LONG) throw error;
          const { encoding, characters, limit } = error.extensions as { encoding: string; characters: number; limit: number };
          found.push({ purpose: view.purpose, locale, encoding, characters, limit });
        }
      }
    }
    return found;
  }

  private validate(template: string, locale: string | null): void {
    try {
      validateTemplate(template, { ...this.renderOptions(), maxCodeLength: LONGEST_CODE_LENGTH });
    } catch (error: unknown) {
      if (locale === null || !(error instanceof AppError)) throw error;
      // Same code and extensions (errors.md), but the admin must learn which translation failed.
      throw new AppError(error.code, `The ${locale} translation: ${error.message}`, withoutCode(error.extensions));
    }
  }

  private renderOptions(): { orgName: string; originDomain: string | null } {
    return { orgName: this.deps.org.orgName, originDomain: this.deps.org.originDomain };
  }

  private save(purpose: ChallengePurpose, template: string, translations: TemplateTranslation[], initiator: Initiator): Promise<SmsTemplateView> {
    return this.deps.db.transaction(async (tx) => {
      const row = tx.manager.create(SmsTemplateRecord, { purpose, template, translations, legacy: false, updated: this.deps.clock.now() });
      // An upsert, not a read then save: two first saves at once must not collide on the key.
      await tx.manager.upsert(SmsTemplateRecord, row, ["purpose"]);
      await this.recordUpdate(tx, initiator, row);
      return toView(row);
    });
  }

  /** The text itself goes in the event: a template rewritten to phish is what an audit of this looks for. */
  private recordUpdate(tx: Transaction, initiator: Initiator, row: SmsTemplateRecord) {
    return this.deps.log.recordChange(tx, initiator, {
      eventType: EventType.SMS_TEMPLATE_UPDATE,
      displayMessage: "Update SMS template",
      target: [{ id: row.purpose, type: "SmsTemplate" }],
      debugContext: { template: row.template, locales: row.translations.map((translation) => translation.locale).join(","), legacy: row.legacy },
    });
  }
}

/**
 * The composer's source once admins can save templates. Deliberately uncached: each SMS
 * reads one row by primary key next to the several writes it makes anyway, and a cache
 * invalidated only in the instance that saved would keep sending the old text from every
 * other instance behind the same database.
 */
export class DatabaseTemplateSource implements TemplateSource {
  constructor(private readonly db: Database) {}

  async smsTemplate(purpose: ChallengePurpose, manager: EntityManager = this.db.manager): Promise<{ template: string; translations: readonly TemplateTranslation[] }> {
    const record = await this.db.statements.findOneBy(manager, SmsTemplateRecord, { purpose });
    return record ?? DEFAULT_SMS_TEMPLATES[purpose];
  }
}

function toView(record: SmsTemplateRecord): SmsTemplateView {
  return {
    purpose: record.purpose,
    template: record.template,
    translations: record.translations.map(({ locale, template }) => ({ locale, template })),
    legacy: record.legacy,
  };
}

function defaultView(purpose: ChallengePurpose): SmsTemplateView {
  const defaults = DEFAULT_SMS_TEMPLATES[purpose];
  return { purpose, template: defaults.template, translations: defaults.translations.map((t) => ({ ...t })), legacy: false };
}

function requirePurpose(purpose: string, field = "input.purpose"): asserts purpose is ChallengePurpose {
  if (!(PURPOSES as readonly string[]).includes(purpose)) throw badInput(field, `must be one of ${PURPOSES.join(", ")}`);
}

/** Locales in canonical form (pt-br becomes pt-BR) and each at most once, since only the first of two would ever match. */
function canonicalTranslations(translations: readonly TemplateTranslation[], field: string): TemplateTranslation[] {
  const seen = new Set<string>();
  return translations.map((translation, index) => {
    const locale = canonicalLocale(translation.locale, `${field}[${index}].locale`);
    if (seen.has(locale)) throw badInput(`${field}[${index}].locale`, `${locale} has more than one translation`);
    seen.add(locale);
    return { locale, template: translation.template };
  });
}

function assertRenderable(template: string, what: string): void {
  try {
    renderSms(template, { code: "0", orgName: "" });
  } catch (error: unknown) {
    if (!(error instanceof AppError)) throw error;
    throw new AppError(error.code, `${what}: ${error.message}`, withoutCode(error.extensions));
  }
}

/** AppError sets `code` itself from its first argument. */
function withoutCode(extensions: Record<string, unknown>): Record<string, unknown> {
  const { code: _code, ...rest } = extensions;
  return rest;
}

/** 1234567890 cut to length: obviously a sample, and as long as a real code. */
function sampleCode(length: number): string {
  return Array.from({ length }, (_, index) => String((index + 1) % 10)).join("");
}
