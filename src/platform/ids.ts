import { hash } from "node:crypto";
import { secureRandomBytes } from "./random";

/** Opaque ids with a prefix naming their kind (`usr_...`); never sequential, never guessable. */
export type IdPrefix = "usr" | "grp" | "tok" | "fac" | "chl" | "msg" | "ses" | "txn" | "pol" | "rul" | "evt" | "att" | "rcp" | "sim";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${secureRandomBytes(15).toString("base64url")}`;
}

/** A bearer secret: 256 bits, URL-safe. */
export function newSecret(prefix: string): string {
  return `${prefix}${secureRandomBytes(32).toString("base64url")}`;
}

/**
 * Secrets we issue carry 256 bits of entropy, so a plain SHA-256 is enough to store them:
 * a slow hash only matters for low-entropy secrets such as passwords.
 */
export function hashSecret(secret: string): string {
  // One-shot: every authenticated request hashes its credential, and a Hash object costs more than the digest.
  return hash("sha256", secret, "hex");
}
