import { secureRandomBytes } from "../../../src/platform/random";

describe("secureRandomBytes", () => {
  test("hands out the size asked for, never the same bytes twice, across many pool refills", () => {
    const seen = new Set<string>();
    for (let draw = 0; draw < 5_000; draw += 1) {
      const bytes = secureRandomBytes(16);
      expect(bytes).toHaveLength(16);
      seen.add(bytes.toString("hex"));
    }
    // 5,000 draws of 128 bits: a repeat would mean bytes handed out twice.
    expect(seen.size).toBe(5_000);
  });

  test("looks uniform: each bit set about half the time over 64 KB", () => {
    const bytes = Buffer.concat(Array.from({ length: 4_096 }, () => secureRandomBytes(16)));
    let ones = 0;
    for (const byte of bytes) for (let bit = 0; bit < 8; bit += 1) ones += (byte >> bit) & 1;
    const share = ones / (bytes.length * 8);
    expect(share).toBeGreaterThan(0.49);
    expect(share).toBeLessThan(0.51);
  });

  test("sizes beyond the pool's share come straight from the CSPRNG", () => {
    const large = secureRandomBytes(10_000);
    expect(large).toHaveLength(10_000);
    expect(large.equals(Buffer.alloc(10_000))).toBe(false);
  });
});
