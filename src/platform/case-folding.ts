/**
 * Text as it is compared regardless of case and width: trimmed, NFKC (a full-width "ａ" is "a", a
 * decomposed accent is composed), then lower case. Logins, group names, user searches and the
 * names a password may not contain are all compared this way.
 */
export function caseFolded(text: string): string {
  return text.trim().normalize("NFKC").toLowerCase();
}

/**
 * Characters that show nothing (zero-width spaces, joiners, soft hyphens, bidi and other format
 * controls) or are controls. NFKC keeps them, so "alice" followed by a zero-width space is not
 * "alice" to caseFolded, yet reads exactly as it in every list and in the System Log.
 */
const INVISIBLE = /[\p{Cc}\p{Default_Ignorable_Code_Point}]/u;
const INVISIBLE_ALL = /\p{Default_Ignorable_Code_Point}/gu;
/** Controls, and the marks that reorder the text around them, so that a name can be made to read as another. */
const CONTROL_OR_DIRECTION = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export function hasInvisibleCharacters(text: string): boolean {
  return INVISIBLE.test(text);
}

export function hasControlOrDirectionCharacters(text: string): boolean {
  return CONTROL_OR_DIRECTION.test(text);
}

/**
 * caseFolded without the characters that show nothing: for names where an emoji may need its
 * joiners ("👩‍💻 Developers"), so they cannot be refused, but must not make a look-alike either.
 */
export function caseFoldedVisible(text: string): string {
  return caseFolded(text).replace(INVISIBLE_ALL, "");
}
