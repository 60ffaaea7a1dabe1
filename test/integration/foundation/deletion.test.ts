import {
  ActivateUserDocument,
  AddUserToGroupDocument,
  ChangePasswordDocument,
  CreateGroupDocument,
  CreatePolicyDocument,
  CreateUserDocument,
  DeactivateUserDocument,
  DeleteGroupDocument,
  DeletePolicyDocument,
  DeleteUserDocument,
  EnrollPhoneFactorDocument,
  GroupsDocument,
  LogsDocument,
  MeDocument,
  PoliciesDocument,
  SetSimulatorRulesDocument,
  SignInDocument,
  UpdateGroupDocument,
  UserByIdDocument,
  UserFactorsDocument,
} from "../../../src/generated/graphql";
import { GroupMember } from "../../../src/groups/group.entity";
import { Challenge } from "../../../src/phone/challenge.entity";
import { PhoneFactor } from "../../../src/phone/phone-factor.entity";
import { SessionRecord } from "../../../src/sessions/session.entity";
import { Message } from "../../../src/telephony/message.entity";
import { AuthTransactionRecord } from "../../../src/transactions/auth-transaction.entity";
import { PasswordHistoryRecord } from "../../../src/users/password-history";
import { engine, startTestGateway, type TestGateway } from "../../support/gateway";
import type { GraphQLResponse } from "../../support/graphql-client";
import { settleMessages } from "../../support/phone";
import { PASSWORD, userWithPhone } from "../../support/transactions";

/** PostgreSQL runs transactions side by side; SQLite runs them one at a time, so there is no race to hold open. */
const onPostgres = engine === "postgres" ? test : test.skip;

