import {
  DEFAULT_MAX_FAILED_ATTEMPTS,
  DEFAULT_PASSWORD_HISTORY_COUNT,
  DEFAULT_PASSWORD_MIN_LENGTH,
  DEFAULT_SESSION_IDLE_MINUTES,
  DEFAULT_SESSION_LIFETIME_MINUTES,
  checkPasswordAgainstPolicy,
  evaluateEnrollment,
  evaluatePassword,
  evaluateSignOn,
  isPasswordExpired,
  passwordChangeAllowedAt,
  passwordExpiryWarning,
  orderPolicies,
  selectRule,
  type PasswordDecision,
  type SignOnDecision,
} from "../../../src/policies/evaluate";
import { ipInZones, parseZone } from "../../../src/policies/network-zones";
import type { PhoneMethod, PolicyModel, PolicyRuleModel, SignOnContext } from "../../../src/policies/policy.model";

// Threat: a sign-in that should be refused or should need the phone gets through on a
// password alone, because a policy, a rule or a zone was picked wrongly.

const ADMINS = "g-admins";
const CONTRACTORS = "g-contractors";
const STAFF = "g-staff";
const BLOCKED = "g-blocked";
const PAYROLL = "app-payroll";
const WIKI = "app-wiki";
const OFFICE = ["10.0.0.0/8", "2001:db8:1::/48"];
const BAD_NETWORKS = ["203.0.113.0/24", "2001:db8:bad::/48"];

function rule(id: string, priority: number, fields: Partial<PolicyRuleModel> = {}): PolicyRuleModel {
  return {
    id,
    name: id,
    priority,
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
    ...fields,
  };
}

function policy(id: string, type: PolicyModel["type"], priority: number, fields: Partial<PolicyModel> = {}): PolicyModel {
  return {
    id,
    type,
    name: id,
    priority,
    isDefault: false,
    groupIds: [],
    rules: [],
    phoneEnrollment: null,
    recoveryMethods: null,
    maxFailedAttempts: null,
    autoUnlockMinutes: null,
    minLength: null,
    requireUppercase: null,
    requireLowercase: null,
    requireNumber: null,
    requireSymbol: null,
    excludeCommonPasswords: null,
    excludeUsername: null,
    excludeNames: null,
    passwordHistoryCount: null,
    passwordMaxAgeDays: null,
    passwordExpireWarnDays: null,
    passwordMinAgeMinutes: null,
    showLockoutFailures: null,
    ...fields,
  };
}

function context(fields: Partial<SignOnContext> = {}): SignOnContext {
  return {
    userGroupIds: [],
    clientId: null,
    ipAddress: null,
    authenticatorUsage: "MFA_AND_RECOVERY",
    authenticatorMethods: ["SMS", "VOICE"],
    authenticatorActive: true,
    ...fields,
  };
}

/**
 * Policies as an admin might leave them: listed out of order, the defaults numbered 0 so a
 * plain sort by number would put them first, and rules listed against their priority.
 */
const POLICIES: PolicyModel[] = [
  policy("gs-default", "GLOBAL_SESSION", 0, {
    isDefault: true,
    rules: [rule("gs-default-catch-all", 9), rule("gs-default-deny-bad-networks", 1, { networkZones: BAD_NETWORKS, access: "DENY" })],
  }),
  policy("gs-contractors", "GLOBAL_SESSION", 2, {
    groupIds: [CONTRACTORS],
    rules: [
      rule("gs-contractors-catch-all", 3, { factorRequirement: "PASSWORD_AND_PHONE", methods: ["VOICE"] }),
      rule("gs-contractors-deny-outside", 2, { excludedGroupIds: [STAFF], access: "DENY" }),
      rule("gs-contractors-office", 1, { networkZones: OFFICE }),
    ],
  }),
  policy("gs-admins", "GLOBAL_SESSION", 1, {
    groupIds: [ADMINS],
    rules: [
      rule("gs-admins-office", 1, {
        networkZones: OFFICE,
        reauthenticateAfterMinutes: 60,
        sessionLifetimeMinutes: 480,
        sessionIdleMinutes: 30,
      }),
      rule("gs-admins-anywhere", 2, {
        factorRequirement: "PASSWORD_AND_PHONE",
        methods: ["SMS"],
        reauthenticateAfterMinutes: 15,
        sessionLifetimeMinutes: 60,
      }),
    ],
  }),
  policy("auth-default", "AUTHENTICATION", 0, {
    isDefault: true,
    rules: [
      rule("auth-default-catch-all", 3, { factorRequirement: null }),
      rule("auth-payroll", 2, {
        clientIds: [PAYROLL],
        factorRequirement: "PASSWORD_AND_PHONE",
        reauthenticateAfterMinutes: 30,
      }),
      rule("auth-deny-blocked-on-wiki", 1, { groupIds: [BLOCKED], clientIds: [WIKI], access: "DENY" }),
    ],
  }),
  policy("auth-admins", "AUTHENTICATION", 1, {
    groupIds: [ADMINS],
    // No catch-all: an admin on another app is left to the default policy.
    rules: [
      rule("auth-admins-payroll", 1, {
        clientIds: [PAYROLL],
        factorRequirement: "PASSWORD_AND_PHONE",
        methods: ["SMS", "VOICE"],
        reauthenticateAfterMinutes: 5,
        sessionLifetimeMinutes: 20,
        sessionIdleMinutes: 10,
      }),
    ],
  }),
];

