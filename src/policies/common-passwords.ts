import { dictionary } from "@zxcvbn-ts/language-common";

let commonPasswords: ReadonlySet<string> | null = null;

/**
 * Whether a password, already normalized and lower-cased, is one of the ~49,000 most common
 * in breach corpora: the list zxcvbn-ts ships, itself lower case. Built on first use, as
 * unpacking it takes some tens of milliseconds that a gateway with no passwords never spends.
 */
export function isCommonPassword(folded: string): boolean {
  commonPasswords ??= new Set(dictionary["passwords-common"]);
  return commonPasswords.has(folded);
}