describe("deleting users and groups", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  /** The events of a type about one target, oldest first, as the System Log API gives them. */
  async function eventsAbout(eventType: string, targetId: string) {
    const { logs } = await gateway.admin.ok(LogsDocument, { filter: `eventType eq "${eventType}" and target.id eq "${targetId}"`, first: 100 });
    return logs.edges.map((edge) => edge.node);
  }

  test("a user is deleted only once deactivated, and takes its factors, sessions and memberships with it", async () => {
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "leavers" });
    const { user } = await userWithPhone(gateway, "+14155550171");
    await gateway.admin.ok(AddUserToGroupDocument, { userId: user.id, groupId: group.id });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    const session = gateway.client(`Bearer ${signIn.sessionToken}`);
    expect((await session.ok(MeDocument)).me?.id).toBe(user.id);
    await session.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: "a password for leaving" } });
    expect(await gateway.db.manager.countBy(PasswordHistoryRecord, { userId: user.id })).toBe(1);
    await settleMessages(gateway);
    const messagesBefore = await gateway.db.manager.countBy(Message, { userId: user.id });
    expect(messagesBefore).toBeGreaterThan(0);

    const active = await gateway.admin.fails(DeleteUserDocument, { id: user.id });
    expect(active.code).toBe("CONFLICT");
    expect(active.extensions?.reason).toBe("INVALID_LIFECYCLE_TRANSITION");
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors).toHaveLength(1);

    await gateway.admin.ok(DeactivateUserDocument, { id: user.id });
    expect(await gateway.admin.ok(DeleteUserDocument, { id: user.id })).toEqual({ deleteUser: true });

    expect((await gateway.admin.ok(UserByIdDocument, { id: user.id })).user).toBeNull();
    for (const owned of [PhoneFactor, SessionRecord, Challenge, GroupMember, AuthTransactionRecord, PasswordHistoryRecord]) {
      expect(await gateway.db.manager.countBy(owned, { userId: user.id })).toBe(0);
    }
    const { groups } = await gateway.admin.ok(GroupsDocument, {});
    expect(groups.find((g) => g.id === group.id)?.users.totalCount).toBe(0);
    const refused = await session.request(MeDocument);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // What was sent stays the organisation's record, as the System Log does, with the number masked as the events have it.
    const kept = await gateway.db.manager.findBy(Message, { userId: user.id });
    expect(kept).toHaveLength(messagesBefore);
    expect(new Set(kept.map((message) => message.toE164))).toEqual(new Set(["+1 XXX-XXX-0171"]));
    expect(await eventsAbout("user.lifecycle.delete.completed", user.id)).toEqual([
      expect.objectContaining({ outcome: { result: "SUCCESS", reason: null }, debugContext: { phoneFactors: 1 } }),
    ]);

    const again = await gateway.admin.fails(DeleteUserDocument, { id: user.id });
    expect(again.code).toBe("NOT_FOUND");
    const { createUser: reused } = await gateway.admin.ok(CreateUserDocument, { input: { login: user.login, password: PASSWORD } });
    expect(reused.id).not.toBe(user.id);
  });

  test("a message still awaiting its receipt when its user is deleted is masked too, and its receipt still lands", async () => {
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: "+1415555018", outcome: "DELIVERED", delayMs: 1_500 }] });
    try {
      const { user } = await userWithPhone(gateway, "+14155550181");
      const [awaiting] = await gateway.db.manager.findBy(Message, { userId: user.id, status: "SENT" });
      expect(awaiting).toBeDefined();
      await gateway.admin.ok(DeactivateUserDocument, { id: user.id });
      await gateway.admin.ok(DeleteUserDocument, { id: user.id });
      expect((await gateway.db.manager.findOneByOrFail(Message, { id: awaiting!.id })).toE164).toBe("+1 XXX-XXX-0181");

      await settleMessages(gateway);
      expect(await gateway.db.manager.findOneByOrFail(Message, { id: awaiting!.id })).toMatchObject({ status: "DELIVERED", toE164: "+1 XXX-XXX-0181" });
      const [receipt] = await eventsAbout("system.sms.receive_status", awaiting!.id);
      expect(receipt?.target).toContainEqual(expect.objectContaining({ id: awaiting!.id, alternateId: "+1 XXX-XXX-0181" }));
    } finally {
      await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [] });
    }
  });

  test("a refused deletion writes nothing, and a reactivated user can no longer be deleted", async () => {
    const { createUser: user } = await gateway.admin.ok(CreateUserDocument, { input: { login: "staying@example.com", password: PASSWORD } });
    await gateway.admin.ok(DeactivateUserDocument, { id: user.id });
    await gateway.admin.ok(ActivateUserDocument, { id: user.id });
    expect((await gateway.admin.fails(DeleteUserDocument, { id: user.id })).code).toBe("CONFLICT");
    expect((await gateway.admin.ok(UserByIdDocument, { id: user.id })).user?.status).toBe("ACTIVE");
    expect(await eventsAbout("user.lifecycle.delete.completed", user.id)).toEqual([]);
    const anonymous = await gateway.anonymous.fails(DeleteUserDocument, { id: user.id });
    expect(anonymous.code).toBe("UNAUTHENTICATED");
  });

  test("updateGroup changes only what it is given; a taken name is CONFLICT; an unchanged group logs nothing", async () => {
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "Support", description: "first line" });
    await gateway.admin.ok(CreateGroupDocument, { name: "Sales" });

    const renamed = await gateway.admin.ok(UpdateGroupDocument, { id: group.id, name: "Customer Support" });
    expect(renamed.updateGroup).toEqual({ id: group.id, name: "Customer Support", description: "first line" });
    const cleared = await gateway.admin.ok(UpdateGroupDocument, { id: group.id, description: null });
    expect(cleared.updateGroup.description).toBeNull();
    await gateway.admin.ok(UpdateGroupDocument, { id: group.id, name: "Customer Support" });

    const taken = await gateway.admin.fails(UpdateGroupDocument, { id: group.id, name: "SALES" });
    expect(taken.code).toBe("CONFLICT");
    expect(taken.extensions?.reason).toBe("GROUP_NAME_TAKEN");
    const blank = await gateway.admin.fails(UpdateGroupDocument, { id: group.id, name: "  " });
    expect(blank.code).toBe("BAD_USER_INPUT");
    expect((await gateway.admin.fails(UpdateGroupDocument, { id: "grp_nothing", name: "x" })).code).toBe("NOT_FOUND");

    const { groups } = await gateway.admin.ok(GroupsDocument, {});
    expect(groups.find((g) => g.id === group.id)).toMatchObject({ name: "Customer Support", description: null });
    const events = await eventsAbout("group.profile.update", group.id);
    expect(events.map((event) => event.debugContext)).toEqual([
      { changedFields: "name", previousName: "Support" },
      { changedFields: "description" },
    ]);
  });

  test("a group named by a policy cannot be deleted until the policy lets it go; then it goes with its memberships", async () => {
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "Contractors" });
    const { createUser: member } = await gateway.admin.ok(CreateUserDocument, { input: { login: "contractor@example.com", groupIds: [group.id] } });
    const { createPolicy: policy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: {
        type: "GLOBAL_SESSION",
        name: "Everyone but contractors",
        rules: [{ name: "Staff", access: "ALLOW", factorRequirement: "PASSWORD_ONLY", excludedGroupIds: [group.id] }],
      },
    });

    const inUse = await gateway.admin.fails(DeleteGroupDocument, { id: group.id });
    expect(inUse.code).toBe("CONFLICT");
    expect(inUse.extensions?.reason).toBe("GROUP_IN_USE");
    expect(inUse.message).toContain("Everyone but contractors");
    expect((await gateway.admin.ok(UserByIdDocument, { id: member.id })).user?.groups.map((g) => g.id)).toEqual([group.id]);

    await gateway.admin.ok(DeletePolicyDocument, { id: policy.id });
    expect(await gateway.admin.ok(DeleteGroupDocument, { id: group.id })).toEqual({ deleteGroup: true });
    expect((await gateway.admin.ok(GroupsDocument, {})).groups.map((g) => g.id)).not.toContain(group.id);
    expect((await gateway.admin.ok(UserByIdDocument, { id: member.id })).user?.groups).toEqual([]);
    expect(await eventsAbout("group.lifecycle.delete", group.id)).toEqual([expect.objectContaining({ debugContext: { members: 1 } })]);
    expect((await gateway.admin.fails(DeleteGroupDocument, { id: group.id })).code).toBe("NOT_FOUND");
  });

  /**
   * Holds a deletion's first statement open on a connection of the gateway's own pool, starts
   * `requests` against the row it deletes, waits until each is blocked behind it (or has
   * answered: then nothing held it), and commits.
   */
  async function whileDeleting(table: string, id: string, requests: () => Array<Promise<GraphQLResponse<unknown>>>): Promise<Array<GraphQLResponse<unknown>>> {
    const deletion = gateway.db.dataSource.createQueryRunner();
    await deletion.connect();
    try {
      await deletion.startTransaction();
      await deletion.query(`DELETE FROM "${table}" WHERE "id" = $1`, [id]);
      const [{ pid }] = (await deletion.query("SELECT pg_backend_pid() AS pid")) as Array<{ pid: number }>;
      let answered = 0;
      const pending = requests().map((request) => request.finally(() => answered++));
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        const [{ blocked }] = (await gateway.db.dataSource.query(
          "SELECT count(*)::int AS blocked FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
          [pid],
        )) as Array<{ blocked: number }>;
        if (blocked + answered >= pending.length) break;
      }
      await deletion.commitTransaction();
      return await Promise.all(pending);
    } finally {
      if (deletion.isTransactionActive) await deletion.rollbackTransaction();
      await deletion.release();
    }
  }

  const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.[0]?.extensions?.code ?? "OK";

  onPostgres("a membership or a policy naming a group that is being deleted waits for the deletion, then is NOT_FOUND", async () => {
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "Disbanding" });
    const { createUser: user } = await gateway.admin.ok(CreateUserDocument, { input: { login: "joiner@example.com" } });
    const answers = await whileDeleting("groups", group.id, () => [
      gateway.admin.request(AddUserToGroupDocument, { userId: user.id, groupId: group.id }),
      gateway.admin.request(CreatePolicyDocument, { input: { type: "GLOBAL_SESSION", name: "For the disbanded", groupIds: [group.id] } }),
      gateway.admin.request(CreateUserDocument, { input: { login: "late-joiner@example.com", groupIds: [group.id] } }),
    ]);
    expect(answers.map(codeOf)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    expect(await gateway.db.manager.countBy(GroupMember, { groupId: group.id })).toBe(0);
    const { policies } = await gateway.admin.ok(PoliciesDocument, {});
    expect(policies.map((policy) => policy.name)).not.toContain("For the disbanded");
  });

  onPostgres("a membership or a phone factor for a user who is being deleted waits for the deletion, then is NOT_FOUND", async () => {
    const { createGroup: group } = await gateway.admin.ok(CreateGroupDocument, { name: "Stayers" });
    const { createUser: user } = await gateway.admin.ok(CreateUserDocument, { input: { login: "going@example.com", password: PASSWORD } });
    const answers = await whileDeleting("users", user.id, () => [
      gateway.admin.request(AddUserToGroupDocument, { userId: user.id, groupId: group.id }),
      gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+14155550172", method: "SMS" } }),
    ]);
    expect(answers.map(codeOf)).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    expect(await gateway.db.manager.countBy(GroupMember, { userId: user.id })).toBe(0);
    expect(await gateway.db.manager.countBy(PhoneFactor, { userId: user.id })).toBe(0);
  });
});
