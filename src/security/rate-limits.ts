import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { AppError, ErrorCode } from "../platform/errors";
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

export function rateLimited(limit: LimitName, retryAfterSeconds: number, message: string): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, message, { limit, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

/**
 * Velocity limits on sends and on public requests, counted by rate-limiter-flexible: in
 * process on one instance, in Redis when several share the load (so a limit of 5 holds across
 * them). A limiter is rebuilt only when its setting changes.
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly factory: LimiterFactory = memoryLimiters) {}

  /** Counts a send against the number, user and country windows; throws RATE_LIMITED past any. */
  async consumeSend(settings: SecuritySettings, send: { e164: string; userId: string; country: string }): Promise<void> {
    for (const window of SEND_WINDOWS) await this.consume(window, settings, send.e164);
    await this.consume(USER_WINDOW, settings, send.userId);
    await this.consume(COUNTRY_WINDOW, settings, send.country);
  }

  async consumePublicRequest(settings: SecuritySettings, ipAddress: string | null): Promise<void> {
    await this.consume(IP_WINDOW, settings, ipAddress ?? "unknown");
  }

  /** Counts a new password tried for a user; throws RATE_LIMITED past NEW_PASSWORDS_PER_USER_PER_10M. */
  async consumeNewPassword(userId: string): Promise<void> {
    const { keyPrefix, limit, durationSeconds } = NEW_PASSWORD_WINDOW;
    await this.consumeFrom(keyPrefix, NEW_PASSWORDS_PER_USER_PER_10M, durationSeconds, userId, limit);
  }

  private async consume(window: Window, settings: SecuritySettings, key: string): Promise<void> {
    await this.consumeFrom(`rf:${window.setting}`, settings[window.setting], window.durationSeconds, key, window.limit);
  }

  private async consumeFrom(keyPrefix: string, points: number, durationSeconds: number, key: string, limit: LimitName): Promise<void> {
    const id = `${keyPrefix}:${points}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = this.factory({ keyPrefix, points, duration: durationSeconds });
      this.limiters.set(id, limiter);
    }
    try {
      await limiter.consume(key, 1);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw rateLimited(limit, rejection.msBeforeNext / 1000, limitMessage(limit, durationSeconds, points));
      }
      throw rejection;
    }
  }
}

function limitMessage(limit: LimitName, durationSeconds: number, points: number): string {
  const per = durationSeconds >= 3_600 ? `${durationSeconds / 3_600} hour` : durationSeconds >= 60 ? `${durationSeconds / 60} minutes` : `${durationSeconds} seconds`;
  const subject = { number: "this phone number", user: "this user", country: "this country", ip: "this address", spend: "the organisation" }[limit];
  return `Too many requests for ${subject}: at most ${points} per ${per}. Please wait before trying again.`;
}
