import { Brackets } from "typeorm";
import { changedSettings } from "../log/changes";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { AppError, badInput, ErrorCode } from "../platform/errors";
import { ShortLived } from "../platform/short-lived";
import { Challenge } from "./challenge.entity";
import { PhoneAuthenticatorSettings } from "./phone-authenticator.entity";
import type { AuthenticatorStatus, AuthenticatorUsage, PhoneMethod } from "./phone.enums";

export interface PhoneAuthenticatorChanges {
  status?: AuthenticatorStatus | null;
  methods?: PhoneMethod[] | null;
  usage?: AuthenticatorUsage | null;
  codeLength?: number | null;
  codeTtlSeconds?: number | null;
  maxAttempts?: number | null;
  resendCooldownSeconds?: number | null;
  maxResends?: number | null;
  allowVoip?: boolean | null;
}

/** Okta's defaults, and NIST 800-63B's bounds (a code lives at most 10 minutes). */
export const AUTHENTICATOR_LIMITS = {
  codeLength: { default: 6, min: 6, max: 10 },
  codeTtlSeconds: { default: 300, min: 30, max: 600 },
  maxAttempts: { default: 5, min: 1, max: 10 },
  /** And never longer than codeTtlSeconds: a code that cannot be resent before it dies leaves its user waiting. */
  resendCooldownSeconds: { default: 30, min: 0, max: 600 },
  maxResends: { default: 3, min: 0, max: 10 },
} as const;

const SETTINGS_ID = 1;

const SETTING_FIELDS = ["status", "methods", "usage", "codeLength", "codeTtlSeconds", "maxAttempts", "resendCooldownSeconds", "maxResends", "allowVoip"] as const;

