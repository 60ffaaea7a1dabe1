import { In, Not, type EntityManager } from "typeorm";
import { requireGroups } from "../groups/group.service";
import { changedSettings } from "../log/changes";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService, LogTarget } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database, Transaction } from "../platform/database";
import { badInput, conflict, notFound } from "../platform/errors";
import { newId } from "../platform/ids";
import { PolicyRecord, PolicyRuleRecord } from "./policy.entity";
import type { PolicyModel, PolicyRuleModel, PolicyType } from "./policy.model";
import { parseZone } from "./network-zones";
import type { PolicyInput, PolicyRuleInput } from "./policy.types";
import {
  DEFAULT_PASSWORD_EXCLUSIONS,
  DEFAULT_PASSWORD_EXPIRE_WARN_DAYS,
  DEFAULT_PASSWORD_HISTORY_COUNT,
  DEFAULT_PASSWORD_MAX_AGE_DAYS,
  DEFAULT_PASSWORD_MIN_AGE_MINUTES,
  DEFAULT_SHOW_LOCKOUT_FAILURES,
  MAX_PASSWORD_HISTORY_COUNT,
  MAX_PASSWORD_MAX_AGE_DAYS,
  MAX_PASSWORD_MIN_AGE_MINUTES,
  PASSWORD_MAX_LENGTH,
} from "./evaluate";

const policyTarget = (policy: Pick<PolicyRecord, "id" | "name" | "type">): LogTarget => ({
  id: policy.id,
  type: "PolicyEntity",
  alternateId: policy.type,
  displayName: policy.name,
});

/**
 * A password policy's complexity as the API and the System Log show it: one flag per character
 * class and per exclusion. A policy written before the exclusions existed reads them at their
 * defaults, as the evaluator does.
 */
function complexityFlags(complexity: PolicyRecord["complexity"] | undefined) {
  return {
    requireUppercase: complexity?.uppercase ?? null,
    requireLowercase: complexity?.lowercase ?? null,
    requireNumber: complexity?.number ?? null,
    requireSymbol: complexity?.symbol ?? null,
    excludeCommonPasswords: complexity ? (complexity.excludeCommonPasswords ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeCommonPasswords) : null,
    excludeUsername: complexity ? (complexity.excludeUsername ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeUsername) : null,
    excludeNames: complexity ? (complexity.excludeNames ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeNames) : null,
  };
}

/** A policy's own settings, flat, for its events: "who lowered minLength" is what an audit asks. */
function loggedSettings(policy: Partial<PolicyRecord>) {
  return {
    name: policy.name ?? null,
    priority: policy.priority ?? null,
    groupIds: policy.groupIds?.join(",") ?? null,
    phoneEnrollment: policy.phoneEnrollment ?? null,
    recoveryMethods: policy.recoveryMethods?.join(",") ?? null,
    maxFailedAttempts: policy.maxFailedAttempts ?? null,
    autoUnlockMinutes: policy.autoUnlockMinutes ?? null,
    minLength: policy.minLength ?? null,
    passwordHistoryCount: policy.historyCount ?? null,
    passwordMaxAgeDays: policy.maxAgeDays ?? null,
    passwordExpireWarnDays: policy.expireWarnDays ?? null,
    passwordMinAgeMinutes: policy.minAgeMinutes ?? null,
    showLockoutFailures: policy.showLockoutFailures ?? null,
    ...complexityFlags(policy.complexity),
  };
}
const LOGGED_SETTINGS = Object.keys(loggedSettings({})) as (keyof ReturnType<typeof loggedSettings>)[];

