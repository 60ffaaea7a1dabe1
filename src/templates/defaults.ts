export const ChallengePurpose = {
  PHONE_VERIFICATION: "PHONE_VERIFICATION",
  FACTOR_VERIFY: "FACTOR_VERIFY",
  PASSWORD_RESET: "PASSWORD_RESET",
  ACCOUNT_UNLOCK: "ACCOUNT_UNLOCK",
} as const;
export type ChallengePurpose = (typeof ChallengePurpose)[keyof typeof ChallengePurpose];

export interface TemplateTranslation {
  /** BCP 47 tag. */
  locale: string;
  template: string;
}

export interface DefaultSmsTemplate {
  template: string;
  translations: readonly TemplateTranslation[];
}

/*
 * Latin-script wordings keep to the GSM-7 alphabet so that a message holds 160 characters
 * rather than 70: straight apostrophes, and no á í ó ú ç ã õ ê (GSM-7 has é è à ù ì ò ä ö ü ñ
 * ß Ç). Spanish and Portuguese therefore say "use 123456 to ..." instead of "código".
 * The CJK ones are UCS-2 whatever we do, so they are kept short. zh is Simplified; zh-TW is the
 * Traditional wording, which the matcher gives zh-HK and zh-Hant users too, as the voice scripts do.
 */
export const DEFAULT_SMS_TEMPLATES: Readonly<Record<ChallengePurpose, DefaultSmsTemplate>> = {
  PHONE_VERIFICATION: {
    template: "Your ${org.name} verification code is ${code}",
    translations: [
      { locale: "en", template: "Your ${org.name} verification code is ${code}" },
      { locale: "fr", template: "Votre code de vérification ${org.name} est ${code}" },
      { locale: "de", template: "Ihr ${org.name} Bestätigungscode lautet ${code}" },
      { locale: "es", template: "${org.name}: usa ${code} para verificar tu teléfono" },
      { locale: "it", template: "Il tuo codice di verifica ${org.name} è ${code}" },
      { locale: "pt", template: "${org.name}: use ${code} para verificar o seu telefone" },
      { locale: "nl", template: "Je verificatiecode voor ${org.name} is ${code}" },
      { locale: "ja", template: "${org.name}の確認コード: ${code}" },
      { locale: "zh", template: "您的${org.name}验证码是${code}" },
      { locale: "zh-TW", template: "您的${org.name}驗證碼是${code}" },
      { locale: "ko", template: "${org.name} 인증번호: ${code}" },
    ],
  },
  FACTOR_VERIFY: {
    template: "Your ${org.name} sign-in code is ${code}",
    translations: [
      { locale: "en", template: "Your ${org.name} sign-in code is ${code}" },
      { locale: "fr", template: "Votre code de connexion ${org.name} est ${code}" },
      { locale: "de", template: "Ihr ${org.name} Anmeldecode lautet ${code}" },
      { locale: "es", template: "${org.name}: usa ${code} para confirmar tu identidad" },
      { locale: "it", template: "Il tuo codice di accesso ${org.name} è ${code}" },
      { locale: "pt", template: "${org.name}: use ${code} para confirmar a sua identidade" },
      { locale: "nl", template: "Je inlogcode voor ${org.name} is ${code}" },
      { locale: "ja", template: "${org.name}のログインコード: ${code}" },
      { locale: "zh", template: "您的${org.name}登录验证码是${code}" },
      { locale: "zh-TW", template: "您的${org.name}登入驗證碼是${code}" },
      { locale: "ko", template: "${org.name} 로그인 인증번호: ${code}" },
    ],
  },
  PASSWORD_RESET: {
    template: "Your ${org.name} password reset code is ${code}",
    translations: [
      { locale: "en", template: "Your ${org.name} password reset code is ${code}" },
      { locale: "fr", template: "Votre code ${org.name} pour réinitialiser votre mot de passe est ${code}" },
      { locale: "de", template: "Ihr ${org.name} Code zum Zurücksetzen des Passworts lautet ${code}" },
      { locale: "es", template: "${org.name}: usa ${code} para restablecer tu contraseña" },
      { locale: "it", template: "Il tuo codice ${org.name} per reimpostare la password è ${code}" },
      { locale: "pt", template: "${org.name}: use ${code} para redefinir a sua senha" },
      { locale: "nl", template: "Je code om je ${org.name}-wachtwoord te herstellen is ${code}" },
      { locale: "ja", template: "${org.name}のパスワード再設定コード: ${code}" },
      { locale: "zh", template: "您的${org.name}密码重置验证码是${code}" },
      { locale: "zh-TW", template: "您的${org.name}密碼重設驗證碼是${code}" },
      { locale: "ko", template: "${org.name} 비밀번호 재설정 인증번호: ${code}" },
    ],
  },
  ACCOUNT_UNLOCK: {
    template: "Your ${org.name} account unlock code is ${code}",
    translations: [
      { locale: "en", template: "Your ${org.name} account unlock code is ${code}" },
      { locale: "fr", template: "Votre code ${org.name} pour débloquer votre compte est ${code}" },
      { locale: "de", template: "Ihr ${org.name} Code zum Entsperren des Kontos lautet ${code}" },
      { locale: "es", template: "${org.name}: usa ${code} para desbloquear tu cuenta" },
      { locale: "it", template: "Il tuo codice ${org.name} per sbloccare l'account è ${code}" },
      { locale: "pt", template: "${org.name}: use ${code} para desbloquear a sua conta" },
      { locale: "nl", template: "Je code om je ${org.name}-account te ontgrendelen is ${code}" },
      { locale: "ja", template: "${org.name}のロック解除コード: ${code}" },
      { locale: "zh", template: "您的${org.name}账户解锁验证码是${code}" },
      { locale: "zh-TW", template: "您的${org.name}帳戶解鎖驗證碼是${code}" },
      { locale: "ko", template: "${org.name} 계정 잠금 해제 인증번호: ${code}" },
    ],
  },
};

