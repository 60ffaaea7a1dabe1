import type { ChallengePurpose, PhoneMethod, SmsEncoding } from "../phone/phone.enums";
import { DEFAULT_SMS_TEMPLATES, pickTranslation, type TemplateTranslation } from "./defaults";
import { analyseSms } from "./segments";
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

/** Where SMS templates come from: the defaults until an admin saves their own. */
export interface TemplateSource {
  smsTemplate(purpose: ChallengePurpose): Promise<{ template: string; translations: readonly TemplateTranslation[] }>;
}

export const defaultTemplates: TemplateSource = {
  smsTemplate: async (purpose) => DEFAULT_SMS_TEMPLATES[purpose],
};

/** Turns a passcode into the text or call script the user receives, in their language. */
export class MessageComposer {
  constructor(
    private readonly templates: TemplateSource,
    private readonly org: { orgName: string; originDomain: string | null },
  ) {}

  async compose(channel: PhoneMethod, purpose: ChallengePurpose, locale: string, code: string): Promise<ComposedMessage> {
    if (channel === "VOICE") {
      const script = voiceScript(locale, code, this.org.orgName);
      return { body: script.text, language: script.language, encoding: null, segments: 1 };
    }
    const { template, translations } = await this.templates.smsTemplate(purpose);
    const body = renderSms(pickTranslation(locale, template, translations), {
      code,
      orgName: this.org.orgName,
      originDomain: this.org.originDomain,
    });
    const analysis = analyseSms(body);
    return { body, language: null, encoding: analysis.encoding, segments: analysis.segments };
  }
}
