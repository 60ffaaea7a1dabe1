import { findLocaleMatch } from "./defaults";

export interface VoiceScript {
  /** BCP 47 language of the text-to-speech voice, e.g. "en-US". */
  language: string;
  /** Plain text; a provider adapter escapes it for SSML or TwiML. */
  text: string;
}

interface VoiceWording {
  /** The user locale this wording serves (matched exactly, then by language). */
  locale: string;
  language: string;
  /** Between digits, so the engine says each one ("1, 2, 3") rather than a number ("one hundred twenty-three"). */
  digitSeparator: string;
  compose(orgName: string, spokenCode: string): string;
}

const english = (orgName: string, spokenCode: string): string =>
  `Your ${orgName} verification code is: ${spokenCode}. Again, your code is: ${spokenCode}.`;
const french = (orgName: string, spokenCode: string): string =>
  `Votre code de vérification ${orgName} est : ${spokenCode}. Je répète, votre code est : ${spokenCode}.`;
const spanish = (orgName: string, spokenCode: string): string =>
  `Su código de verificación de ${orgName} es: ${spokenCode}. Repito, su código es: ${spokenCode}.`;
const portuguese = (orgName: string, spokenCode: string): string =>
  `O seu código de verificação ${orgName} é: ${spokenCode}. Repetindo, o seu código é: ${spokenCode}.`;

/*
 * Regional entries share their language's wording but pick a voice with the user's accent;
 * a locale with no entry of its own (de-AT, es-AR) falls back to its language's entry.
 */
const FALLBACK_WORDING: VoiceWording = { locale: "en", language: "en-US", digitSeparator: ", ", compose: english };

const VOICE_WORDINGS: readonly VoiceWording[] = [
  FALLBACK_WORDING,
  { locale: "en-GB", language: "en-GB", digitSeparator: ", ", compose: english },
  { locale: "en-AU", language: "en-AU", digitSeparator: ", ", compose: english },
  { locale: "fr", language: "fr-FR", digitSeparator: ", ", compose: french },
  { locale: "fr-CA", language: "fr-CA", digitSeparator: ", ", compose: french },
  {
    locale: "de",
    language: "de-DE",
    digitSeparator: ", ",
    compose: (orgName, spokenCode) =>
      `Ihr ${orgName} Bestätigungscode lautet: ${spokenCode}. Noch einmal, Ihr Code lautet: ${spokenCode}.`,
  },
  { locale: "es", language: "es-ES", digitSeparator: ", ", compose: spanish },
  { locale: "es-MX", language: "es-MX", digitSeparator: ", ", compose: spanish },
  { locale: "es-US", language: "es-US", digitSeparator: ", ", compose: spanish },
  {
    locale: "it",
    language: "it-IT",
    digitSeparator: ", ",
    compose: (orgName, spokenCode) =>
      `Il suo codice di verifica ${orgName} è: ${spokenCode}. Ripeto, il suo codice è: ${spokenCode}.`,
  },
  { locale: "pt", language: "pt-BR", digitSeparator: ", ", compose: portuguese },
  { locale: "pt-PT", language: "pt-PT", digitSeparator: ", ", compose: portuguese },
  {
    locale: "nl",
    language: "nl-NL",
    digitSeparator: ", ",
    compose: (orgName, spokenCode) =>
      `Uw verificatiecode van ${orgName} is: ${spokenCode}. Nogmaals, uw code is: ${spokenCode}.`,
  },
  {
    locale: "ja",
    language: "ja-JP",
    digitSeparator: "、",
    compose: (orgName, spokenCode) =>
      `${orgName}の確認コードは、${spokenCode}、です。もう一度繰り返します。確認コードは、${spokenCode}、です。`,
  },
  {
    locale: "zh",
    language: "zh-CN",
    digitSeparator: "，",
    compose: (orgName, spokenCode) => `您的${orgName}验证码是：${spokenCode}。再说一遍，您的验证码是：${spokenCode}。`,
  },
  {
    locale: "zh-TW",
    language: "zh-TW",
    digitSeparator: "，",
    compose: (orgName, spokenCode) => `您的${orgName}驗證碼是：${spokenCode}。再說一遍，您的驗證碼是：${spokenCode}。`,
  },
  {
    locale: "ko",
    language: "ko-KR",
    digitSeparator: ", ",
    compose: (orgName, spokenCode) =>
      `${orgName} 인증번호는 ${spokenCode} 입니다. 다시 한 번 말씀드립니다. 인증번호는 ${spokenCode} 입니다.`,
  },
];

/** Locales with a voice script of their own; others fall back by language, then to English. */
export const VOICE_SCRIPT_LOCALES: readonly string[] = VOICE_WORDINGS.map((wording) => wording.locale);

/**
 * What the voice call says: the code character by character, twice, since a listener cannot
 * scroll back, in the user's locale (exact tag, then language, then English).
 */
export function voiceScript(locale: string, code: string, orgName: string): VoiceScript {
  const wording = findLocaleMatch(locale, VOICE_WORDINGS) ?? FALLBACK_WORDING;
  const spokenCode = [...code].join(wording.digitSeparator);
  return { language: wording.language, text: wording.compose(orgName, spokenCode) };
}