interface SignOnCase {
  label: string;
  groups: string[];
  clientId: string | null;
  ip: string | null;
  expected: SignOnDecision;
}

function allow(
  globalSession: [string, string | null],
  authentication: [string, string | null],
  fields: Partial<SignOnDecision> = {},
): SignOnDecision {
  return {
    access: "ALLOW",
    reason: null,
    factorRequirement: "PASSWORD_ONLY",
    phoneMethods: ["SMS", "VOICE"],
    reauthenticateAfterMinutes: null,
    sessionLifetimeMinutes: DEFAULT_SESSION_LIFETIME_MINUTES,
    sessionIdleMinutes: DEFAULT_SESSION_IDLE_MINUTES,
    matched: {
      globalSession: { policyId: globalSession[0], ruleId: globalSession[1] },
      authentication: { policyId: authentication[0], ruleId: authentication[1] },
    },
    ...fields,
  };
}

function deny(
  reason: SignOnDecision["reason"],
  globalSession: [string, string | null],
  authentication: [string, string | null],
  fields: Partial<SignOnDecision> = {},
): SignOnDecision {
  return allow(globalSession, authentication, { access: "DENY", reason, phoneMethods: [], ...fields });
}

const DEFAULT_GS: [string, string] = ["gs-default", "gs-default-catch-all"];
const DEFAULT_AUTH: [string, string] = ["auth-default", "auth-default-catch-all"];
const PAYROLL_AUTH: [string, string] = ["auth-default", "auth-payroll"];
const ADMINS_PAYROLL: [string, string] = ["auth-admins", "auth-admins-payroll"];

