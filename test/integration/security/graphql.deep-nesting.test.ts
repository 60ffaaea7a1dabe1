/**
 * Threat: deep nesting. The schema's cycles (user → groups → users → edges → node → groups …)
 * let one small query ask for an exponential number of rows and resolver calls; the query is
 * sent over HTTP, over graphql-ws, or spread across fragments to hide its depth.
 */
import { startTestGateway, ADMIN_TOKEN, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";
import { refusedLimits, wsOnce } from "../../support/ws-once";

const CYCLE = ["groups", "users", "edges", "node"] as const;
type Step = "user" | (typeof CYCLE)[number];
const LEAF: Record<Step, string> = { user: "id", groups: "id", users: "totalCount", edges: "cursor", node: "id" };

/** A query `depth` fields deep, counted as the limit counts them: `{ user { id } }` is 2. */
function nested(userId: string, depth: number): string {
  const path: Step[] = ["user"];
  while (path.length < depth - 1) path.push(CYCLE[(path.length - 1) % CYCLE.length]!);
  let body = LEAF[path.at(-1)!];
  for (const step of path.reverse()) body = `${step === "user" ? `user(id: "${userId}")` : step} { ${body} }`;
  return `{ ${body} }`;
}

describe("deep nesting", () => {
  let gateway: TestGateway;
  let userId: string;
  beforeAll(async () => {
    gateway = await startTestGateway();
    userId = (await createUser(gateway)).id;
    // A member of a group, so every level of the cycle resolves to rows.
    const group = await gateway.admin.raw<{ createGroup: { id: string } }>(JSON.stringify({ query: 'mutation { createGroup(name: "nesting") { id } }' }));
    await gateway.admin.raw(JSON.stringify({ query: `mutation { addUserToGroup(userId: "${userId}", groupId: "${group.data!.createGroup.id}") { id } }` }));
  });
  afterAll(() => gateway.stop());

  test("a query 30 levels deep is refused whole over HTTP with 400 and QUERY_TOO_COMPLEX depth", async () => {
    const result = await gateway.admin.raw(JSON.stringify({ query: nested(userId, 30) }));
    expect(result.status).toBe(400);
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "depth" } })]);
    expect(result.errors?.[0]?.message).toMatch(/depth limit of 12/);
  });

  test("12 levels are answered and 13 refused", async () => {
    const allowed = await gateway.admin.raw(JSON.stringify({ query: nested(userId, 12) }));
    expect(allowed.status).toBe(200);
    expect(allowed.errors).toBeUndefined();
    expect(JSON.stringify(allowed.data)).toContain(`"totalCount":1`);
    const refused = await gateway.admin.raw(JSON.stringify({ query: nested(userId, 13) }));
    expect(refused.status).toBe(400);
    expect(refusedLimits(refused.errors)).toEqual(["depth"]);
  });

  test("depth hidden in a chain of fragments counts the same", async () => {
    const fragments = Array.from({ length: 8 }, (_, i) => `fragment F${i} on User { groups { users { edges { node { ${i < 7 ? `...F${i + 1}` : "id"} } } } } }`);
    const query = `{ user(id: "${userId}") { ...F0 } } ${fragments.join(" ")}`;
    const result = await gateway.admin.raw(JSON.stringify({ query }));
    expect(result.status).toBe(400);
    expect(refusedLimits(result.errors)).toEqual(["depth"]);
  });

  test("the anonymous caller is refused the same way, before authentication is looked at", async () => {
    const result = await gateway.anonymous.raw(JSON.stringify({ query: nested(userId, 30) }));
    expect(result.status).toBe(400);
    expect(refusedLimits(result.errors)).toEqual(["depth"]);
  });

  test("over graphql-ws the same query gets an error message with QUERY_TOO_COMPLEX depth", async () => {
    const refused = await wsOnce(gateway, nested(userId, 30), {}, `SSWS ${ADMIN_TOKEN}`);
    expect(refused.data).toBeUndefined();
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "depth" } })]);
    const allowed = await wsOnce(gateway, nested(userId, 12), {}, `SSWS ${ADMIN_TOKEN}`);
    expect(allowed.errors).toEqual([]);
    expect(JSON.stringify(allowed.data)).toContain(`"totalCount":1`);
  });
});