/** Every type has one default policy, with fixed ids so that concurrent first starts agree. */
const DEFAULT_POLICIES: Array<{ policy: Omit<PolicyRecord, "created" | "updated">; rule: Omit<PolicyRuleRecord, "policyId"> | null }> = [
  {
    policy: base("pol_default_global_session", "GLOBAL_SESSION", "Default global session policy"),
    rule: catchAll("rul_default_global_session"),
  },
  {
    policy: base("pol_default_authentication", "AUTHENTICATION", "Default authentication policy"),
    rule: catchAll("rul_default_authentication"),
  },
  {
    policy: { ...base("pol_default_enrollment", "AUTHENTICATOR_ENROLLMENT", "Default enrollment policy"), phoneEnrollment: "OPTIONAL" },
    rule: null,
  },
  {
    policy: {
      ...base("pol_default_password", "PASSWORD", "Default password policy"),
      minLength: 8,
      historyCount: DEFAULT_PASSWORD_HISTORY_COUNT,
      maxAgeDays: DEFAULT_PASSWORD_MAX_AGE_DAYS,
      expireWarnDays: DEFAULT_PASSWORD_EXPIRE_WARN_DAYS,
      minAgeMinutes: DEFAULT_PASSWORD_MIN_AGE_MINUTES,
      showLockoutFailures: DEFAULT_SHOW_LOCKOUT_FAILURES,
      maxFailedAttempts: 10,
      autoUnlockMinutes: null,
      recoveryMethods: [],
      complexity: { uppercase: false, lowercase: false, number: false, symbol: false, ...DEFAULT_PASSWORD_EXCLUSIONS },
    },
    rule: null,
  },
];

function base(id: string, type: PolicyType, name: string): Omit<PolicyRecord, "created" | "updated"> {
  return {
    id,
    type,
    name,
    priority: 1_000_000,
    isDefault: true,
    groupIds: [],
    phoneEnrollment: null,
    recoveryMethods: null,
    maxFailedAttempts: null,
    autoUnlockMinutes: null,
    minLength: null,
    historyCount: null,
    maxAgeDays: null,
    expireWarnDays: null,
    minAgeMinutes: null,
    showLockoutFailures: null,
    complexity: null,
  };
}

function catchAll(id: string): Omit<PolicyRuleRecord, "policyId"> {
  return {
    id,
    name: "Catch-all rule",
    priority: 1_000_000,
    groupIds: [],
    excludedGroupIds: [],
    clientIds: [],
    networkZones: [],
    access: "ALLOW",
    factorRequirement: "PASSWORD_ONLY",
    methods: null,
    reauthenticateAfterMinutes: null,
    sessionLifetimeMinutes: null,
    sessionIdleMinutes: null,
  };
}

export interface PolicyView extends PolicyModel {
  rules: PolicyRuleModel[];
}