describe("evaluateSignOn", () => {
  test.each<SignOnCase>([
    // The default policy's number (0) is the lowest, yet it is tried last.
    {
      label: "staff, wiki, office IPv4: the defaults' catch-alls",
      groups: [STAFF],
      clientId: WIKI,
      ip: "10.1.2.3",
      expected: allow(DEFAULT_GS, DEFAULT_AUTH),
    },
    {
      label: "no groups, no app, no IP: the defaults' catch-alls",
      groups: [],
      clientId: null,
      ip: null,
      expected: allow(DEFAULT_GS, DEFAULT_AUTH),
    },
    {
      label: "unparsable IP meets only zone-less rules",
      groups: [STAFF],
      clientId: WIKI,
      ip: "not-an-ip",
      expected: allow(DEFAULT_GS, DEFAULT_AUTH),
    },
    {
      label: "IPv4 in a bad network: DENY by zone",
      groups: [STAFF],
      clientId: WIKI,
      ip: "203.0.113.9",
      expected: deny("DENIED_BY_GLOBAL_SESSION_RULE", ["gs-default", "gs-default-deny-bad-networks"], DEFAULT_AUTH),
    },
    {
      label: "IPv6 in a bad network: DENY by zone",
      groups: [STAFF],
      clientId: WIKI,
      ip: "2001:db8:bad::1",
      expected: deny("DENIED_BY_GLOBAL_SESSION_RULE", ["gs-default", "gs-default-deny-bad-networks"], DEFAULT_AUTH),
    },
    {
      label: "IPv4-mapped IPv6 in a bad IPv4 network: DENY by zone",
      groups: [STAFF],
      clientId: WIKI,
      ip: "::ffff:203.0.113.9",
      expected: deny("DENIED_BY_GLOBAL_SESSION_RULE", ["gs-default", "gs-default-deny-bad-networks"], DEFAULT_AUTH),
    },
    {
      label: "IPv6 next to the bad network is not in it",
      groups: [STAFF],
      clientId: WIKI,
      ip: "2001:db8:bae::1",
      expected: allow(DEFAULT_GS, DEFAULT_AUTH),
    },
    {
      label: "payroll demands the phone though the session policy does not",
      groups: [STAFF],
      clientId: PAYROLL,
      ip: "10.1.2.3",
      expected: allow(DEFAULT_GS, PAYROLL_AUTH, { factorRequirement: "PASSWORD_AND_PHONE", reauthenticateAfterMinutes: 30 }),
    },
    {
      label: "a null client id meets only rules without client ids",
      groups: [BLOCKED],
      clientId: null,
      ip: null,
      expected: allow(DEFAULT_GS, DEFAULT_AUTH),
    },
    {
      label: "blocked group on the wiki: DENY by the authentication rule",
      groups: [BLOCKED],
      clientId: WIKI,
      ip: null,
      expected: deny("DENIED_BY_AUTHENTICATION_RULE", DEFAULT_GS, ["auth-default", "auth-deny-blocked-on-wiki"]),
    },
    {
      label: "blocked group on payroll: the app's rule, not the wiki's DENY",
      groups: [BLOCKED],
      clientId: PAYROLL,
      ip: null,
      expected: allow(DEFAULT_GS, PAYROLL_AUTH, { factorRequirement: "PASSWORD_AND_PHONE", reauthenticateAfterMinutes: 30 }),
    },
    {
      label: "a session DENY beats an authentication DENY in the reason",
      groups: [BLOCKED],
      clientId: WIKI,
      ip: "203.0.113.1",
      expected: deny(
        "DENIED_BY_GLOBAL_SESSION_RULE",
        ["gs-default", "gs-default-deny-bad-networks"],
        ["auth-default", "auth-deny-blocked-on-wiki"],
      ),
    },
    {
      label: "admin in the office on the wiki: group policy beats default; no auth rule of the admins' matches, so the default's does",
      groups: [ADMINS],
      clientId: WIKI,
      ip: "10.9.9.9",
      expected: allow(["gs-admins", "gs-admins-office"], DEFAULT_AUTH, {
        reauthenticateAfterMinutes: 60,
        sessionLifetimeMinutes: 480,
        sessionIdleMinutes: 30,
      }),
    },
    {
      label: "admin in the office by IPv6",
      groups: [ADMINS],
      clientId: WIKI,
      ip: "2001:db8:1:ffff::5",
      expected: allow(["gs-admins", "gs-admins-office"], DEFAULT_AUTH, {
        reauthenticateAfterMinutes: 60,
        sessionLifetimeMinutes: 480,
        sessionIdleMinutes: 30,
      }),
    },
    {
      label: "admin in the office on payroll via IPv4-mapped: the stricter of both rules",
      groups: [ADMINS],
      clientId: PAYROLL,
      ip: "::ffff:10.0.0.1",
      expected: allow(["gs-admins", "gs-admins-office"], ADMINS_PAYROLL, {
        factorRequirement: "PASSWORD_AND_PHONE",
        reauthenticateAfterMinutes: 5,
        sessionLifetimeMinutes: 20,
        sessionIdleMinutes: 10,
      }),
    },
    {
      label: "admin outside on the wiki: phone by SMS only, idle time defaulted",
      groups: [ADMINS],
      clientId: WIKI,
      ip: "198.51.100.7",
      expected: allow(["gs-admins", "gs-admins-anywhere"], DEFAULT_AUTH, {
        factorRequirement: "PASSWORD_AND_PHONE",
        phoneMethods: ["SMS"],
        reauthenticateAfterMinutes: 15,
        sessionLifetimeMinutes: 60,
      }),
    },
    {
      label: "admin outside on payroll: methods intersected, smallest limits",
      groups: [ADMINS],
      clientId: PAYROLL,
      ip: "198.51.100.7",
      expected: allow(["gs-admins", "gs-admins-anywhere"], ADMINS_PAYROLL, {
        factorRequirement: "PASSWORD_AND_PHONE",
        phoneMethods: ["SMS"],
        reauthenticateAfterMinutes: 5,
        sessionLifetimeMinutes: 20,
        sessionIdleMinutes: 10,
      }),
    },
    {
      label: "admin with no IP is outside the office",
      groups: [ADMINS],
      clientId: WIKI,
      ip: null,
      expected: allow(["gs-admins", "gs-admins-anywhere"], DEFAULT_AUTH, {
        factorRequirement: "PASSWORD_AND_PHONE",
        phoneMethods: ["SMS"],
        reauthenticateAfterMinutes: 15,
        sessionLifetimeMinutes: 60,
      }),
    },
    {
      label: "contractor in the office: first matching rule by priority",
      groups: [CONTRACTORS],
      clientId: WIKI,
      ip: "10.0.0.1",
      expected: allow(["gs-contractors", "gs-contractors-office"], DEFAULT_AUTH),
    },
    {
      label: "contractor outside: DENY",
      groups: [CONTRACTORS],
      clientId: WIKI,
      ip: "198.51.100.7",
      expected: deny("DENIED_BY_GLOBAL_SESSION_RULE", ["gs-contractors", "gs-contractors-deny-outside"], DEFAULT_AUTH),
    },
    {
      label: "contractor with no IP: DENY, an unknown address is in no zone",
      groups: [CONTRACTORS],
      clientId: WIKI,
      ip: null,
      expected: deny("DENIED_BY_GLOBAL_SESSION_RULE", ["gs-contractors", "gs-contractors-deny-outside"], DEFAULT_AUTH),
    },
    {
      label: "contractor who is also staff is excluded from the DENY",
      groups: [CONTRACTORS, STAFF],
      clientId: WIKI,
      ip: "198.51.100.7",
      expected: allow(["gs-contractors", "gs-contractors-catch-all"], DEFAULT_AUTH, {
        factorRequirement: "PASSWORD_AND_PHONE",
        phoneMethods: ["VOICE"],
      }),
    },
    {
      label: "contractor who is also admin: the policy with priority 1 applies",
      groups: [CONTRACTORS, ADMINS],
      clientId: WIKI,
      ip: "198.51.100.7",
      expected: allow(["gs-admins", "gs-admins-anywhere"], DEFAULT_AUTH, {
        factorRequirement: "PASSWORD_AND_PHONE",
        phoneMethods: ["SMS"],
        reauthenticateAfterMinutes: 15,
        sessionLifetimeMinutes: 60,
      }),
    },
    {
      label: "blocked admin on the wiki: the admins' policy has no rule for it, so the default's DENY holds",
      groups: [ADMINS, BLOCKED],
      clientId: WIKI,
      ip: "10.9.9.9",
      expected: deny("DENIED_BY_AUTHENTICATION_RULE", ["gs-admins", "gs-admins-office"], ["auth-default", "auth-deny-blocked-on-wiki"], {
        reauthenticateAfterMinutes: 60,
        sessionLifetimeMinutes: 480,
        sessionIdleMinutes: 30,
      }),
    },
    {
      label: "contractor-and-staff on payroll: VOICE from the session rule, any from the app's; the phone every time, as the session rule asks",
      groups: [CONTRACTORS, STAFF],
      clientId: PAYROLL,
      ip: "198.51.100.7",
      expected: allow(["gs-contractors", "gs-contractors-catch-all"], PAYROLL_AUTH, {
        factorRequirement: "PASSWORD_AND_PHONE",
        phoneMethods: ["VOICE"],
      }),
    },
  ])("$label", ({ groups, clientId, ip, expected }) => {
    expect(evaluateSignOn(POLICIES, context({ userGroupIds: groups, clientId, ipAddress: ip }))).toEqual(expected);
  });

  test("the input order of policies and rules does not change the decision", () => {
    const reversed = [...POLICIES].reverse().map((p) => ({ ...p, rules: [...p.rules].reverse() }));
    const ctx = context({ userGroupIds: [CONTRACTORS], clientId: PAYROLL, ipAddress: "10.0.0.1" });
    expect(evaluateSignOn(reversed, ctx)).toEqual(evaluateSignOn(POLICIES, ctx));
  });

  test("no policies at all: the implicit ALLOW with default session limits", () => {
    expect(evaluateSignOn([], context())).toEqual({
      access: "ALLOW",
      reason: null,
      factorRequirement: "PASSWORD_ONLY",
      phoneMethods: ["SMS", "VOICE"],
      reauthenticateAfterMinutes: null,
      sessionLifetimeMinutes: 120,
      sessionIdleMinutes: 60,
      matched: { globalSession: null, authentication: null },
    });
  });

  test("a rule that asks for the phone every time is not loosened by another's remembering, least of all one that asks for no phone", () => {
    const everyTime = policy("gs", "GLOBAL_SESSION", 1, { isDefault: true, rules: [rule("phone-every-time", 1, { factorRequirement: "PASSWORD_AND_PHONE" })] });
    const wikiRemembers = policy("auth", "AUTHENTICATION", 1, {
      isDefault: true,
      rules: [rule("wiki", 1, { clientIds: [WIKI], reauthenticateAfterMinutes: 720 }), rule("catch-all", 2)],
    });
    expect(evaluateSignOn([everyTime, wikiRemembers], context({ clientId: WIKI })).reauthenticateAfterMinutes).toBeNull();
    const remembered = policy("gs", "GLOBAL_SESSION", 1, {
      isDefault: true,
      rules: [rule("phone-remembered", 1, { factorRequirement: "PASSWORD_AND_PHONE", reauthenticateAfterMinutes: 60 })],
    });
    // Both remember: the shorter wins.
    expect(evaluateSignOn([remembered, wikiRemembers], context({ clientId: WIKI })).reauthenticateAfterMinutes).toBe(60);
    const wikiEveryTime = policy("auth", "AUTHENTICATION", 1, {
      isDefault: true,
      rules: [rule("wiki", 1, { clientIds: [WIKI], factorRequirement: "PASSWORD_AND_PHONE" }), rule("catch-all", 2)],
    });
    expect(evaluateSignOn([remembered, wikiEveryTime], context({ clientId: WIKI })).reauthenticateAfterMinutes).toBeNull();
  });

  test("a corrupt stored zone fails the evaluation instead of disabling its rule", () => {
    const broken = [
      policy("gs", "GLOBAL_SESSION", 1, {
        isDefault: true,
        rules: [rule("deny", 1, { networkZones: ["10.0.0.0/99"], access: "DENY" }), rule("all", 2)],
      }),
    ];
    expect(() => evaluateSignOn(broken, context({ ipAddress: "10.0.0.1" }))).toThrow(/prefix length/);
  });
});

