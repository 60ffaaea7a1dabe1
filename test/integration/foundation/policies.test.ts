/** Policies as admins manage them: what is stored, and how the list shows their order. */
import { CreatePolicyDocument, DeletePolicyDocument, PoliciesDocument, UpdatePolicyDocument, type PolicyInput } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";

describe("policies", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("a blank policy or rule name is BAD_USER_INPUT, and nothing is stored", async () => {
    const before = (await gateway.admin.ok(PoliciesDocument, { type: "GLOBAL_SESSION" })).policies.length;
    const blankPolicy = await gateway.admin.fails(CreatePolicyDocument, { input: { type: "GLOBAL_SESSION", name: "   " } });
    expect(blankPolicy).toMatchObject({ code: "BAD_USER_INPUT", extensions: expect.objectContaining({ field: "input.name" }) });
    const blankRule = await gateway.admin.fails(CreatePolicyDocument, {
      input: { type: "GLOBAL_SESSION", name: "Office", rules: [{ name: " ", access: "ALLOW", factorRequirement: "PASSWORD_ONLY" }] },
    });
    expect(blankRule).toMatchObject({ code: "BAD_USER_INPUT", extensions: expect.objectContaining({ field: "input.rules[0].name" }) });
    expect((await gateway.admin.ok(PoliciesDocument, { type: "GLOBAL_SESSION" })).policies).toHaveLength(before);
  });

  test("names longer than their columns hold, counted as the database counts, and rules sharing a priority are BAD_USER_INPUT", async () => {
    const before = (await gateway.admin.ok(PoliciesDocument, { type: "GLOBAL_SESSION" })).policies.length;
    const refusal = async (input: PolicyInput) =>
      (await gateway.admin.fails(CreatePolicyDocument, { input })).extensions;
    const rule = { access: "ALLOW", factorRequirement: "PASSWORD_ONLY" } as const;
    // A rule's own fields are checked as the policy's are.
    expect(await refusal({ type: "GLOBAL_SESSION", name: "Office", rules: [{ ...rule, name: "r".repeat(129) }] })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.rules[0].name",
    });
    // 128 letters with a variation selector are 129 characters to the column.
    expect(await refusal({ type: "GLOBAL_SESSION", name: `${"a".repeat(128)}\uFE0F` })).toMatchObject({ code: "BAD_USER_INPUT", field: "input.name" });
    expect(await refusal({ type: "GLOBAL_SESSION", name: "Office", rules: [{ ...rule, name: "first", priority: 2 }, { ...rule, name: "second" }] })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.rules[1].priority",
    });
    expect((await gateway.admin.ok(PoliciesDocument, { type: "GLOBAL_SESSION" })).policies).toHaveLength(before);
    // 128 characters, an emoji among them, fit.
    const fitting = `${"a".repeat(127)}\u{1F511}`;
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, { input: { type: "GLOBAL_SESSION", name: fitting, rules: [{ ...rule, name: fitting }] } });
    expect(createPolicy).toMatchObject({ name: fitting, rules: [{ name: fitting }] });
    await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
  });

  test("the default policy shows a priority past every other of its type, gaps and high numbers included", async () => {
    const create = async (name: string, priority?: number) =>
      (await gateway.admin.ok(CreatePolicyDocument, { input: { type: "AUTHENTICATION", name, priority } })).createPolicy;
    const first = await create("First");
    await create("Second");
    await gateway.admin.ok(DeletePolicyDocument, { id: first.id });
    await create("Far down", 10);
    const { policies } = await gateway.admin.ok(PoliciesDocument, { type: "AUTHENTICATION" });
    const others = policies.filter((policy) => !policy.isDefault);
    const fallback = policies.find((policy) => policy.isDefault)!;
    expect(fallback.priority).toBeGreaterThan(Math.max(...others.map((policy) => policy.priority)));
    expect(policies.at(-1)).toEqual(fallback);
  });

  test("a priority another policy holds is taken over: that policy and those after it move down one", async () => {
    const create = async (name: string, priority?: number) =>
      (await gateway.admin.ok(CreatePolicyDocument, { input: { type: "PASSWORD", name, priority } })).createPolicy;
    const order = async () =>
      (await gateway.admin.ok(PoliciesDocument, { type: "PASSWORD" })).policies.filter((policy) => !policy.isDefault).map((p) => [p.name, p.priority]);
    const first = await create("First", 1);
    const second = await create("Second", 2);
    await create("Far", 9);
    await create("Newcomer", 1);
    expect(await order()).toEqual([["Newcomer", 1], ["First", 2], ["Second", 3], ["Far", 10]]);
    // Moving one to a free priority moves no other; to a held one, it takes it over.
    await gateway.admin.ok(UpdatePolicyDocument, { id: first.id, input: { type: "PASSWORD", name: "First", priority: 5 } });
    expect(await order()).toEqual([["Newcomer", 1], ["Second", 3], ["First", 5], ["Far", 10]]);
    await gateway.admin.ok(UpdatePolicyDocument, { id: second.id, input: { type: "PASSWORD", name: "Second", priority: 1 } });
    expect(await order()).toEqual([["Second", 1], ["Newcomer", 2], ["First", 6], ["Far", 11]]);
  });
});
