import { secureRandomBytes } from "./random";

let lastMs = -1;
let sequence = 0;

/**
 * RFC 9562 UUIDv7 with a 12-bit counter in rand_a, so ids made in the same millisecond (a
 * frozen test clock, a burst of events) still sort in the order they were made.
 */
export function uuidv7(now: Date): string {
  let ms = now.getTime();
  if (ms <= lastMs) {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    sequence = 0;
  }
  const bytes = secureRandomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
