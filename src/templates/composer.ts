import type { EntityManager } from "typeorm";
import type { ChallengePurpose, PhoneMethod, SmsEncoding } from "../phone/phone.enums";
import { RecentResults } from "../platform/recent-results";
import { DEFAULT_SMS_TEMPLATES, pickTranslation, type TemplateTranslation } from "./defaults";
import { analyseSms, type SmsAnalysis } from "./segments";
import { renderSms } from "./template";
import { voiceScript } from "./voice-scripts";

export interface ComposedMessage {
  body: string;
  /** Calls: the voice language; texts: null. */
  language: string | null;
  encoding: SmsEncoding | null;
  /** SMS segments, or estimated call minutes. */
  segments: number;
}

/**
 * Where SMS templates come from: the defaults until an admin saves their own. A send reads its
 * template through the manager of the transaction it runs in: on PostgreSQL a read of its own
 * would wait for a second pooled connection while holding one, and a burst of sends holding
 * every connection would wait on each other until the pool's timeout.
 */
export interface TemplateSource {
  smsTemplate(purpose: ChallengePurpose, manager?: EntityManager): Promise<{ template: string; translations: readonly TemplateTranslation[] }>;
}

export const defaultTemplates: TemplateSource = {
  smsTemplate: async (purpose) => DEFAULT_SMS_TEMPLATES[purpose],
};

const ALL_DIGITS = /^[0-9]+$/;

/** Turns a passcode into the text or call script the user receives, in their language. */
export class MessageComposer {
  private readonly analyses = new RecentResults<SmsAnalysis>(256);

  constructor(
    private readonly templates: TemplateSource,
    private readonly org: { orgName: string; originDomain: string | null },
  ) {}

  async compose(channel: PhoneMethod, purpose: ChallengePurpose, locale: string, code: string, manager?: EntityManager): Promise<ComposedMessage> {
    if (channel === "VOICE") {
      const script = voiceScript(locale, code, this.org.orgName);
      return { body: script.text, language: script.language, encoding: null, segments: 1 };
    }
    const { template, translations } = await this.templates.smsTemplate(purpose, manager);
    const text = pickTranslation(locale, template, translations);
    const render = (withCode: string) => renderSms(text, { code: withCode, orgName: this.org.orgName, originDomain: this.org.originDomain });
    const body = render(code);
    // The code is all that changes from one send to the next, and every digit travels alike (one
    // GSM-7 septet, one UCS-2 unit, a grapheme of its own): the same text with zeros for the code
    // has the same encoding and segments, and is measured once per template and code length.
    const shape = ALL_DIGITS.test(code) ? render("0".repeat(code.length)) : null;
    const analysis = shape === null ? analyseSms(body) : this.analyses.get(shape, () => analyseSms(shape));
    return { body, language: null, encoding: analysis.encoding, segments: analysis.segments };
  }
}
