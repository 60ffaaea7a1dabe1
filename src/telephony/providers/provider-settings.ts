import { isIPv4 } from "node:net";

/** A provider's configuration was refused when its adapter was built; each problem names its field. */
export class ProviderConfigError extends Error {
  constructor(
    readonly provider: string,
    readonly problems: string[],
  ) {
    super(`Telephony provider "${provider}" is misconfigured:\n  - ${problems.join("\n  - ")}`);
    this.name = "ProviderConfigError";
  }
}

/**
 * Collects an adapter's configuration problems so that start-up reports all of them at once.
 * Messages name the field and the rule, never a secret's value.
 */
export class SettingsCheck {
  readonly problems: string[] = [];

  constructor(private readonly provider: string) {}

  require(condition: boolean, problem: string): void {
    if (!condition) this.problems.push(problem);
  }

  /** A non-empty string; the value is not echoed, since it may be a credential. */
  text(value: unknown, field: string, rule?: { pattern: RegExp; description: string }): value is string {
    if (typeof value !== "string" || !value.trim()) {
      this.problems.push(`${field} is required`);
      return false;
    }
    if (rule && !rule.pattern.test(value)) {
      this.problems.push(`${field} must be ${rule.description}`);
      return false;
    }
    return true;
  }

  /** An integer in range, or the fallback when unset. */
  integer(value: unknown, field: string, fallback: number, min: number, max: number): number {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${field} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  /** An absolute http(s) URL without credentials, returned without its trailing slash. */
  httpUrl(value: unknown, field: string, fallback?: string): string {
    if ((value === undefined || value === null) && fallback !== undefined) return fallback;
    if (typeof value !== "string") {
      this.problems.push(`${field} is required`);
      return "";
    }
    try {
      const url = new URL(value);
      if ((url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password && !url.hash) {
        return url.href.replace(/\/+$/, "");
      }
    } catch {
      // Reported below, with the rule.
    }
    this.problems.push(`${field} must be an absolute http(s) URL without credentials (got "${value.replace(/\/\/[^/@]*@/, "//***@")}")`);
    return "";
  }

  /**
   * httpUrl, for a peer that is sent credentials or one-time codes: https, or http to a
   * loopback address only (a sidecar on the same host, a test peer).
   */
  secureUrl(value: unknown, field: string, fallback?: string): string {
    const url = this.httpUrl(value, field, fallback);
    if (url) {
      const { protocol, hostname } = new URL(url);
      this.require(
        protocol === "https:" || isLoopbackHost(hostname),
        `${field} must use https (http is accepted for loopback addresses only)`,
      );
    }
    return url;
  }

  throwIfAny(): void {
    if (this.problems.length) throw new ProviderConfigError(this.provider, this.problems);
  }
}

/** Names key attempts, receipts, circuit breakers and webhook paths; they fit the 40-character columns. */
export const PROVIDER_NAME = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/,
  description: "1 to 40 letters, digits, - or _, starting with a letter or digit",
};

/** Whether a thrown value is a network failure or a timeout, described without secrets. */
export function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError") return "no answer in time";
    const cause = (error as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message;
    return error.message;
  }
  return String(error);
}

/** `localhost`, or a loopback address as URL gives it: 127.0.0.0/8, [::1]. A name that merely starts with 127 is not one. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]") return true;
  return isIPv4(hostname) && hostname.startsWith("127.");
}