/**
 * The candidate for a user's locale: the exact tag (case-insensitive, `_` read as `-` since
 * some directories store en_US); then one written the same way (script and region once the
 * likely subtags are filled in: zh-Hant-TW finds zh-TW, zh-HK finds zh-TW before zh, whose
 * script is Simplified); then the bare primary language (fr-CA finds fr); then any other tag of
 * that language (fr-CA finds fr-FR). Norwegian nb and no count as one language, a tag spelled
 * with the user's coming first at each step. Undefined when nothing fits.
 */
export function findLocaleMatch<Candidate extends { locale: string }>(
  locale: string,
  candidates: readonly Candidate[],
): Candidate | undefined {
  const given = normaliseTag(locale);
  if (given === "") return undefined;
  const givenTags = candidates.map((candidate) => normaliseTag(candidate.locale));
  // Most users' locale is a tag there is a translation for: the likely subtags, which cost an
  // Intl.Locale each, are worked out only when it is not.
  const exact = givenTags.indexOf(given);
  if (exact >= 0) return candidates[exact];
  // Directories tag Bokmål both as nb and as its macrolanguage no, and Intl aliases neither to the other.
  const wanted = noAsNb(given);
  const tags = givenTags.map(noAsNb);
  const spelledAsWanted = (at: number) => primaryLanguage(givenTags[at]!) === primaryLanguage(given);
  const wantedLanguage = primaryLanguage(wanted);
  const wantedWriting = likelySubtags(wanted);
  const writings = tags.map((tag) => (wantedWriting ? likelySubtags(tag) : null));
  const sameScript = (index: number) => {
    const theirs = writings[index];
    return !!theirs && !!wantedWriting && theirs.language === wantedWriting.language && theirs.script === wantedWriting.script;
  };
  const first = (matches: (index: number) => boolean) => {
    const spelledAlike = tags.findIndex((_tag, at) => matches(at) && spelledAsWanted(at));
    const index = spelledAlike >= 0 ? spelledAlike : tags.findIndex((_tag, at) => matches(at));
    return index >= 0 ? candidates[index] : undefined;
  };
  return (
    first((at) => sameScript(at) && writings[at]!.region === wantedWriting!.region) ??
    first((at) => sameScript(at) && tags[at] === wantedLanguage) ??
    first(sameScript) ??
    first((at) => tags[at] === wantedLanguage) ??
    first((at) => primaryLanguage(tags[at]!) === wantedLanguage)
  );
}

/** The tag with its likely script and region filled in (zh-TW is zh-Hant-TW); null when it is not a well-formed tag. */
function likelySubtags(normalisedTag: string): Intl.Locale | null {
  try {
    return new Intl.Locale(normalisedTag).maximize();
  } catch {
    return null;
  }
}

/** The template to send a user: their locale's translation, else the default. */
export function pickTranslation(
  locale: string,
  defaultTemplate: string,
  translations: readonly TemplateTranslation[],
): string {
  return findLocaleMatch(locale, translations)?.template ?? defaultTemplate;
}

function normaliseTag(tag: string): string {
  return tag.trim().replace(/_/g, "-").toLowerCase();
}

/** Norwegian's macrolanguage no read as nb, the Bokmål it nearly always stands for. */
function noAsNb(normalisedTag: string): string {
  return normalisedTag.replace(/^no(?=-|$)/, "nb");
}

function primaryLanguage(normalisedTag: string): string {
  return normalisedTag.split("-", 1)[0] ?? "";
}