describe("the phone authenticator against a rule that requires the phone", () => {
  const requirePhone = (methods: PhoneMethod[] | null): PolicyModel[] => [
    policy("gs", "GLOBAL_SESSION", 1, {
      isDefault: true,
      rules: [rule("phone", 1, { factorRequirement: "PASSWORD_AND_PHONE", methods })],
    }),
  ];
  const unavailable: Partial<SignOnDecision> = { access: "DENY", reason: "PHONE_REQUIRED_BUT_UNAVAILABLE", phoneMethods: [] };

  test.each<[string, PhoneMethod[] | null, Partial<SignOnContext>, Partial<SignOnDecision>]>([
    ["active, both methods, rule allows any", null, {}, { access: "ALLOW", reason: null, phoneMethods: ["SMS", "VOICE"] }],
    ["active, VOICE only, rule allows any", null, { authenticatorMethods: ["VOICE"] }, { access: "ALLOW", phoneMethods: ["VOICE"] }],
    ["active, both methods, rule allows SMS", ["SMS"], {}, { access: "ALLOW", phoneMethods: ["SMS"] }],
    ["RECOVERY_ONLY", null, { authenticatorUsage: "RECOVERY_ONLY" }, unavailable],
    ["inactive", null, { authenticatorActive: false }, unavailable],
    ["active, VOICE only, rule allows SMS only", ["SMS"], { authenticatorMethods: ["VOICE"] }, unavailable],
    ["active, no methods", null, { authenticatorMethods: [] }, unavailable],
    ["rule lists no method at all", [], {}, unavailable],
  ])("%s", (_label, methods, authenticator, expected) => {
    const decision = evaluateSignOn(requirePhone(methods), context(authenticator));
    expect(decision).toMatchObject({ factorRequirement: "PASSWORD_AND_PHONE", ...expected });
  });

  test("RECOVERY_ONLY with password-only sign-on: allowed, and no phone method offered for MFA", () => {
    const passwordOnly = [policy("gs", "GLOBAL_SESSION", 1, { isDefault: true, rules: [rule("pw", 1)] })];
    expect(evaluateSignOn(passwordOnly, context({ authenticatorUsage: "RECOVERY_ONLY" }))).toMatchObject({
      access: "ALLOW",
      factorRequirement: "PASSWORD_ONLY",
      phoneMethods: [],
    });
  });
});

