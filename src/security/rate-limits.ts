import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { IPv6 } from "ipaddr.js";
import { AppError, ErrorCode } from "../platform/errors";
import { parseClientAddress } from "../policies/network-zones";
import type { SecurityLimitName, SecuritySettings } from "./security-settings";

/** Which limit refused a request: `extensions.limit` of RATE_LIMITED. */
export type LimitName = "number" | "user" | "ip" | "country" | "spend";

/** Builds the limiter for one window; the Redis store in scale-out mode, memory otherwise. */
export type LimiterFactory = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (options) => new RateLimiterMemory(options);

interface Window {
  limit: LimitName;
  setting: SecurityLimitName;
  durationSeconds: number;
}

/**
 * New passwords a user may try (resets and changes) in 10 minutes, however they fare. Each try
 * costs a password hash per password the history remembers, so a recovery's state handle or a
 * session must not be a way to keep the hashing pool busy. Ten is more than a person needs.
 */
export const NEW_PASSWORDS_PER_USER_PER_10M = 10;
const NEW_PASSWORD_WINDOW = { keyPrefix: "rf:newPasswordsPerUserPer10m", limit: "user", durationSeconds: 600 } as const;

const SEND_WINDOWS: Window[] = [
  { limit: "number", setting: "sendsPerNumberPer30s", durationSeconds: 30 },
  { limit: "number", setting: "sendsPerNumberPer10m", durationSeconds: 600 },
];
const USER_WINDOW: Window = { limit: "user", setting: "sendsPerUserPerHour", durationSeconds: 3_600 };
const COUNTRY_WINDOW: Window = { limit: "country", setting: "sendsPerCountryPerMinute", durationSeconds: 60 };
const IP_WINDOW: Window = { limit: "ip", setting: "publicRequestsPerIpPerMinute", durationSeconds: 60 };

/** A window consumeSend counted a send in, and when (epoch ms) that window's count ends. */
interface CountedWindow {
  window: Window;
  key: string;
  endsAt: number;
}

/** What consumeSend counted, for refundSend to give back. */
export interface CountedSend {
  readonly windows: readonly CountedWindow[];
}

/**
 * A point given back to a window that has ended would start the next one below zero, one
 * send more: refunds stop this long before the end, so that the store's clock (Redis's, for
 * one) and this process's need not agree to the millisecond.
 */
const REFUND_MARGIN_MS = 1_000;

/**
 * Sends of a number's and a user's windows that a recovery's code may not take: anyone who knows
 * a login can start recoveries, and filling those windows would leave the user no code to sign
 * in with. One is kept for the user's own sign-in, wherever a window allows more than one.
 */
const RECOVERY_HOLDS_BACK = 1;

function sendWindows(send: { e164: string; userId: string; country: string }): Array<[Window, string]> {
  return [...SEND_WINDOWS.map((window): [Window, string] => [window, send.e164]), [USER_WINDOW, send.userId], [COUNTRY_WINDOW, send.country]];
}

