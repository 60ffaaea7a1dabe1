/**
 * Threat: schema discovery through suggestions. With introspection off in production, graphql's
 * "Did you mean …?" hints would still spell out fields, arguments, types and enum values to
 * anyone who guesses near them.
 */
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { wsOnce } from "../../support/ws-once";

const GUESSES: Array<{ what: string; query: string; variables?: Record<string, unknown> }> = [
  { what: "a field", query: "{ usres { totalCount } }" },
  { what: "an argument", query: "{ users(frist: 1) { totalCount } }" },
  { what: "a type", query: "query ($s: UserStatu) { users(status: $s) { totalCount } }" },
  { what: "an enum value inline", query: "{ users(status: ACTIV) { totalCount } }" },
  { what: "an enum value in variables", query: "query ($s: UserStatus) { users(status: $s) { totalCount } }", variables: { s: "ACTIV" } },
  { what: "an input field", query: 'mutation { verifyChallenge(input: { challengId: "x", code: "1" }) { id } }' },
];

describe("suggestions in production", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ NODE_ENV: "production" });
  });
  afterAll(() => gateway.stop());

  test.each(GUESSES)("a near guess at $what gets BAD_USER_INPUT with no hint", async ({ query, variables }) => {
    const result = await gateway.anonymous.raw(JSON.stringify({ query, variables }));
    expect(result.status).toBe(400);
    expect(result.errors?.length).toBeGreaterThan(0);
    for (const error of result.errors ?? []) {
      expect(error.extensions?.code).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(error)).not.toMatch(/did you mean/i);
    }
  });

  test("over graphql-ws no hint either", async () => {
    const { errors } = await wsOnce(gateway, "{ usres { totalCount } }", {}, `SSWS ${ADMIN_TOKEN}`);
    expect(errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) })]);
    expect(JSON.stringify(errors)).not.toMatch(/did you mean/i);
  });
});

describe("suggestions outside production", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("are kept, for developers", async () => {
    const result = await gateway.admin.raw(JSON.stringify({ query: "{ usres { totalCount } }" }));
    expect(result.errors?.[0]?.message).toMatch(/Did you mean "users"/);
  });
});
