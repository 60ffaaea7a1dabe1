import { CreateGroupDocument, CreateUserDocument, AddUserToGroupDocument } from "../../../src/generated/graphql";
import { JIT_AFTER_EXECUTIONS } from "../../../src/platform/jit-executor";
import type { GraphQLClient, GraphQLResponse } from "../../support/graphql-client";
import { startTestGateway, type TestGateway } from "../../support/gateway";

/**
 * A document is run by graphql-js until it has been seen JIT_AFTER_EXECUTIONS times, and then by
 * its graphql-jit compilation: a client must not be able to tell which answered.
 */
describe.each(["true", "false"])("a document answers alike before and after it is compiled (GRAPHQL_JIT=%s)", (jit) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    // As in production, where an error's message may be rewritten on its way out (no field suggestions).
    gateway = await startTestGateway({ GRAPHQL_JIT: jit, BLOCK_FIELD_SUGGESTIONS: "true" });
    const { createUser } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: "jit@example.com", firstName: "Jit", lastName: "Compiled", locale: "fr-ca" },
    });
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "Compiled" });
    await gateway.admin.ok(AddUserToGroupDocument, { groupId: createGroup.id, userId: createUser.id });
  });
  afterAll(() => gateway.stop());

  /** Each answer to the same body, sent more times than it takes to compile it. */
  async function answers(client: GraphQLClient, query: string, variables?: Record<string, unknown>) {
    const body = JSON.stringify({ query, variables });
    const results: Array<Pick<GraphQLResponse<unknown>, "status" | "data" | "errors">> = [];
    for (let round = 0; round <= JIT_AFTER_EXECUTIONS; round += 1) {
      const { status, data, errors } = await client.raw(body);
      results.push({ status, data, errors });
    }
    return results;
  }

  function expectAllAlike(results: unknown[]) {
    expect(results.length).toBeGreaterThan(JIT_AFTER_EXECUTIONS);
    for (const result of results.slice(1)) expect(result).toEqual(results[0]);
  }

  test("fragments, aliases, directives, enums, dates and nested lists", async () => {
    const results = await answers(
      gateway.admin,
      `query Users($withGroups: Boolean!, $skipLogin: Boolean!, $status: UserStatus) {
        page: users(first: 5, status: $status) {
          totalCount
          edges { node { ...Who groups @include(if: $withGroups) { id label: name } } }
        }
        phoneAuthenticator { status methods }
      }
      fragment Who on User { id login @skip(if: $skipLogin) locale status since: created __typename }`,
      { withGroups: true, skipLogin: false, status: "PROVISIONED" },
    );
    expectAllAlike(results);
    const page = (results[0]!.data as { page: { totalCount: number; edges: Array<{ node: Record<string, unknown> }> } }).page;
    expect(page.totalCount).toBe(1);
    expect(page.edges[0]!.node).toMatchObject({
      login: "jit@example.com",
      locale: "fr-CA",
      status: "PROVISIONED",
      __typename: "User",
      groups: [{ label: "Compiled" }],
    });
    expect(page.edges[0]!.node.since).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
  });

  test("a resolver's refusal keeps its code, message and path", async () => {
    const results = await answers(gateway.admin, `mutation Suspend($id: ID!) { suspendUser(id: $id) { id } }`, { id: "usr_doesnotexist0000000" });
    expectAllAlike(results);
    expect(results[0]!.data).toBeNull();
    expect(results[0]!.errors).toEqual([
      expect.objectContaining({ path: ["suspendUser"], extensions: expect.objectContaining({ code: "NOT_FOUND" }) }),
    ]);
  });

  test("an unauthenticated caller is refused alike", async () => {
    const results = await answers(gateway.anonymous, `query Count { users(first: 1) { totalCount } }`);
    expectAllAlike(results);
    expect(results[0]!.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  test("a bad variable is BAD_USER_INPUT, HTTP 400, named by its path in the variable", async () => {
    const results = await answers(gateway.admin, `query Users($status: UserStatus) { users(status: $status) { totalCount } }`, { status: "NOPE" });
    expectAllAlike(results);
    expect(results[0]!.status).toBe(400);
    expect(results[0]!.errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining('Variable "$status" got invalid value "NOPE"'), extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) }),
    ]);
    const nested = await answers(gateway.admin, `mutation Make($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
      input: { login: { not: "a string" } },
    });
    expectAllAlike(nested);
    expect(nested[0]!.status).toBe(400);
    expect(nested[0]!.errors?.[0]?.message).toContain('Variable "$input" got invalid value');
    expect(nested[0]!.errors?.[0]?.message).toContain('at "input.login"');
  });
});