export function rateLimited(limit: LimitName, retryAfterSeconds: number, message: string): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, message, { limit, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

/**
 * Velocity limits on sends and on public requests, counted by rate-limiter-flexible: in
 * process on one instance, in Redis when several share the load (so a limit of 5 holds across
 * them).
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly factory: LimiterFactory = memoryLimiters) {}

  /**
   * Counts a send against the number, user and country windows; throws RATE_LIMITED past any.
   * A refused send is no send: what it took from the windows before the one that refused it,
   * and from that one, is given back, so that retrying against a full country window or a
   * spend cap does not use up a user's own allowance.
   */
  async consumeSend(settings: SecuritySettings, send: { e164: string; userId: string; country: string; recovery?: boolean }): Promise<CountedSend> {
    const windows = sendWindows(send);
    const counted: CountedWindow[] = [];
    try {
      for (const [window, key] of windows) {
        const msBeforeNext = await this.consume(window, settings, key, send.recovery && window.limit !== "country" ? RECOVERY_HOLDS_BACK : 0);
        counted.push({ window, key, endsAt: Date.now() + msBeforeNext });
      }
    } catch (error) {
      // The windows counted, and the one that refused (it counts refusals too). The refusal is
      // the answer: a store that cannot take the points back must not replace it.
      await this.giveBack(settings, windows.slice(0, counted.length + 1)).catch(() => undefined);
      throw error;
    }
    return { windows: counted };
  }

  /**
   * Gives back a send consumeSend counted and that did not go out after all, to each window
   * that is still the one it was counted in.
   */
  refundSend(settings: SecuritySettings, counted: CountedSend): Promise<void> {
    const now = Date.now();
    const open = counted.windows.filter(({ endsAt }) => endsAt - REFUND_MARGIN_MS > now);
    return this.giveBack(settings, open.map(({ window, key }): [Window, string] => [window, key]));
  }

  async consumePublicRequest(settings: SecuritySettings, ipAddress: string | null): Promise<void> {
    await this.consume(IP_WINDOW, settings, clientNetworkKey(ipAddress));
  }

  /** Counts a new password tried for a user; throws RATE_LIMITED past NEW_PASSWORDS_PER_USER_PER_10M. */
  async consumeNewPassword(userId: string): Promise<void> {
    const { keyPrefix, limit, durationSeconds } = NEW_PASSWORD_WINDOW;
    await this.consumeFrom(this.limiterFor(keyPrefix, NEW_PASSWORDS_PER_USER_PER_10M, durationSeconds), userId, limit, durationSeconds, NEW_PASSWORDS_PER_USER_PER_10M);
  }

  private async giveBack(settings: SecuritySettings, windows: Array<[Window, string]>): Promise<void> {
    await Promise.all(windows.map(([window, key]) => this.windowLimiter(window, settings).reward(key, 1)));
  }

  /**
   * Resolves with the milliseconds left in the window the point was counted in. `holdBack`
   * sends of the window are not this one's to take (RECOVERY_HOLDS_BACK), when it has more.
   */
  private consume(window: Window, settings: SecuritySettings, key: string, holdBack = 0): Promise<number> {
    const points = settings[window.setting];
    const cap = points > holdBack ? points - holdBack : points;
    return this.consumeFrom(this.windowLimiter(window, settings), key, window.limit, window.durationSeconds, points, cap);
  }

  /** A setting's window: the one limiter that counts its sends and takes back the ones refused. */
  private windowLimiter(window: Window, settings: SecuritySettings): RateLimiterAbstract {
    return this.limiterFor(`rf:${window.setting}`, settings[window.setting], window.durationSeconds);
  }

  /**
   * One limiter per window, its points set from the settings at each use. A limiter built anew
   * for a changed setting would count in memory from nothing, and a number that had used up its
   * window would have it all again; in Redis the counts stay under the window's key either way.
   */
  private limiterFor(keyPrefix: string, points: number, durationSeconds: number): RateLimiterAbstract {
    let limiter = this.limiters.get(keyPrefix);
    if (!limiter) {
      limiter = this.factory({ keyPrefix, points, duration: durationSeconds });
      this.limiters.set(keyPrefix, limiter);
    }
    limiter.points = points;
    // Redis's stand-in while it is away counts in memory, to the same limit.
    const insurance = (limiter as { insuranceLimiter?: RateLimiterAbstract }).insuranceLimiter;
    if (insurance) insurance.points = points;
    return limiter;
  }

  private async consumeFrom(limiter: RateLimiterAbstract, key: string, limit: LimitName, durationSeconds: number, points: number, cap = points): Promise<number> {
    try {
      const counted = await limiter.consume(key, 1);
      // Counted, as a refusal is (consumeSend gives both back), but past what this send may take.
      if (counted.consumedPoints > cap) throw counted;
      return counted.msBeforeNext;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw rateLimited(limit, rejection.msBeforeNext / 1000, limitMessage(limit, durationSeconds, points));
      }
      throw rejection;
    }
  }
}

/**
 * What the per-IP window counts a client as. An IPv6 host is given a whole /64 (SLAAC, privacy
 * addresses) and can send each request from another address in it, so IPv6 is counted by its
 * /64, as IPv4 is by its address; an IPv4 client on a dual-stack socket counts as IPv4.
 */
export function clientNetworkKey(ipAddress: string | null): string {
  const address = ipAddress === null ? null : parseClientAddress(ipAddress);
  if (!address) return ipAddress ?? "unknown";
  if (address.kind() === "ipv4") return address.toString();
  const network = (address as IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${network.join(":")}::/64`;
}

function limitMessage(limit: LimitName, durationSeconds: number, points: number): string {
  const per =
    durationSeconds >= 3_600
      ? `${durationSeconds / 3_600} hour`
      : durationSeconds >= 60
        ? `${durationSeconds / 60} minutes`
        : `${durationSeconds} seconds`;
  const subject = {
    number: "this phone number",
    user: "this user",
    country: "this country",
    ip: "this address",
    spend: "the organisation",
  }[limit];
  return `Too many requests for ${subject}: at most ${points} per ${per}. Please wait before trying again.`;
}