export class PolicyService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
  ) {}

  /** Creates the default policies that do not exist yet; safe to run on every start. */
  async ensureDefaults(): Promise<void> {
    const existing = new Set((await this.db.manager.find(PolicyRecord, { where: { isDefault: true }, select: { id: true } })).map((p) => p.id));
    const missing = DEFAULT_POLICIES.filter(({ policy }) => !existing.has(policy.id));
    if (!missing.length) return;
    const now = this.clock.now();
    await this.db.transaction(async ({ manager }) => {
      for (const { policy, rule } of missing) {
        if (await manager.existsBy(PolicyRecord, { id: policy.id })) continue;
        await manager.insert(PolicyRecord, { ...policy, created: now, updated: now } as PolicyRecord);
        if (rule) await manager.insert(PolicyRuleRecord, { ...rule, policyId: policy.id } as PolicyRuleRecord);
      }
    });
  }

  /** All policies with their rules, ordered for display and evaluation (default last). */
  async list(type?: PolicyType | null): Promise<PolicyView[]> {
    const policies = await this.db.manager.find(PolicyRecord, { where: type ? { type } : {}, order: { type: "ASC", priority: "ASC", id: "ASC" } });
    if (!policies.length) return [];
    const rules = await this.db.manager.find(PolicyRuleRecord, {
      where: { policyId: In(policies.map((p) => p.id)) },
      order: { priority: "ASC", id: "ASC" },
    });
    const views = policies.map((policy) => toView(policy, rules.filter((rule) => rule.policyId === policy.id)));
    // A default policy reports the lowest priority of its type (one past the others'), whatever is stored.
    for (const view of views.filter((v) => v.isDefault)) {
      view.priority = Math.max(0, ...views.filter((v) => v.type === view.type && !v.isDefault).map((v) => v.priority)) + 1;
    }
    return views.sort((a, b) => a.type.localeCompare(b.type) || Number(a.isDefault) - Number(b.isDefault) || a.priority - b.priority);
  }

  /** The names of the policies that name a group, on the policy or any of its rules, to include or to exclude. */
  async policiesNamingGroup(manager: EntityManager, groupId: string): Promise<string[]> {
    const [policies, rules] = await Promise.all([manager.find(PolicyRecord), manager.find(PolicyRuleRecord)]);
    const naming = new Set(
      rules.filter((rule) => rule.groupIds.includes(groupId) || rule.excludedGroupIds.includes(groupId)).map((rule) => rule.policyId),
    );
    return policies
      .filter((policy) => policy.groupIds.includes(groupId) || naming.has(policy.id))
      .map((policy) => policy.name)
      .sort();
  }

  async create(input: PolicyInput, initiator: Initiator): Promise<PolicyView> {
    const groupIds = this.validate(input);
    const now = this.clock.now();
    const id = newId("pol");
    await this.db.transaction(async (tx) => {
      const { manager } = tx;
      await requireGroups(this.db, tx, groupIds);
      await this.lockPolicies(tx, input.type);
      const priority = input.priority ?? (await this.nextPriority(manager, input.type));
      if (input.priority != null) await this.makeRoom(manager, input.type, priority, id, now);
      const record = { ...recordFields(input), id, type: input.type, priority, isDefault: false, created: now, updated: now } as PolicyRecord;
      await manager.insert(PolicyRecord, record);
      await this.replaceRules(manager, id, input.rules ?? []);
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.POLICY_CREATE,
        displayMessage: "Add policy",
        target: [policyTarget(record)],
        debugContext: { ...loggedSettings(record), rules: input.rules?.length ?? 0 },
      });
    });
    return (await this.find(id))!;
  }

  async update(id: string, input: PolicyInput, initiator: Initiator): Promise<PolicyView> {
    const groupIds = this.validate(input);
    await this.db.transaction(async (tx) => {
      const { manager } = tx;
      await requireGroups(this.db, tx, groupIds);
      // Read under the lock: a priority taken over meanwhile has moved this policy.
      await this.lockPolicies(tx, input.type);
      const current = await manager.findOneBy(PolicyRecord, { id });
      if (!current) throw notFound("Policy");
      if (current.type !== input.type) throw badInput("input.type", "a policy cannot change its type");
      if (current.isDefault && input.groupIds?.length) throw badInput("input.groupIds", "the default policy applies to everyone");
      if (!current.isDefault && input.priority != null && input.priority !== current.priority) {
        await this.makeRoom(manager, current.type, input.priority, id, this.clock.now());
      }
      const changes = {
        ...recordFields(input),
        priority: current.isDefault ? current.priority : (input.priority ?? current.priority),
        updated: this.clock.now(),
      } as Partial<PolicyRecord>;
      // Deleted meanwhile (PostgreSQL): its rules must not be written for no policy.
      if (!(await manager.update(PolicyRecord, { id }, changes)).affected) throw notFound("Policy");
      if (input.rules) await this.replaceRules(manager, id, input.rules);
      // Always an event, even with no field changed: rules are replaced whole, not compared.
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.POLICY_UPDATE,
        displayMessage: "Update policy",
        target: [policyTarget({ ...current, ...changes })],
        debugContext: {
          ...(changedSettings(loggedSettings(current), loggedSettings({ ...current, ...changes }), LOGGED_SETTINGS) ?? { changedFields: "" }),
          ...(input.rules ? { rules: input.rules.length } : {}),
        },
      });
    });
    return (await this.find(id))!;
  }

  async delete(id: string, initiator: Initiator): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const policy = await manager.findOneBy(PolicyRecord, { id });
      if (!policy) throw notFound("Policy");
      if (policy.isDefault) throw conflict("DEFAULT_POLICY", "The default policy of a type cannot be deleted");
      // After an update in flight (PostgreSQL): its new rules are then seen, and deleted with it.
      await this.lockPolicies(tx, policy.type);
      await manager.delete(PolicyRuleRecord, { policyId: id });
      // Deleted meanwhile by another request (PostgreSQL): that one logged it.
      if (!(await manager.delete(PolicyRecord, { id })).affected) throw notFound("Policy");
      await this.log.recordChange(tx, initiator, { eventType: EventType.POLICY_DELETE, displayMessage: "Delete policy", target: [policyTarget(policy)] });
      return true;
    });
  }

  async find(id: string): Promise<PolicyView | null> {
    return (await this.list()).find((policy) => policy.id === id) ?? null;
  }

  /**
   * A priority another policy of the type holds is given up to the one that asks for it, and
   * that policy and those after it move down one, as in Okta: two policies at one priority would
   * be tried in the order of their random ids.
   */
  private async makeRoom(manager: Database["manager"], type: PolicyType, priority: number, id: string, now: Date): Promise<void> {
    const taken = await manager.findOne(PolicyRecord, { where: { type, isDefault: false, priority, id: Not(id) } });
    if (!taken) return;
    await manager
      .createQueryBuilder()
      .update(PolicyRecord)
      .set({ priority: () => "priority + 1", updated: now })
      .where("type = :type AND NOT is_default AND priority >= :priority AND id <> :id", { type, priority, id })
      .execute();
  }

  /** Changes to a type's policies one at a time (PostgreSQL): their priorities are read and moved together. */
  private lockPolicies(tx: Transaction, type: PolicyType): Promise<void> {
    return this.db.serializeOn(tx, `policies:${type}`);
  }

  private async nextPriority(manager: Database["manager"], type: PolicyType): Promise<number> {
    const top = await manager.findOne(PolicyRecord, { where: { type, isDefault: false }, order: { priority: "DESC" } });
    return (top?.priority ?? 0) + 1;
  }

  private async replaceRules(manager: Database["manager"], policyId: string, rules: PolicyRuleInput[]): Promise<void> {
    await manager.delete(PolicyRuleRecord, { policyId });
    if (!rules.length) return;
    await manager.insert(
      PolicyRuleRecord,
      rules.map(
        (rule, index) =>
          ({
            id: newId("rul"),
            policyId,
            name: rule.name.trim(),
            priority: rule.priority ?? index + 1,
            groupIds: rule.groupIds ?? [],
            excludedGroupIds: rule.excludedGroupIds ?? [],
            clientIds: rule.clientIds ?? [],
            networkZones: (rule.networkZones ?? []).map((zone) => parseZone(zone).cidr),
            access: rule.access ?? "ALLOW",
            factorRequirement: rule.factorRequirement ?? null,
            methods: rule.methods ?? null,
            reauthenticateAfterMinutes: rule.reauthenticateAfterMinutes ?? null,
            sessionLifetimeMinutes: rule.sessionLifetimeMinutes ?? null,
            sessionIdleMinutes: rule.sessionIdleMinutes ?? null,
          }) as PolicyRuleRecord,
      ),
    );
  }

  /** Checks the input's shape; the groups it names, which the caller's transaction must hold. */
  private validate(input: PolicyInput): string[] {
    const positive = (field: string, value: number | null | undefined, max: number) => {
      if (value != null && (!Number.isInteger(value) || value < 1 || value > max)) throw badInput(field, `must be an integer from 1 to ${max}`);
    };
    positive("input.priority", input.priority, 10_000);
    // Names are stored trimmed: one of spaces only would be stored empty.
    if (!input.name.trim()) throw badInput("input.name", "must not be blank");
    positive("input.maxFailedAttempts", input.maxFailedAttempts, 100);
    positive("input.autoUnlockMinutes", input.autoUnlockMinutes, 10_080);
    if (input.minLength != null && (!Number.isInteger(input.minLength) || input.minLength < 8 || input.minLength > PASSWORD_MAX_LENGTH)) {
      throw badInput("input.minLength", `must be from 8 (NIST 800-63B's floor) to ${PASSWORD_MAX_LENGTH}`);
    }
    const historyCount = input.passwordHistoryCount;
    if (historyCount != null && (!Number.isInteger(historyCount) || historyCount < 0 || historyCount > MAX_PASSWORD_HISTORY_COUNT)) {
      throw badInput("input.passwordHistoryCount", `must be an integer from 0 (no history) to ${MAX_PASSWORD_HISTORY_COUNT}`);
    }
    for (const [field, zero, max] of [
      ["passwordMaxAgeDays", "never expires", MAX_PASSWORD_MAX_AGE_DAYS],
      ["passwordExpireWarnDays", "no warning", MAX_PASSWORD_MAX_AGE_DAYS],
      ["passwordMinAgeMinutes", "no minimum", MAX_PASSWORD_MIN_AGE_MINUTES],
    ] as const) {
      const value = input[field];
      if (value != null && (!Number.isInteger(value) || value < 0 || value > max)) {
        throw badInput(`input.${field}`, `must be an integer from 0 (${zero}) to ${max}`);
      }
    }
    const typeOnly = (field: keyof PolicyInput, type: PolicyType) => {
      if (input[field] != null && input.type !== type) throw badInput(`input.${field}`, `applies to ${type} policies only`);
    };
    typeOnly("phoneEnrollment", "AUTHENTICATOR_ENROLLMENT");
    for (const field of ["recoveryMethods", "maxFailedAttempts", "autoUnlockMinutes", "minLength", "requireUppercase", "requireLowercase", "requireNumber", "requireSymbol", "excludeCommonPasswords", "excludeUsername", "excludeNames", "passwordHistoryCount", "passwordMaxAgeDays", "passwordExpireWarnDays", "passwordMinAgeMinutes", "showLockoutFailures"] as const) {
      typeOnly(field, "PASSWORD");
    }
    const rules = input.rules ?? [];
    if (rules.length && (input.type === "PASSWORD" || input.type === "AUTHENTICATOR_ENROLLMENT")) {
      throw badInput("input.rules", `${input.type} policies have no rules`);
    }
    if (rules.length > 50) throw badInput("input.rules", "at most 50 rules");
    const groupIds = new Set(input.groupIds ?? []);
    // Rules are tried by priority: two with the same one would be tried in an order nobody chose.
    const ruleWithPriority = new Map<number, number>();
    rules.forEach((rule, index) => {
      if (!rule.name.trim()) throw badInput(`input.rules[${index}].name`, "must not be blank");
      positive(`input.rules[${index}].priority`, rule.priority, 10_000);
      const priority = rule.priority ?? index + 1;
      const taken = ruleWithPriority.get(priority);
      if (taken !== undefined) {
        throw badInput(`input.rules[${index}].priority`, `rule ${taken} has priority ${priority} already (a rule without one takes its position); give each rule its own`);
      }
      ruleWithPriority.set(priority, index);
      positive(`input.rules[${index}].reauthenticateAfterMinutes`, rule.reauthenticateAfterMinutes, 10_080);
      positive(`input.rules[${index}].sessionLifetimeMinutes`, rule.sessionLifetimeMinutes, 43_200);
      positive(`input.rules[${index}].sessionIdleMinutes`, rule.sessionIdleMinutes, 43_200);
      if (rule.methods && rule.methods.length === 0) throw badInput(`input.rules[${index}].methods`, "name at least one method, or leave it unset");
      for (const zone of rule.networkZones ?? []) {
        try {
          parseZone(zone);
        } catch (error) {
          throw badInput(`input.rules[${index}].networkZones`, (error as Error).message);
        }
      }
      for (const id of [...(rule.groupIds ?? []), ...(rule.excludedGroupIds ?? [])]) groupIds.add(id);
    });
    return [...groupIds];
  }
}

