import {
  AddUserToGroupDocument,
  ApiTokensDocument,
  BlockPhoneNumberDocument,
  CreateApiTokenDocument,
  CreateGroupDocument,
  CreatePolicyDocument,
  CreateUserDocument,
  DeactivateUserDocument,
  DeletePolicyDocument,
  LogsDocument,
  ReactivatePhoneFactorsDocument,
  RemoveUserFromGroupDocument,
  RevokeApiTokenDocument,
  SuspendUserDocument,
  UnblockPhoneNumberDocument,
  UnsuspendUserDocument,
  UpdateCountryDocument,
  UpdatePhoneAuthenticatorDocument,
  UpdatePolicyDocument,
  UpdateSecuritySettingsDocument,
  UpdateSmsTemplateDocument,
  UpdateUserDocument,
  type LogEventFieldsFragment,
} from "../../../src/generated/graphql";
import { PhoneFactor } from "../../../src/phone/phone-factor.entity";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { subscribeSystemLog } from "../../support/log";
import { createUser, openChallenge } from "../../support/phone";
import { wsClient } from "../../support/subscriptions";

/**
 * Every admin change is in the System Log, as Okta records its admins' changes: written in
 * the change's own transaction (a refused change leaves no event), with the admin token as
 * actor and the request's client, and nothing when a request changed nothing.
 */
