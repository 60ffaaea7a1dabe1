/**
 * U+0000 in a string: PostgreSQL cannot store it in text, so it once reached a write and came
 * back INTERNAL (found by the schema fuzzer: signIn with a login of "\u0000"). A lone surrogate
 * was stored, and then PostgreSQL refused the System Log's JSON holding it, so every filter on
 * debugContext failed. Both are refused up front as BAD_USER_INPUT, naming where they were, over
 * HTTP and WebSocket, on both engines.
 */
import { CreateUserDocument, UpdateSmsTemplateDocument, UsersDocument } from "../../../src/generated/graphql";
import { User } from "../../../src/users/user.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { wsOnce } from "../../support/ws-once";

describe("strings the engines cannot store alike", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const refusal = (result: { status: number; errors?: readonly { extensions?: Record<string, unknown> }[] }) => ({
    status: result.status,
    code: result.errors?.[0]?.extensions?.code,
    field: result.errors?.[0]?.extensions?.field,
  });

  test("in a literal: the argument path is named, nothing runs", async () => {
    const result = await gateway.anonymous.raw(
      JSON.stringify({ query: 'mutation { signIn(input: { login: "a\\u0000b", password: "a long enough password" }) { status } }' }),
    );
    expect(refusal(result)).toEqual({ status: 400, code: "BAD_USER_INPUT", field: "input.login" });
    expect(result.data).toBeNull();
  });

  test("in variables, however deep: the variable's path is named and nothing is written", async () => {
    const before = await gateway.db.manager.count(User);
    const user = await gateway.admin.request(CreateUserDocument, { input: { login: "nul\u0000@example.com" } });
    expect(refusal(user)).toEqual({ status: 400, code: "BAD_USER_INPUT", field: "input.login" });
    expect(await gateway.db.manager.count(User)).toBe(before);

    const template = await gateway.admin.request(UpdateSmsTemplateDocument, {
      input: { purpose: "FACTOR_VERIFY" as never, template: "Your code is ${code}", translations: [{ locale: "fr", template: "Code\u0000 ${code}" }] },
    });
    expect(refusal(template)).toEqual({ status: 400, code: "BAD_USER_INPUT", field: "input.translations[0].template" });
  });

  test("a lone surrogate in variables is refused, naming the variable's path; a whole pair is a character like any other", async () => {
    const signIn = await gateway.anonymous.raw(
      JSON.stringify({
        query: "mutation ($c: String) { signIn(input: { login: \"someone\", password: \"a long enough password\", clientId: $c }) { status } }",
        variables: { c: "app\ud800" },
      }),
    );
    expect(refusal(signIn)).toEqual({ status: 400, code: "BAD_USER_INPUT", field: "c" });
    expect(signIn.errors?.[0]?.extensions?.reason).toMatch(/well-formed Unicode/);
    const before = await gateway.db.manager.count(User);
    const lowAlone = await gateway.admin.request(CreateUserDocument, { input: { login: "surrogate@example.com", firstName: "\udc00x" } });
    expect(refusal(lowAlone)).toEqual({ status: 400, code: "BAD_USER_INPUT", field: "input.firstName" });
    expect(await gateway.db.manager.count(User)).toBe(before);
    const paired = await gateway.admin.ok(CreateUserDocument, { input: { login: "pair@example.com", firstName: "\ud83d\ude00" } });
    expect(paired.createUser.firstName).toBe("😀");
  });

  test("variables nested deeper than the call stack are walked without overflowing it", async () => {
    // Written by hand: JSON.stringify itself recurses.
    const deep = `${"[".repeat(20_000)}"end"${"]".repeat(20_000)}`;
    const result = await gateway.admin.raw(`{"query":"query Users { users { totalCount } }","variables":{"unused":${deep}}}`);
    expect(result.errors).toBeUndefined();
    expect((result.data as { users: { totalCount: number } }).users.totalCount).toBeGreaterThanOrEqual(0);
    const users = await gateway.admin.request(UsersDocument, {});
    expect(users.errors).toBeUndefined();
  });

  test("over graphql-ws, before the subscription starts", async () => {
    const outcome = await wsOnce(gateway, "subscription Live($id: ID!) { deliveryStatus(challengeId: $id) { id status } }", { id: "chl_\u0000" });
    expect(outcome.errors.map((error) => [error.extensions?.code, error.extensions?.field])).toEqual([["BAD_USER_INPUT", "id"]]);
  });
});
