import ipaddr from "ipaddr.js";

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** A network zone entry: one CIDR block, or a single address (a /32 or /128). */
export interface ParsedZone {
  readonly kind: "ipv4" | "ipv6";
  readonly network: IpAddress;
  readonly prefixLength: number;
  /** Canonical text with host bits cleared, e.g. "10.0.0.0/8" for "10.1.2.3/8". */
  readonly cidr: string;
}

const IPV4_MAPPED_PREFIX_BITS = 96;

const isIPv6 = (address: IpAddress): address is ipaddr.IPv6 => address.kind() === "ipv6";

/**
 * Parses one entry of a rule's `networkZones`. Callers validate admin input with it, so it
 * throws a plain Error whose message says what is wrong with the entry.
 *
 * Only dotted four-part decimal is accepted for IPv4: ipaddr.js alone would also read "10.1",
 * "0x0a.0.0.1" and "010.0.0.1" (octal, so 8.0.0.1), and a zone that means something other
 * than what the admin reads on screen is a hole in a DENY rule.
 */
export function parseZone(cidr: string): ParsedZone {
  const text = cidr.trim();
  if (text === "") throw new Error("Network zone is empty");
  const slash = text.indexOf("/");
  const address = parseStrictAddress(slash === -1 ? text : text.slice(0, slash));
  if (address === null) {
    throw new Error(`Network zone "${cidr}" is not an IPv4 or IPv6 address or CIDR block`);
  }
  if (isIPv6(address) && address.zoneId !== undefined) {
    throw new Error(`Network zone "${cidr}" names an interface scope (%${address.zoneId}), which means nothing off-host`);
  }
  const maxBits = isIPv6(address) ? 128 : 32;
  let prefixLength = maxBits;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > maxBits) {
      throw new Error(`Network zone "${cidr}" has an invalid prefix length; expected 0 to ${maxBits}`);
    }
    prefixLength = Number(prefixText);
  }
  return toZone(address, prefixLength);
}

/**
 * Parses a client address as the transport reported it. IPv4-mapped IPv6 (::ffff:10.0.0.1,
 * what a dual-stack socket reports for an IPv4 peer) is unwrapped to IPv4, as
 * `ipaddr.process` does, so that IPv4 zones see IPv4 clients whichever socket they came in on.
 * Returns null for anything unparsable.
 */
export function parseClientAddress(ip: string): IpAddress | null {
  const address = parseStrictAddress(ip.trim());
  if (address === null) return null;
  return isIPv6(address) && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

export function addressInZone(address: IpAddress, zone: ParsedZone): boolean {
  return address.kind() === zone.kind && address.match(zone.network, zone.prefixLength);
}

/**
 * Whether `ip` lies inside one of `zones`. A null or unparsable address is inside no zone.
 * Every zone is parsed, and an invalid one throws, before the address is looked at:
 * skipping a bad zone would quietly disable a DENY rule, and the admin API validates zones
 * with {@link parseZone} before storing them, so a bad one here is corrupt configuration.
 */
export function ipInZones(ip: string | null, zones: readonly string[]): boolean {
  const parsedZones = zones.map(parseZone);
  const address = ip === null ? null : parseClientAddress(ip);
  if (address === null) return false;
  return parsedZones.some((zone) => addressInZone(address, zone));
}

function parseStrictAddress(text: string): IpAddress | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(":") || !ipaddr.IPv6.isValid(text)) return null;
  // The IPv4 tail of ::ffff:a.b.c.d is held to the same four-part-decimal rule.
  const tail = /[.0-9]+$/.exec(text)?.[0];
  if (tail !== undefined && tail.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
  return ipaddr.IPv6.parse(text);
}

function toZone(address: IpAddress, prefixLength: number): ParsedZone {
  if (isIPv6(address)) {
    // ::ffff:10.0.0.0/104 means 10.0.0.0/8; clients are unwrapped to IPv4 before matching,
    // so a mapped zone is unwrapped the same way or it could never match.
    if (address.isIPv4MappedAddress() && prefixLength >= IPV4_MAPPED_PREFIX_BITS) {
      return toZone(address.toIPv4Address(), prefixLength - IPV4_MAPPED_PREFIX_BITS);
    }
    const network = ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefixLength}`);
    return { kind: "ipv6", network, prefixLength, cidr: `${network.toRFC5952String()}/${prefixLength}` };
  }
  const network = ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefixLength}`);
  return { kind: "ipv4", network, prefixLength, cidr: `${network.toString()}/${prefixLength}` };
}