describe("System Log: administrative changes", () => {
  let gateway: TestGateway;
  let adminTokenId: string;
  beforeAll(async () => {
    gateway = await startTestGateway();
    const { apiTokens } = await gateway.admin.ok(ApiTokensDocument);
    adminTokenId = apiTokens.find((token) => token.name === "bootstrap")!.id;
  });
  afterAll(() => gateway.stop());

  async function eventsOf(eventType: string): Promise<LogEventFieldsFragment[]> {
    const { logs } = await gateway.admin.ok(LogsDocument, { filter: `eventType eq "${eventType}"`, first: 100 });
    return logs.edges.map((edge) => edge.node);
  }

  /** The events of a type about one target, oldest first. */
  async function eventsAbout(eventType: string, targetId: string): Promise<LogEventFieldsFragment[]> {
    return (await eventsOf(eventType)).filter((event) => event.target.some((target) => target.id === targetId));
  }

  const byAdmin = () => ({
    // Named as its creator named it: "bootstrap" is the first start's.
    actor: expect.objectContaining({ id: adminTokenId, type: "ApiToken", displayName: "bootstrap" }),
    outcome: { result: "SUCCESS", reason: null },
    client: { ipAddress: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$|^::1$/), userAgent: expect.any(String) },
  });

  test("the first start's admin token is created by the gateway itself", async () => {
    const [created] = await eventsAbout("system.api_token.create", adminTokenId);
    expect(created).toMatchObject({
      actor: { id: "ringfence", type: "SystemPrincipal" },
      target: [{ id: adminTokenId, type: "ApiToken", displayName: "bootstrap" }],
      client: null,
    });
  });

  test("users: creation (with its memberships), profile changes by field name only, and each lifecycle step", async () => {
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "audited-staff" });
    const { createUser: user } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: "ada@example.com", firstName: "Ada", lastName: "Lovelace", password: "correct horse battery", groupIds: [group.id] },
    });
    const target = { id: user.id, type: "User", alternateId: "ada@example.com", displayName: "Ada Lovelace" };
    expect(await eventsAbout("user.lifecycle.create", user.id)).toEqual([
      expect.objectContaining({ ...byAdmin(), target: [target], debugContext: { status: "ACTIVE", hasPassword: true, passwordExpired: false } }),
    ]);
    expect(await eventsAbout("group.user_membership.add", user.id)).toEqual([
      expect.objectContaining({ ...byAdmin(), target: [target, { id: group.id, type: "UserGroup", alternateId: null, displayName: "audited-staff" }] }),
    ]);

    await gateway.admin.ok(UpdateUserDocument, { input: { id: user.id, email: "ada@analytical.example", locale: "en-GB" } });
    // The same values again change nothing, and say so by writing nothing.
    await gateway.admin.ok(UpdateUserDocument, { input: { id: user.id, email: "ada@analytical.example" } });
    const updates = await eventsAbout("user.account.update_profile", user.id);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.debugContext).toEqual({ changedFields: "email,locale" });
    expect(JSON.stringify(updates[0])).not.toContain("analytical");

    await gateway.admin.ok(SuspendUserDocument, { id: user.id });
    await gateway.admin.ok(UnsuspendUserDocument, { id: user.id });
    await gateway.admin.ok(DeactivateUserDocument, { id: user.id });
    expect((await gateway.admin.fails(SuspendUserDocument, { id: user.id })).code).toBe("CONFLICT");
    const steps = await Promise.all(
      ["suspend", "unsuspend", "deactivate"].map(async (step) => (await eventsAbout(`user.lifecycle.${step}`, user.id)).map((event) => event.debugContext)),
    );
    expect(steps).toEqual([
      [{ previousStatus: "ACTIVE", status: "SUSPENDED" }],
      [{ previousStatus: "SUSPENDED", status: "ACTIVE" }],
      [{ previousStatus: "ACTIVE", status: "DEPROVISIONED" }],
    ]);
  });

  test("a refused change writes no event: a taken login, the last admin token", async () => {
    await gateway.admin.ok(CreateUserDocument, { input: { login: "twice@example.com" } });
    expect((await gateway.admin.fails(CreateUserDocument, { input: { login: "TWICE@example.com" } })).code).toBe("CONFLICT");
    const created = (await eventsOf("user.lifecycle.create")).filter((event) => event.target[0]!.alternateId?.toLowerCase() === "twice@example.com");
    expect(created).toHaveLength(1);

    expect((await gateway.admin.fails(RevokeApiTokenDocument, { id: adminTokenId })).code).toBe("CONFLICT");
    expect(await eventsAbout("system.api_token.revoke", adminTokenId)).toEqual([]);
  });

  test("group memberships: logged when they start and end, not when a request finds them as they are", async () => {
    const user = await createUser(gateway);
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "audited-contractors" });
    expect(await eventsAbout("group.lifecycle.create", group.id)).toEqual([expect.objectContaining(byAdmin())]);
    for (let round = 0; round < 2; round++) {
      await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: group.id });
      await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: group.id });
      await gateway.admin.ok(RemoveUserFromGroupDocument, { userId: user.id, groupId: group.id });
      await gateway.admin.ok(RemoveUserFromGroupDocument, { userId: user.id, groupId: group.id });
    }
    const added = await eventsAbout("group.user_membership.add", group.id);
    const removed = await eventsAbout("group.user_membership.remove", group.id);
    expect(added).toHaveLength(2);
    expect(removed).toHaveLength(2);
    expect(removed[0]!.target.map((target) => [target.type, target.id])).toEqual([
      ["User", user.id],
      ["UserGroup", group.id],
    ]);
  });

  test("API tokens: created and revoked, and a change made with the new token names it as the actor", async () => {
    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "ci-deployer" });
    const tokenId = createApiToken.apiToken.id;
    expect(await eventsAbout("system.api_token.create", tokenId)).toEqual([
      expect.objectContaining({ ...byAdmin(), target: [{ id: tokenId, type: "ApiToken", alternateId: null, displayName: "ci-deployer" }] }),
    ]);
    const deployer = gateway.client(`SSWS ${createApiToken.token}`);
    const { createGroup } = await deployer.ok(CreateGroupDocument, { name: "made-by-deployer" });
    expect((await eventsAbout("group.lifecycle.create", createGroup.id))[0]!.actor).toMatchObject({ id: tokenId, type: "ApiToken", displayName: "ci-deployer" });

    await deployer.ok(RevokeApiTokenDocument, { id: tokenId });
    expect(await eventsAbout("system.api_token.revoke", tokenId)).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: tokenId }) })]);
  });

  test("policies: added with their settings, updated with what changed to what, and deleted", async () => {
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "PASSWORD", name: "  Contractors' passwords ", minLength: 12, requireSymbol: true, recoveryMethods: ["SMS"] },
    });
    await gateway.admin.ok(UpdatePolicyDocument, {
      id: createPolicy.id,
      input: { type: "PASSWORD", name: "Vendor passwords", minLength: 8, requireSymbol: true, recoveryMethods: ["SMS", "VOICE"] },
    });
    await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    const [created] = await eventsAbout("policy.lifecycle.create", createPolicy.id);
    const [updated] = await eventsAbout("policy.lifecycle.update", createPolicy.id);
    const [deleted] = await eventsAbout("policy.lifecycle.delete", createPolicy.id);
    expect(created).toMatchObject({
      ...byAdmin(),
      target: [{ type: "PolicyEntity", alternateId: "PASSWORD", displayName: "Contractors' passwords" }],
      debugContext: { name: "Contractors' passwords", minLength: 12, requireSymbol: true, requireUppercase: false, recoveryMethods: "SMS", rules: 0 },
    });
    expect(updated).toMatchObject({
      target: [{ displayName: "Vendor passwords" }],
      debugContext: { changedFields: "name,recoveryMethods,minLength", name: "Vendor passwords", recoveryMethods: "SMS,VOICE", minLength: 8 },
    });
    expect(deleted).toMatchObject({ target: [{ displayName: "Vendor passwords" }] });
  });

  test("the phone authenticator, the abuse limits and a country: what changed, to what; a null is a return to the default", async () => {
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 8, maxAttempts: 3, methods: ["SMS", "VOICE"] } });
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 8 } });
    expect(await eventsOf("security.authenticator.lifecycle.update")).toEqual([
      expect.objectContaining({
        ...byAdmin(),
        target: [{ id: "phone_number", type: "Authenticator", alternateId: null, displayName: "Phone" }],
        // methods were SMS and VOICE already: not a change.
        debugContext: { changedFields: "codeLength,maxAttempts", codeLength: 8, maxAttempts: 3 },
      }),
    ]);
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 6, maxAttempts: 5 } });

    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: 250, pumpingRangeBurst: 40 } });
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { dailySpendCapUsd: null } });
    expect((await eventsOf("security.settings.update")).map((event) => event.debugContext)).toEqual([
      { changedFields: "dailySpendCapUsd,pumpingRangeBurst", dailySpendCapUsd: 250, pumpingRangeBurst: 40 },
      { changedFields: "dailySpendCapUsd", dailySpendCapUsd: null },
    ]);

    await gateway.admin.ok(UpdateCountryDocument, { code: "fr", input: { voiceEnabled: false, smsCostPerSegment: 0.09 } });
    await gateway.admin.ok(UpdateCountryDocument, { code: "FR", input: { voiceEnabled: false } });
    await gateway.admin.ok(UpdateCountryDocument, { code: "FR", input: { voiceEnabled: null, smsCostPerSegment: null } });
    const country = await eventsAbout("system.telephony.country.update", "FR");
    expect(country.map((event) => event.debugContext)).toEqual([
      { changedFields: "voiceEnabled,smsCostPerSegment", voiceEnabled: false, smsCostPerSegment: 0.09 },
      { changedFields: "voiceEnabled,smsCostPerSegment", voiceEnabled: null, smsCostPerSegment: null },
    ]);
    expect(country[0]!.target).toEqual([{ id: "FR", type: "Country", alternateId: null, displayName: "France" }]);
  });

  test("an SMS template's new text is in its event, so a rewrite can be reviewed", async () => {
    const template = "Your sign-in code is ${code}. Do not share it.";
    await gateway.admin.ok(UpdateSmsTemplateDocument, {
      input: { purpose: "FACTOR_VERIFY", template, translations: [{ locale: "fr", template: "Votre code : ${code}" }] },
    });
    expect(await eventsAbout("system.sms_template.update", "FACTOR_VERIFY")).toEqual([
      expect.objectContaining({ ...byAdmin(), debugContext: { template, locales: "fr", legacy: false } }),
    ]);
  });

  test("blocked numbers: the block and its lifting name the number; lifting a block that is not there logs nothing", async () => {
    await gateway.admin.ok(BlockPhoneNumberDocument, { number: "+44 7400 900123", reason: "pumping from this range" });
    await gateway.admin.ok(UnblockPhoneNumberDocument, { number: "+447400900123" });
    expect((await gateway.admin.ok(UnblockPhoneNumberDocument, { number: "+447400900123" })).unblockPhoneNumber).toBe(false);
    const [blocked] = await eventsAbout("security.phone_number.block", "+447400900123");
    expect(blocked).toMatchObject({ ...byAdmin(), target: [{ type: "PhoneNumber" }], debugContext: { reason: "pumping from this range" } });
    expect(await eventsAbout("security.phone_number.unblock", "+447400900123")).toHaveLength(1);
  });

  test("lifting a passcode suspension logs each factor it reactivated", async () => {
    const { user, factor } = await openChallenge(gateway, "+447400900124");
    // The state the brute-force rule leaves (the passcode suites drive it there); here only its lifting is under test.
    await gateway.db.transaction(({ manager }) => manager.update(PhoneFactor, { id: factor.id }, { status: "INACTIVE" }));
    const { reactivatePhoneFactors } = await gateway.admin.ok(ReactivatePhoneFactorsDocument, { userId: user.id });
    expect(reactivatePhoneFactors).toEqual([{ id: factor.id, status: "ACTIVE" }]);
    await gateway.admin.ok(ReactivatePhoneFactorsDocument, { userId: user.id });
    const events = (await eventsOf("user.mfa.factor.unsuspend")).filter((event) => event.target[0]!.id === user.id);
    expect(events).toEqual([expect.objectContaining(byAdmin())]);
    expect(events[0]!.target[1]).toMatchObject({ id: factor.id, type: "PhoneFactor", alternateId: expect.stringMatching(/^\+44.*0124$/) });
  });

  test("a dashboard watching user lifecycle events sees an admin's change as it commits", async () => {
    const dashboard = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    try {
      const live = await subscribeSystemLog(gateway, dashboard, 'eventType sw "user.lifecycle."');
      const { createUser: user } = await gateway.admin.ok(CreateUserDocument, { input: { login: "watched@example.com" } });
      const [result] = await live.until(
        (results) => results.some((r) => r.data?.systemLog.target[0]?.id === user.id),
        "the creation event",
      ).then((results) => results.filter((r) => r.data?.systemLog.target[0]?.id === user.id));
      expect(result!.data!.systemLog).toMatchObject({ eventType: "user.lifecycle.create", actor: { id: adminTokenId } });
    } finally {
      await dashboard.dispose();
    }
  });
});
