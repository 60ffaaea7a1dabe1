/**
 * Text as it is compared regardless of case and width: trimmed, NFKC (a full-width "ａ" is "a", a
 * decomposed accent is composed), then lower case. Logins, group names, user searches and the
 * names a password may not contain are all compared this way.
 */
export function caseFolded(text: string): string {
  return text.trim().normalize("NFKC").toLowerCase();
}