describe("policy and rule order", () => {
  test("the default policy comes last even with a lower priority number; ties break on id", () => {
    const policies = [
      policy("default", "PASSWORD", 0, { isDefault: true }),
      policy("b", "PASSWORD", 5),
      policy("a", "PASSWORD", 5),
      policy("first", "PASSWORD", 1),
      policy("other-type", "GLOBAL_SESSION", 0),
    ];
    expect(orderPolicies(policies, "PASSWORD").map((p) => p.id)).toEqual(["first", "a", "b", "default"]);
  });

  test("the first rule whose conditions all hold wins, by priority not by position", () => {
    const p = policy("p", "AUTHENTICATION", 1, {
      rules: [
        rule("catch-all", 10),
        rule("wiki-from-office", 2, { clientIds: [WIKI], networkZones: OFFICE }),
        rule("wiki", 3, { clientIds: [WIKI] }),
      ],
    });
    expect(selectRule(p, { userGroupIds: [], clientId: WIKI, ipAddress: "10.0.0.1" })?.id).toBe("wiki-from-office");
    expect(selectRule(p, { userGroupIds: [], clientId: WIKI, ipAddress: "8.8.8.8" })?.id).toBe("wiki");
    expect(selectRule(p, { userGroupIds: [], clientId: PAYROLL, ipAddress: "10.0.0.1" })?.id).toBe("catch-all");
  });

  test("a non-default policy with no groups applies to everyone, ahead of the default", () => {
    const policies = [
      policy("default", "AUTHENTICATOR_ENROLLMENT", 1, { isDefault: true, phoneEnrollment: "NOT_ALLOWED" }),
      policy("everyone", "AUTHENTICATOR_ENROLLMENT", 2, { phoneEnrollment: "REQUIRED" }),
    ];
    expect(evaluateEnrollment(policies, { userGroupIds: [] })).toEqual({ phone: "REQUIRED", policyId: "everyone" });
  });
});

