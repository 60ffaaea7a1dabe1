import { changedSettings } from "../log/changes";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database } from "../platform/database";
import { badInput } from "../platform/errors";
import { ShortLived } from "../platform/short-lived";
import { SecuritySettingsRecord } from "./security-settings.entity";

/**
 * Every abuse limit, its default and its bounds. The defaults follow Okta's and Twilio's
 * guidance and NIST 800-63B; each is an admin setting (`updateSecuritySettings`).
 */
export const SECURITY_LIMITS = {
  /** Sends to one number per 30 seconds. */
  sendsPerNumberPer30s: { default: 1, min: 1, max: 100 },
  /** Sends to one number per 10 minutes. */
  sendsPerNumberPer10m: { default: 5, min: 1, max: 1_000 },
  /** Sends for one user per hour. */
  sendsPerUserPerHour: { default: 10, min: 1, max: 10_000 },
  /** Sends to one country per minute. */
  sendsPerCountryPerMinute: { default: 120, min: 1, max: 100_000 },
  /** Public sign-in and recovery requests from one IP address per minute. */
  publicRequestsPerIpPerMinute: { default: 60, min: 1, max: 100_000 },
  /** Consecutive failed passcodes per user (NIST 800-63B: at most 100), then the phone factors are suspended. */
  maxConsecutiveFailedPasscodes: { default: 100, min: 1, max: 100 },
  /** Estimated telephony spend per UTC day, in USD. */
  dailySpendCapUsd: { default: 100, min: 0, max: 10_000_000, fractional: true },
  /** Estimated telephony spend per UTC month, in USD. */
  monthlySpendCapUsd: { default: 2_000, min: 0, max: 100_000_000, fractional: true },
  /** SMS pumping: sends to one foreign country within the burst window that trip a block. */
  pumpingCountryBurst: { default: 30, min: 2, max: 100_000 },
  /** SMS pumping: distinct numbers in one range (all but the last two digits) within the window. */
  pumpingRangeBurst: { default: 5, min: 2, max: 1_000 },
  /** SMS pumping: the window the bursts are counted in, in minutes. */
  pumpingWindowMinutes: { default: 10, min: 1, max: 1_440 },
  /** SMS pumping: sends to a country (in the window) before its verify-to-send ratio is judged. */
  pumpingRatioMinimumSends: { default: 20, min: 2, max: 100_000 },
  /** SMS pumping: a verify-to-send ratio (percent) under this blocks the country. */
  pumpingMinimumVerifyPercent: { default: 20, min: 0, max: 100 },
  /** How long a fraud rule blocks a country or range, in minutes. */
  fraudBlockMinutes: { default: 60, min: 1, max: 10_080 },
} as const;

export type SecurityLimitName = keyof typeof SECURITY_LIMITS;
export type SecuritySettings = Record<SecurityLimitName, number>;

const SETTINGS_ID = 1;

/** LIMIT_<NAME> in upper snake case, e.g. LIMIT_SENDS_PER_USER_PER_HOUR. */
export const limitVariable = (name: string) => `LIMIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export function defaultSecuritySettings(env: NodeJS.ProcessEnv): SecuritySettings {
  const settings = {} as SecuritySettings;
  for (const [name, limit] of Object.entries(SECURITY_LIMITS) as [SecurityLimitName, (typeof SECURITY_LIMITS)[SecurityLimitName]][]) {
    // Deployments (and test suites) may move a default by environment: LIMIT_<NAME IN UPPER SNAKE>.
    const raw = env[limitVariable(name)]?.trim();
    // Only the spend caps are amounts: the others are counts, which the schema serves as Int.
    const fractional = "fractional" in limit && limit.fractional;
    const shape = fractional ? /^[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
    const value = raw === undefined || raw === "" ? limit.default : shape.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value) || value < limit.min || value > limit.max) {
      throw new Error(`${limitVariable(name)} must be ${fractional ? "a number" : "a whole number"} from ${limit.min} to ${limit.max} (got "${raw}")`);
    }
    settings[name] = value;
  }
  return settings;
}

export class SecuritySettingsService {
  private readonly cached = new ShortLived<number, SecuritySettings>(1_000);

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly defaults: SecuritySettings,
    private readonly log: LogService,
    private readonly onChange: (settings: SecuritySettings) => void = () => undefined,
  ) {}

  /** Read at most once a second (ShortLived): limits are checked on every send, and changes are rare. */
  get(): Promise<SecuritySettings> {
    return this.cached.get(SETTINGS_ID, async () => {
      const row = await this.db.manager.findOneBy(SecuritySettingsRecord, { id: SETTINGS_ID });
      const settings = { ...this.defaults };
      for (const [name, value] of Object.entries(row?.settings ?? {})) {
        if (name in SECURITY_LIMITS && typeof value === "number") settings[name as SecurityLimitName] = value;
      }
      return settings;
    });
  }

  async update(changes: Partial<Record<SecurityLimitName, number | null>>, initiator: Initiator): Promise<SecuritySettings> {
    for (const [name, value] of Object.entries(changes)) {
      const limit = SECURITY_LIMITS[name as SecurityLimitName];
      if (!limit) throw badInput(`input.${name}`, "is not a security setting");
      if (value != null && (!Number.isFinite(value) || value < limit.min || value > limit.max)) {
        throw badInput(`input.${name}`, `must be from ${limit.min} to ${limit.max}`);
      }
    }
    await this.db.transaction(async (tx) => {
      await this.db.serializeOn(tx, "settings:security");
      const row = await tx.manager.findOneBy(SecuritySettingsRecord, { id: SETTINGS_ID });
      const before = row?.settings ?? {};
      const stored = { ...before };
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) delete stored[name];
        else if (value !== undefined) stored[name] = value;
      }
      const changed = changedSettings(before, stored, Object.keys(SECURITY_LIMITS));
      if (!changed) return;
      await tx.manager.save(SecuritySettingsRecord, { id: SETTINGS_ID, settings: stored, updated: this.clock.now() });
      // A null: that limit is back to the gateway's configured default.
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.SECURITY_SETTINGS_UPDATE,
        displayMessage: "Update security settings",
        target: [{ id: "security_settings", type: "SecuritySettings" }],
        debugContext: changed,
      });
    });
    this.cached.forget();
    const settings = await this.get();
    this.onChange(settings);
    return settings;
  }
}
