import { LogEventRecord } from "../../../src/log/log-event.entity";
import { ApiTokensDocument, CreateApiTokenDocument, RevokeApiTokenDocument, UsersDocument } from "../../../src/generated/graphql";
import { SYSTEM_INITIATOR } from "../../../src/log/initiator";
import type { AppError } from "../../../src/platform/errors";
import { startTestGateway, type TestGateway } from "../../support/gateway";

describe("admin API tokens", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("the bootstrap token exists, and a new token works at once and is shown only on creation", async () => {
    const { apiTokens } = await gateway.admin.ok(ApiTokensDocument);
    expect(apiTokens.map((t) => t.name)).toEqual(["bootstrap"]);
    expect(apiTokens[0]?.lastUsed).not.toBeNull();

    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "ci" });
    expect(createApiToken.token).toMatch(/^rf_[A-Za-z0-9_-]{43}$/);
    const viaNewToken = gateway.client(`SSWS ${createApiToken.token}`);
    expect((await viaNewToken.ok(UsersDocument, {})).users.totalCount).toBe(0);
    const stored = await gateway.db.dataSource.query("SELECT token_hash FROM api_tokens");
    expect(JSON.stringify(stored)).not.toContain(createApiToken.token);
  });

  test("a revoked token is refused with UNAUTHENTICATED at once", async () => {
    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "temporary" });
    const client = gateway.client(`SSWS ${createApiToken.token}`);
    expect(await gateway.admin.ok(RevokeApiTokenDocument, { id: createApiToken.apiToken.id })).toEqual({ revokeApiToken: true });
    const refused = await client.request(UsersDocument, {});
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await gateway.admin.fails(RevokeApiTokenDocument, { id: createApiToken.apiToken.id })).code).toBe("NOT_FOUND");
  });

  test("the same token revoked twice at once: one revocation, one NOT_FOUND, one event", async () => {
    for (let round = 0; round < 4; round += 1) {
      const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: `twice ${round}` });
      const answers = await Promise.all([0, 1].map(() => gateway.admin.request(RevokeApiTokenDocument, { id: createApiToken.apiToken.id })));
      expect(answers.map((answer) => answer.data?.revokeApiToken ?? answer.errors?.[0]?.extensions?.code).sort()).toEqual(["NOT_FOUND", true]);
      const events = await gateway.db.manager
        .createQueryBuilder(LogEventRecord, "e")
        .innerJoin("log_event_targets", "t", "t.event_uuid = e.uuid")
        .where("t.id = :id AND e.event_type = :type", { id: createApiToken.apiToken.id, type: "system.api_token.revoke" })
        .getCount();
      expect(events).toBe(1);
    }
    // With two tokens active, the second revocation finds none of its own to revoke, not the last one.
    const { apiTokens } = await gateway.admin.ok(ApiTokensDocument);
    for (const token of apiTokens.slice(1)) await gateway.admin.ok(RevokeApiTokenDocument, { id: token.id });
    const { createApiToken } = await gateway.admin.ok(CreateApiTokenDocument, { name: "one of two" });
    const answers = await Promise.all([0, 1].map(() => gateway.admin.request(RevokeApiTokenDocument, { id: createApiToken.apiToken.id })));
    expect(answers.map((answer) => answer.data?.revokeApiToken ?? answer.errors?.[0]?.extensions?.code).sort()).toEqual(["NOT_FOUND", true]);
  });

  test("the last active token cannot be revoked", async () => {
    const { apiTokens } = await gateway.admin.ok(ApiTokensDocument);
    for (const token of apiTokens.slice(1)) await gateway.admin.ok(RevokeApiTokenDocument, { id: token.id });
    const error = await gateway.admin.fails(RevokeApiTokenDocument, { id: apiTokens[0]!.id });
    expect(error.code).toBe("CONFLICT");
    expect(error.extensions?.reason).toBe("LAST_ADMIN_TOKEN");
  });

  test("a blank token name is BAD_USER_INPUT", async () => {
    expect((await gateway.admin.fails(CreateApiTokenDocument, { name: " " })).code).toBe("BAD_USER_INPUT");
  });
  // Last: whichever token survives, the one this suite's admin client holds may be gone.
  test("two revocations at once of the last two tokens: one goes through, the other is LAST_ADMIN_TOKEN", async () => {
    const { apiTokens: before } = await gateway.admin.ok(ApiTokensDocument);
    for (const token of before.slice(1)) await gateway.admin.ok(RevokeApiTokenDocument, { id: token.id });
    await gateway.admin.ok(CreateApiTokenDocument, { name: "second" });
    const { apiTokens } = await gateway.admin.ok(ApiTokensDocument);
    expect(apiTokens).toHaveLength(2);
    const outcomes = await Promise.allSettled(apiTokens.map((token) => gateway.services.apiTokens.revoke(token.id, SYSTEM_INITIATOR)));
    expect(
      outcomes.map((outcome) => (outcome.status === "fulfilled" ? "REVOKED" : (outcome.reason as AppError).extensions.reason)).sort(),
    ).toEqual(["LAST_ADMIN_TOKEN", "REVOKED"]);
    expect(await gateway.services.apiTokens.listActive()).toHaveLength(1);
  });
});