describe("evaluateEnrollment", () => {
  const policies = [
    policy("enroll-default", "AUTHENTICATOR_ENROLLMENT", 0, { isDefault: true, phoneEnrollment: "OPTIONAL" }),
    policy("enroll-admins", "AUTHENTICATOR_ENROLLMENT", 1, { groupIds: [ADMINS], phoneEnrollment: "REQUIRED" }),
    policy("enroll-contractors", "AUTHENTICATOR_ENROLLMENT", 2, { groupIds: [CONTRACTORS], phoneEnrollment: "NOT_ALLOWED" }),
  ];

  test.each<[string, PolicyModel[], string[], ReturnType<typeof evaluateEnrollment>]>([
    ["admins must enroll", policies, [ADMINS], { phone: "REQUIRED", policyId: "enroll-admins" }],
    ["contractors may not", policies, [CONTRACTORS], { phone: "NOT_ALLOWED", policyId: "enroll-contractors" }],
    ["admin and contractor: priority 1 wins", policies, [CONTRACTORS, ADMINS], { phone: "REQUIRED", policyId: "enroll-admins" }],
    ["anyone else gets the default", policies, [STAFF], { phone: "OPTIONAL", policyId: "enroll-default" }],
    ["no policy: OPTIONAL", [], [ADMINS], { phone: "OPTIONAL", policyId: null }],
    ["other types are ignored", POLICIES, [ADMINS], { phone: "OPTIONAL", policyId: null }],
  ])("%s", (_label, list, groups, expected) => {
    expect(evaluateEnrollment(list, { userGroupIds: groups })).toEqual(expected);
  });
});

describe("evaluatePassword", () => {
  const policies = [
    policy("pw-default", "PASSWORD", 0, { isDefault: true }),
    policy("pw-admins", "PASSWORD", 1, {
      groupIds: [ADMINS],
      minLength: 14,
      requireUppercase: true,
      requireLowercase: true,
      requireNumber: true,
      requireSymbol: true,
      excludeCommonPasswords: false,
      excludeUsername: false,
      excludeNames: true,
      passwordHistoryCount: 0,
      passwordMaxAgeDays: 90,
      passwordExpireWarnDays: 7,
      passwordMinAgeMinutes: 1_440,
      maxFailedAttempts: 3,
      autoUnlockMinutes: 30,
      showLockoutFailures: false,
      recoveryMethods: ["SMS", "VOICE", "SMS"],
    }),
  ];
  const defaults: PasswordDecision = {
    policyId: null,
    minLength: DEFAULT_PASSWORD_MIN_LENGTH,
    requireUppercase: false,
    requireLowercase: false,
    requireNumber: false,
    requireSymbol: false,
    excludeCommonPasswords: true,
    excludeUsername: true,
    excludeNames: false,
    historyCount: DEFAULT_PASSWORD_HISTORY_COUNT,
    maxAgeDays: 0,
    expireWarnDays: 0,
    minAgeMinutes: 0,
    maxFailedAttempts: DEFAULT_MAX_FAILED_ATTEMPTS,
    autoUnlockMinutes: null,
    showLockoutFailures: true,
    recoveryMethods: [],
  };

  test.each<[string, PolicyModel[], string[], PasswordDecision]>([
    [
      "admins get their policy",
      policies,
      [ADMINS],
      {
        policyId: "pw-admins",
        minLength: 14,
        requireUppercase: true,
        requireLowercase: true,
        requireNumber: true,
        requireSymbol: true,
        excludeCommonPasswords: false,
        excludeUsername: false,
        excludeNames: true,
        historyCount: 0,
        maxAgeDays: 90,
        expireWarnDays: 7,
        minAgeMinutes: 1_440,
        maxFailedAttempts: 3,
        autoUnlockMinutes: 30,
        showLockoutFailures: false,
        recoveryMethods: ["SMS", "VOICE"],
      },
    ],
    ["others get the default policy, its blanks filled with defaults", policies, [STAFF], { ...defaults, policyId: "pw-default" }],
    ["no policy: defaults, recovery by phone off", [], [STAFF], defaults],
  ])("%s", (_label, list, groups, expected) => {
    expect(evaluatePassword(list, { userGroupIds: groups })).toEqual(expected);
  });
});

describe("isPasswordExpired", () => {
  const changed = new Date("2026-01-01T00:00:00Z");
  const daysLater = (days: number, ms = 0) => new Date(changed.getTime() + days * 86_400_000 + ms);

  test.each<[string, number, { expired: boolean; changed: Date | null }, Date, boolean]>([
    ["never, with no maximum age", 0, { expired: false, changed }, daysLater(10_000), false],
    ["not a millisecond before the maximum age", 90, { expired: false, changed }, daysLater(90, -1), false],
    ["at the maximum age", 90, { expired: false, changed }, daysLater(90), true],
    ["past it", 1, { expired: false, changed }, daysLater(2), true],
    ["when an admin expired it, whatever its age", 0, { expired: true, changed }, changed, true],
    ["not by age when its age is unknown", 1, { expired: false, changed: null }, daysLater(365), false],
    ["by an admin when its age is unknown", 1, { expired: true, changed: null }, changed, true],
  ])("%s", (_label, maxAgeDays, password, now, expected) => {
    expect(isPasswordExpired({ maxAgeDays }, password, now)).toBe(expected);
  });
});

