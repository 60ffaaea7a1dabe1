import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * scrypt with N=2^15, r=8, p=1 (OWASP's minimum for scrypt), a 16-byte salt and a 32-byte
 * key. Parameters travel in the stored string so they can be raised without a migration.
 */
const PARAMETERS = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

/**
 * The form a password is hashed in: NFKC, so that the same password typed on another keyboard
 * or system (composed or decomposed accents, fullwidth letters) still matches.
 */
export function canonicalPassword(password: string): string {
  return password.normalize("NFKC");
}

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(canonicalPassword(password), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

const memoryFor = (N: number, r: number) => 256 * N * r;

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength } = PARAMETERS;
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, keyLength, { N, r, p, maxmem: memoryFor(N, r) });
  return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const N = Number(n);
  const actual = await scrypt(password, Buffer.from(salt, "base64url"), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: memoryFor(N, Number(r)),
  });
  return timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | null = null;
/**
 * Spends the time of a real verification, so an unknown login answers as slowly as a known
 * one with a wrong password (no user enumeration by timing).
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  await verifyPassword(password, await dummyHash);
  return false;
}
