import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * Cryptographically secure random bytes, drawn from a pool refilled 4 KB at a time, as
 * crypto.randomUUID does for itself. Every id, event and sealed body takes a few: one call into
 * the CSPRNG per id was a visible share of a passcode round trip. The caller owns the copy it
 * gets, and no byte is handed out twice.
 */
export function secureRandomBytes(size: number): Buffer {
  if (size > POOL_BYTES / 8) return randomFillSync(Buffer.allocUnsafe(size));
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  // Handed out: not left readable in the pool.
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}