describe("passwordExpiryWarning", () => {
  const changed = new Date("2026-01-01T00:00:00Z");
  const daysLater = (days: number, ms = 0) => new Date(changed.getTime() + days * 86_400_000 + ms);
  const expiresAt = daysLater(90);

  test.each<[string, { maxAgeDays: number; expireWarnDays: number }, Date | null, Date, Date | null]>([
    ["none before the window", { maxAgeDays: 90, expireWarnDays: 7 }, changed, daysLater(83, -1), null],
    ["the expiry from the window's first moment", { maxAgeDays: 90, expireWarnDays: 7 }, changed, daysLater(83), expiresAt],
    ["the expiry up to its last moment", { maxAgeDays: 90, expireWarnDays: 7 }, changed, daysLater(90, -1), expiresAt],
    ["none once expired: that is no longer a warning", { maxAgeDays: 90, expireWarnDays: 7 }, changed, expiresAt, null],
    ["none when the policy asks for none", { maxAgeDays: 90, expireWarnDays: 0 }, changed, daysLater(89), null],
    ["none when passwords do not expire", { maxAgeDays: 0, expireWarnDays: 7 }, changed, daysLater(89), null],
    ["none when the password's age is unknown", { maxAgeDays: 90, expireWarnDays: 7 }, null, daysLater(89), null],
  ])("%s", (_label, policy, passwordChanged, now, expected) => {
    expect(passwordExpiryWarning(policy, passwordChanged, now)).toEqual(expected);
  });
});

describe("checkPasswordAgainstPolicy", () => {
  const exclusionsOff = { excludeCommonPasswords: false, excludeUsername: false, excludeNames: false };
  const base = { minLength: 8, requireUppercase: false, requireLowercase: false, requireNumber: false, requireSymbol: false, ...exclusionsOff };
  const strict = { minLength: 12, requireUppercase: true, requireLowercase: true, requireNumber: true, requireSymbol: true, ...exclusionsOff };
  const owner = { login: "carol@example.com" };

  test.each<[string, string, typeof base, string | null]>([
    ["a passphrase", "correct horse battery", base, null],
    ["seven precomposed é are 7 code points", "ééééééé", base, "MIN_LENGTH:8"],
    ["eight precomposed é", "éééééééé", base, null],
    ["seven decomposed é (e + U+0301) are still 7", "e\u0301".repeat(7), base, "MIN_LENGTH:8"],
    ["four emoji are 4 code points, 8 UTF-16 units", "😀😀😀😀", base, "MIN_LENGTH:8"],
    ["empty", "", base, "MIN_LENGTH:8"],
    ["256 code points", "a".repeat(256), base, null],
    ["257 code points", "a".repeat(257), base, "MAX_LENGTH:256"],
    // Each would be hashed as U+FFFD: ten \uD800 and ten \uDFFF would be the same password.
    ["lone surrogates", "\uD800".repeat(10), base, "INVALID_CHARACTERS"],
    ["a lone surrogate among letters", "long enough\uDFFF", base, "INVALID_CHARACTERS"],
    ["strict: short", "Aa1!", strict, "MIN_LENGTH:12"],
    ["strict: no uppercase", "aaaaaaaaaa1!", strict, "UPPERCASE"],
    ["strict: no lowercase", "AAAAAAAAAA1!", strict, "LOWERCASE"],
    ["strict: no number", "Aaaaaaaaaaa!", strict, "NUMBER"],
    ["strict: no symbol (a space is none)", "Aaaaaaaa aa1", strict, "SYMBOL"],
    ["strict: all there", "Aaaaaaaaaa1!", strict, null],
    ["strict: non-Latin letters count", "Ééééééééééé1€", strict, null],
    ["exclusions off: a common password passes", "password1", base, null],
    ["exclusions off: the username passes", "carol's long password", base, null],
  ])("%s", (_label, password, policyRules, expected) => {
    expect(checkPasswordAgainstPolicy(password, policyRules, owner)).toBe(expected);
  });

  const common = { ...base, excludeCommonPasswords: true };
  const username = { ...base, excludeUsername: true };

  test.each<[string, string, string, typeof base, string | null]>([
    ["a common password", "password1", owner.login, common, "COMMON_PASSWORD"],
    ["in any case", "PassWord1", owner.login, common, "COMMON_PASSWORD"],
    ["fullwidth letters are normalized first", "ｑｗｅｒｔｙｕｉｏｐ", owner.login, common, "COMMON_PASSWORD"],
    ["a keyboard walk from the list", "1q2w3e4r", owner.login, common, "COMMON_PASSWORD"],
    ["length is checked first", "123456", owner.login, common, "MIN_LENGTH:8"],
    ["composition is checked before the list", "password1", owner.login, { ...common, requireUppercase: true }, "UPPERCASE"],
    ["a passphrase is not on the list", "correct horse battery", owner.login, common, null],
    ["a common word inside a longer password is allowed", "password1 for the horse", owner.login, common, null],
    ["the username inside the password", "carol in the morning", owner.login, username, "CONTAINS_USERNAME"],
    ["in any case", "Good Day CAROL!", owner.login, username, "CONTAINS_USERNAME"],
    ["the login's domain is not the username", "example.com rules ok", owner.login, username, null],
    ["a login without @ is all username", "my name is bobsmith", "bobsmith", username, "CONTAINS_USERNAME"],
    ["the username is up to the last @", "a@b is my name", "a@b@example.com", username, "CONTAINS_USERNAME"],
    ["usernames under 3 characters are not looked for", "al is a long password", "al@example.com", username, null],
    ["the username is checked before the list", "password1", "password@example.com", { ...common, excludeUsername: true }, "CONTAINS_USERNAME"],
  ])("%s (%j, login %j)", (_label, password, login, policyRules, expected) => {
    expect(checkPasswordAgainstPolicy(password, policyRules, { login })).toBe(expected);
  });

  const names = { ...base, excludeNames: true };
  type Owner = { login: string; firstName: string | null; lastName: string | null };
  const carolWhite: Owner = { login: "cw@example.com", firstName: "Carol", lastName: " White " };

  test.each<[string, string, typeof base, Owner, string | null]>([
    ["the first name", "carols long password", names, carolWhite, "CONTAINS_NAME"],
    ["the last name, trimmed, in any case", "WHITE rabbit hole", names, carolWhite, "CONTAINS_NAME"],
    ["names are not looked for unless the policy says so", "carols long password", base, carolWhite, null],
    ["names under 3 characters are not looked for", "a long password for jo", names, { login: "j@example.com", firstName: "Jo", lastName: null }, null],
    ["no names, nothing to look for", "carols long password", names, { login: "cw@example.com", firstName: null, lastName: null }, null],
  ])("%s", (_label, password, policyRules, owner, expected) => {
    expect(checkPasswordAgainstPolicy(password, policyRules, owner)).toBe(expected);
  });
});

