import { caseFolded } from "../platform/case-folding";

/**
 * The form logins are unique in and looked up by (caseFolded): a full-width "ａｌｉｃｅ" and a
 * decomposed "jose\u0301" are the "alice" and "josé" they look like, so neither can be created
 * beside those, and either, typed, finds them.
 */
export const loginKey = caseFolded;

/** The key logins were stored under before they were NFKC-normalised: lower case alone. */
const legacyLoginKey = (login: string) => login.trim().toLowerCase();

/**
 * The keys a typed login may be stored under: today's, and, for accounts created before logins
 * were NFKC-normalised, the lower case alone (the same for all but a few).
 */
export function loginKeys(login: string): string[] {
  return [...new Set([loginKey(login), legacyLoginKey(login)])];
}

/**
 * Of the accounts found by loginKeys, the one a typed login names. An account stored under its
 * old key, typed as it was stored, is that account: a look-alike created since under today's
 * key must not take its sign-ins (and its lockout count). Otherwise today's key.
 */
export function accountNamed<T extends { loginNormalized: string }>(login: string, found: readonly T[]): T | null {
  const asStoredThen = legacyLoginKey(login);
  const key = loginKey(login);
  return (
    found.find((account) => account.loginNormalized === asStoredThen) ?? found.find((account) => account.loginNormalized === key) ?? null
  );
}