export class PhoneAuthenticatorService {
  private readonly cached = new ShortLived<number, PhoneAuthenticatorSettings>(1_000);

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
  ) {}

  /** Read by every challenge and enrollment; kept for a second (ShortLived), forgotten on update. */
  get(): Promise<PhoneAuthenticatorSettings> {
    return this.cached.get(SETTINGS_ID, async () => (await this.db.manager.findOneBy(PhoneAuthenticatorSettings, { id: SETTINGS_ID })) ?? this.defaults());
  }

  async update(changes: PhoneAuthenticatorChanges, initiator: Initiator): Promise<PhoneAuthenticatorSettings> {
    const numbers = ["codeLength", "codeTtlSeconds", "maxAttempts", "resendCooldownSeconds", "maxResends"] as const;
    for (const name of numbers) {
      const value = changes[name];
      const { min, max } = AUTHENTICATOR_LIMITS[name];
      if (value != null && (!Number.isInteger(value) || value < min || value > max)) {
        throw badInput(`input.${name}`, `must be an integer from ${min} to ${max}`);
      }
    }
    if (changes.methods != null) {
      if (changes.methods.length === 0) throw badInput("input.methods", "must name at least one method");
      if (new Set(changes.methods).size !== changes.methods.length) throw badInput("input.methods", "must not repeat a method");
    }
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      await this.db.serializeOn(tx, "settings:phone_authenticator");
      const current = (await manager.findOneBy(PhoneAuthenticatorSettings, { id: SETTINGS_ID })) ?? this.defaults();
      const next = manager.create(PhoneAuthenticatorSettings, {
        ...current,
        status: changes.status ?? current.status,
        methods: changes.methods ? changes.methods.join(",") : current.methods,
        usage: changes.usage ?? current.usage,
        codeLength: changes.codeLength ?? current.codeLength,
        codeTtlSeconds: changes.codeTtlSeconds ?? current.codeTtlSeconds,
        maxAttempts: changes.maxAttempts ?? current.maxAttempts,
        resendCooldownSeconds: changes.resendCooldownSeconds ?? current.resendCooldownSeconds,
        maxResends: changes.maxResends ?? current.maxResends,
        allowVoip: changes.allowVoip ?? current.allowVoip,
        updated: this.clock.now(),
      });
      if (next.resendCooldownSeconds > next.codeTtlSeconds) {
        // Named after the setting this update moved, which is the one to change back.
        const field = changes.resendCooldownSeconds != null ? "resendCooldownSeconds" : "codeTtlSeconds";
        throw badInput(`input.${field}`, `the resend cooldown (${next.resendCooldownSeconds} s) must not be longer than a code's lifetime (${next.codeTtlSeconds} s)`);
      }
      const changed = changedSettings(current, next, SETTING_FIELDS);
      if (!changed) return current;
      await manager.save(PhoneAuthenticatorSettings, next);
      const cancelledChallenges = await this.cancelDisallowedChallenges(tx, next);
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.AUTHENTICATOR_UPDATE,
        displayMessage: "Update authenticator",
        target: [{ id: "phone_number", type: "Authenticator", displayName: "Phone" }],
        debugContext: cancelledChallenges ? { ...changed, cancelledChallenges } : changed,
      });
      return next;
    }).finally(() => this.cached.forget());
  }

  /**
   * Codes already sent that the new settings no longer allow: switching the authenticator off,
   * to recovery only, or off a method must stop those too, not only the next ones. A verification
   * compares no settings, so that the passcode round trip reads none. EXPIRED ones go too, as a
   * resend would bring them back; one issued from settings read just before (an instance's
   * cache lasts a second) is not caught.
   *
   * Recovery codes are left to run out (codeTtlSeconds): a recovery for a login with no phone is
   * a decoy with no code, and cancelling only the real ones would tell the two apart. Their
   * resends read the new settings, and are withheld alike.
   */
  private async cancelDisallowedChallenges(tx: Transaction, settings: PhoneAuthenticatorSettings): Promise<number> {
    const open = tx.manager
      .createQueryBuilder()
      .update(Challenge)
      .set({ status: "CANCELLED" })
      .where("status IN (:...open)", { open: ["PENDING", "EXPIRED"] })
      .andWhere("purpose NOT IN (:...recovery)", { recovery: ["PASSWORD_RESET", "ACCOUNT_UNLOCK"] });
    if (settings.status === "ACTIVE") {
      open.andWhere(
        new Brackets((disallowed) => {
          disallowed.where("method NOT IN (:...methods)", { methods: settings.methodList });
          if (settings.usage === "RECOVERY_ONLY") disallowed.orWhere("purpose = :mfa", { mfa: "FACTOR_VERIFY" });
        }),
      );
    }
    return (await open.execute()).affected ?? 0;
  }

  /** The settings for a use, or METHOD_NOT_ALLOWED when the authenticator refuses it. */
  async requireMethod(method: PhoneMethod, use: "MFA" | "RECOVERY" | "ENROLLMENT"): Promise<PhoneAuthenticatorSettings> {
    return requireMethodIn(await this.get(), method, use);
  }

  private defaults(): PhoneAuthenticatorSettings {
    return Object.assign(new PhoneAuthenticatorSettings(), {
      id: SETTINGS_ID,
      status: "ACTIVE",
      methods: "SMS,VOICE",
      usage: "MFA_AND_RECOVERY",
      codeLength: AUTHENTICATOR_LIMITS.codeLength.default,
      codeTtlSeconds: AUTHENTICATOR_LIMITS.codeTtlSeconds.default,
      maxAttempts: AUTHENTICATOR_LIMITS.maxAttempts.default,
      resendCooldownSeconds: AUTHENTICATOR_LIMITS.resendCooldownSeconds.default,
      maxResends: AUTHENTICATOR_LIMITS.maxResends.default,
      allowVoip: false,
      updated: new Date(0),
    });
  }
}

/** METHOD_NOT_ALLOWED unless `settings` allow `method` for `use`; for settings already read. */
export function requireMethodIn(settings: PhoneAuthenticatorSettings, method: PhoneMethod, use: "MFA" | "RECOVERY" | "ENROLLMENT"): PhoneAuthenticatorSettings {
  const allowedMethods = settings.status === "ACTIVE" ? settings.methodList : [];
  if (settings.status !== "ACTIVE") {
    throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, "The phone authenticator is inactive", { allowedMethods });
  }
  if (use === "MFA" && settings.usage === "RECOVERY_ONLY") {
    throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, "The phone authenticator is set for recovery only, not for MFA", { allowedMethods: [] });
  }
  if (!allowedMethods.includes(method)) {
    throw new AppError(ErrorCode.METHOD_NOT_ALLOWED, `The phone authenticator does not allow ${method}`, { allowedMethods });
  }
  return settings;
}