describe("network zones", () => {
  test.each<[string, string]>([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    [" 192.168.1.1 ", "192.168.1.1/32"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["::1", "::1/128"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
  ])("parseZone(%j) is %s", (input, cidr) => {
    expect(parseZone(input).cidr).toBe(cidr);
  });

  test.each([
    "",
    "office",
    "10.1",
    "010.0.0.1/8",
    "0x0a.0.0.0/8",
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/08",
    "::/129",
    "fe80::1%eth0/64",
    "10.0.0.0/8,11.0.0.0/8",
  ])("parseZone(%j) throws", (input) => {
    expect(() => parseZone(input)).toThrow(Error);
  });

  test.each<[string | null, string[], boolean]>([
    ["10.200.0.1", ["10.0.0.0/8"], true],
    ["11.0.0.1", ["10.0.0.0/8"], false],
    ["::ffff:10.0.0.1", ["10.0.0.0/8"], true],
    ["::ffff:a00:1", ["10.0.0.0/8"], true],
    ["10.0.0.1", ["::ffff:10.0.0.0/104"], true],
    ["2001:db8::1", ["10.0.0.0/8", "2001:db8::/32"], true],
    ["2001:db9::1", ["2001:db8::/32"], false],
    ["10.0.0.1", ["::/0"], false],
    ["192.168.1.1", ["192.168.1.1"], true],
    ["192.168.1.2", ["192.168.1.1"], false],
    [null, ["0.0.0.0/0", "::/0"], false],
    ["garbage", ["0.0.0.0/0"], false],
    ["010.0.0.1", ["10.0.0.0/8", "8.0.0.0/8"], false],
    ["10.0.0.1", [], false],
  ])("ipInZones(%j, %j) is %s", (ip, zones, expected) => {
    expect(ipInZones(ip, zones)).toBe(expected);
  });
});

describe("passwordChangeAllowedAt", () => {
  const changed = new Date("2026-01-01T00:00:00Z");
  const minutesLater = (minutes: number, ms = 0) => new Date(changed.getTime() + minutes * 60_000 + ms);
  const current = { expired: false, changed };

  test.each<[string, number, { expired: boolean; changed: Date | null }, Date, Date | null, number?]>([
    ["a password younger than the minimum: when it will be old enough", 60, current, minutesLater(60, -1), minutesLater(60)],
    // A minimum longer than the maximum age (9,999 minutes against one day) must not hold an expired password.
    ["none for a password expired by the policy's maximum age", 9_999, current, minutesLater(24 * 60), null, 1],
    ["the minimum still, the minute before that expiry", 9_999, current, minutesLater(24 * 60, -1), minutesLater(9_999), 1],
    ["right after the change", 60, current, changed, minutesLater(60)],
    ["none from the moment it is old enough", 60, current, minutesLater(60), null],
    ["none when the policy sets no minimum", 0, current, changed, null],
    ["none for an expired password, which must be replaced", 60, { expired: true, changed }, minutesLater(1), null],
    ["none when the password's age is unknown", 60, { expired: false, changed: null }, changed, null],
  ])("%s", (_label, minAgeMinutes, password, now, expected, maxAgeDays = 0) => {
    expect(passwordChangeAllowedAt({ minAgeMinutes, maxAgeDays }, password, now)).toEqual(expected);
  });
});
