/** Policies as admins manage them: what is stored, and how the list shows their order. */
import { CreatePolicyDocument, DeletePolicyDocument, PoliciesDocument } from "../../../src/generated/graphql";
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
    expect(blankRule).toMatchObject({ code: "BAD_USER_INPUT", extensions: expect.objectContaining({ field: "input.rules.0.name" }) });
    expect((await gateway.admin.ok(PoliciesDocument, { type: "GLOBAL_SESSION" })).policies).toHaveLength(before);
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
});