function recordFields(input: PolicyInput): Partial<PolicyRecord> {
  const complexity =
    input.type === "PASSWORD"
      ? {
          uppercase: input.requireUppercase ?? false,
          lowercase: input.requireLowercase ?? false,
          number: input.requireNumber ?? false,
          symbol: input.requireSymbol ?? false,
          excludeCommonPasswords: input.excludeCommonPasswords ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeCommonPasswords,
          excludeUsername: input.excludeUsername ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeUsername,
          excludeNames: input.excludeNames ?? DEFAULT_PASSWORD_EXCLUSIONS.excludeNames,
        }
      : null;
  return {
    name: input.name.trim(),
    groupIds: input.groupIds ?? [],
    phoneEnrollment: input.type === "AUTHENTICATOR_ENROLLMENT" ? (input.phoneEnrollment ?? "OPTIONAL") : null,
    recoveryMethods: input.type === "PASSWORD" ? (input.recoveryMethods ?? []) : null,
    maxFailedAttempts: input.type === "PASSWORD" ? (input.maxFailedAttempts ?? 10) : null,
    autoUnlockMinutes: input.type === "PASSWORD" ? (input.autoUnlockMinutes ?? null) : null,
    minLength: input.type === "PASSWORD" ? (input.minLength ?? 8) : null,
    historyCount: input.type === "PASSWORD" ? (input.passwordHistoryCount ?? DEFAULT_PASSWORD_HISTORY_COUNT) : null,
    maxAgeDays: input.type === "PASSWORD" ? (input.passwordMaxAgeDays ?? DEFAULT_PASSWORD_MAX_AGE_DAYS) : null,
    expireWarnDays: input.type === "PASSWORD" ? (input.passwordExpireWarnDays ?? DEFAULT_PASSWORD_EXPIRE_WARN_DAYS) : null,
    minAgeMinutes: input.type === "PASSWORD" ? (input.passwordMinAgeMinutes ?? DEFAULT_PASSWORD_MIN_AGE_MINUTES) : null,
    showLockoutFailures: input.type === "PASSWORD" ? (input.showLockoutFailures ?? DEFAULT_SHOW_LOCKOUT_FAILURES) : null,
    complexity,
  };
}

