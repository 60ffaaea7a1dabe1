/**
 * Threat: a signed-in user reading other users, or what admins write about them. A user reaches
 * their own groups through me.groups; from there the members' profiles, numbers and phone factors
 * must stay out of reach. An admin's note on a blocked number is for admins.
 */
import {
  AddUserToGroupDocument,
  BlockPhoneNumberDocument,
  CreateGroupDocument,
  EnrollPhoneFactorDocument,
  GroupsDocument,
  MyGroupMembersDocument,
} from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";
import { PASSWORD, signedIn } from "../../support/transactions";

describe("other users' data", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("a user's own groups do not list their members to the user; an admin sees them", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "shared-team" });
    const [me, colleague] = [await createUser(gateway, { password: PASSWORD }), await createUser(gateway, { password: PASSWORD })];
    for (const user of [me, colleague]) await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: createGroup.id });

    const session = await signedIn(gateway, me.login);
    const answer = await session.request(MyGroupMembersDocument);
    expect(answer.errors?.[0]).toMatchObject({
      path: ["me", "groups", 0, "users"],
      extensions: expect.objectContaining({ code: "FORBIDDEN" }),
    });
    expect(JSON.stringify(answer.data)).not.toContain(colleague.login);

    const { groups } = await gateway.admin.ok(GroupsDocument, { first: 10 });
    const team = groups.find((group) => group.id === createGroup.id);
    expect(team?.users.edges.map((edge) => edge.node.id).sort()).toEqual([me.id, colleague.id].sort());
  });

  test("a blocked number refuses a user's own enrollment without the admin's note on it; an admin reads the note", async () => {
    const number = "+447400999887";
    await gateway.admin.ok(BlockPhoneNumberDocument, { number, reason: "HR case 4471: suspected takeover" });
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(gateway, user.login);
    const own = await session.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } });
    expect(own).toMatchObject({ code: "NUMBER_BLOCKED", extensions: expect.objectContaining({ reason: "ADMIN", rejection: "BLOCKED" }) });
    expect(JSON.stringify(own)).not.toContain("HR case");
    const byAdmin = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } });
    expect(byAdmin.extensions?.reason).toBe("HR case 4471: suspected takeover");
  });
});