function toView(policy: PolicyRecord, rules: PolicyRuleRecord[]): PolicyView {
  return {
    id: policy.id,
    type: policy.type,
    name: policy.name,
    priority: policy.priority,
    isDefault: policy.isDefault,
    groupIds: policy.groupIds,
    phoneEnrollment: policy.phoneEnrollment,
    recoveryMethods: policy.recoveryMethods,
    maxFailedAttempts: policy.maxFailedAttempts,
    autoUnlockMinutes: policy.autoUnlockMinutes,
    minLength: policy.minLength,
    passwordHistoryCount: policy.type === "PASSWORD" ? (policy.historyCount ?? DEFAULT_PASSWORD_HISTORY_COUNT) : null,
    passwordMaxAgeDays: policy.type === "PASSWORD" ? (policy.maxAgeDays ?? DEFAULT_PASSWORD_MAX_AGE_DAYS) : null,
    passwordExpireWarnDays: policy.type === "PASSWORD" ? (policy.expireWarnDays ?? DEFAULT_PASSWORD_EXPIRE_WARN_DAYS) : null,
    passwordMinAgeMinutes: policy.type === "PASSWORD" ? (policy.minAgeMinutes ?? DEFAULT_PASSWORD_MIN_AGE_MINUTES) : null,
    showLockoutFailures: policy.type === "PASSWORD" ? (policy.showLockoutFailures ?? DEFAULT_SHOW_LOCKOUT_FAILURES) : null,
    ...complexityFlags(policy.complexity),
    rules: rules.map((rule) => ({
      id: rule.id,
      name: rule.name,
      priority: rule.priority,
      groupIds: rule.groupIds,
      excludedGroupIds: rule.excludedGroupIds,
      clientIds: rule.clientIds,
      networkZones: rule.networkZones,
      access: rule.access,
      factorRequirement: rule.factorRequirement,
      methods: rule.methods,
      reauthenticateAfterMinutes: rule.reauthenticateAfterMinutes,
      sessionLifetimeMinutes: rule.sessionLifetimeMinutes,
      sessionIdleMinutes: rule.sessionIdleMinutes,
    })),
  };
}
