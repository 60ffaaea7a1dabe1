import {
  ActivateUserDocument,
  AddUserToGroupDocument,
  CreateGroupDocument,
  CreatePolicyDocument,
  CreateUserDocument,
  DeletePolicyDocument,
  DeactivateUserDocument,
  GroupMembersDocument,
  GroupsDocument,
  RemoveUserFromGroupDocument,
  SignInDocument,
  SuspendUserDocument,
  UnsuspendUserDocument,
  UpdateGroupDocument,
  UpdateUserDocument,
  UserByIdDocument,
  UsersDocument,
  type PolicyInput,
} from "../../../src/generated/graphql";
import { In } from "typeorm";
import { LogEventRecord, LogEventTargetRecord } from "../../../src/log/log-event.entity";
import { User } from "../../../src/users/user.entity";
import { ownStatements, startTestGateway, type TestGateway } from "../../support/gateway";
import { enroll } from "../../support/phone";

describe("users and groups", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const userCount = async () => (await gateway.admin.ok(UsersDocument, {})).users.totalCount;

  test("createUser makes an ACTIVE user with an opaque prefixed id and a canonical locale", async () => {
    const { createUser } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: "Ada@Example.com", firstName: "Ada", password: "correct horse battery", locale: "fr-ca" },
    });
    expect(createUser.id).toMatch(/^usr_[A-Za-z0-9_-]{20}$/);
    expect(createUser).toMatchObject({ login: "Ada@Example.com", status: "ACTIVE", locale: "fr-CA" });
    const staged = await gateway.admin.ok(CreateUserDocument, { input: { login: "staged@example.com", activate: false } });
    expect(staged.createUser).toMatchObject({ status: "STAGED", locale: "en" });
    const provisioned = await gateway.admin.ok(CreateUserDocument, { input: { login: "nopassword@example.com" } });
    expect(provisioned.createUser.status).toBe("PROVISIONED");
  });

  test("logins are unique regardless of case: CONFLICT, and nothing is written", async () => {
    const before = await userCount();
    const error = await gateway.admin.fails(CreateUserDocument, { input: { login: "ADA@example.COM" } });
    expect(error.code).toBe("CONFLICT");
    expect(error.extensions?.reason).toBe("LOGIN_TAKEN");
    expect(await userCount()).toBe(before);
  });

  test("a login that only looks like another (full-width letters, a decomposed accent) is that login: CONFLICT, and it signs in to it", async () => {
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: "jos\u00e9@example.com", password: "a long enough password" } });
    for (const lookalike of ["jose\u0301@example.com", "\uFF4A\uFF4F\uFF53\u00e9@example.com"]) {
      const error = await gateway.admin.fails(CreateUserDocument, { input: { login: lookalike } });
      expect(error).toMatchObject({ code: "CONFLICT", extensions: expect.objectContaining({ reason: "LOGIN_TAKEN" }) });
      const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: lookalike, password: "a long enough password" } });
      expect(signIn).toMatchObject({ status: "SUCCESS", user: { id: createUser.id } });
    }
    expect((await gateway.admin.ok(UsersDocument, { search: "\uFF4A\uFF4F\uFF53" })).users.edges.map((edge) => edge.node.id)).toContain(createUser.id);
    await gateway.admin.ok(CreateGroupDocument, { name: "Engineering-wide" });
    expect((await gateway.admin.fails(CreateGroupDocument, { name: "\uFF25ngineering-wide" })).code).toBe("CONFLICT");
  });

  test("a login or group name that only looks like another through characters that show nothing is refused", async () => {
    await gateway.admin.ok(CreateUserDocument, { input: { login: "grace@example.com" } });
    for (const invisible of ["\u200b", "\u00ad", "\u2060", "\u200d", "\ufeff", "\u202e", "\u0007"]) {
      const error = await gateway.admin.fails(CreateUserDocument, { input: { login: `grace${invisible}@example.com` } });
      expect(error.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.login" });
    }
    await gateway.admin.ok(CreateGroupDocument, { name: "Operations" });
    for (const invisible of ["\u200b", "\u00ad", "\u2060", "\ufeff"]) {
      expect((await gateway.admin.fails(CreateGroupDocument, { name: `Opera${invisible}tions` })).extensions).toMatchObject({ code: "CONFLICT", reason: "GROUP_NAME_TAKEN" });
    }
    for (const reordering of ["\u202e", "\u2066", "\u200f", "\u0007"]) {
      expect((await gateway.admin.fails(CreateGroupDocument, { name: `Opera${reordering}tions` })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    }
    expect((await gateway.admin.fails(CreateGroupDocument, { name: "\u200b\u2060" })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    // An emoji's joiners are part of it: a group may be named with one.
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "\u{1F469}\u200d\u{1F4BB} Developers" });
    expect(createGroup.name).toBe("\u{1F469}\u200d\u{1F4BB} Developers");
  });

  test("an account stored before logins were NFKC-normalised still signs in as it was typed then", async () => {
    const typed = "\uFF4C\uFF45\uFF47\uFF41\uFF43\uFF59@example.com";
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: typed, password: "a long enough password" } });
    // Its key as it was then: lower case alone.
    await gateway.db.dataSource.createQueryBuilder().update(User).set({ loginNormalized: typed.toLowerCase() }).where("id = :id", { id: createUser.id }).execute();
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: typed, password: "a long enough password" } });
    expect(signIn).toMatchObject({ status: "SUCCESS", user: { id: createUser.id } });
    // A look-alike under today's key, made since, does not take the old account's sign-ins.
    const { createUser: since } = await gateway.admin.ok(CreateUserDocument, { input: { login: "legacy@example.com", password: "another long password" } });
    const again = await gateway.anonymous.ok(SignInDocument, { input: { login: typed, password: "a long enough password" } });
    expect(again.signIn).toMatchObject({ status: "SUCCESS", user: { id: createUser.id } });
    const theirs = await gateway.anonymous.ok(SignInDocument, { input: { login: "legacy@example.com", password: "another long password" } });
    expect(theirs.signIn).toMatchObject({ status: "SUCCESS", user: { id: since.id } });
  });

  test.each([
    ["a login of 10,000 characters", { login: "x".repeat(10_000) }, "input.login"],
    // Lower-cased for uniqueness, "İ" is two characters: the stored form would pass its column.
    ["a login of 200 characters whose lower case is 400", { login: "İ".repeat(200) }, "input.login"],
    // 256 to class-validator, which skips variation selectors; 512 to the database.
    ["a login of 256 letters each with a variation selector", { login: "a\uFE0F".repeat(256) }, "input.login"],
    ["a blank login", { login: "   " }, "input.login"],
    ["an email that is not one", { login: "e@example.com", email: "not-an-email" }, "input.email"],
    ["a locale that is not BCP 47", { login: "l@example.com", locale: "not a locale!" }, "input.locale"],
    // 33 characters given, 38 in the canonical form that is stored.
    ["a locale longer than 35 characters once canonical", { login: "l@example.com", locale: "en-abcdefgh-u-nu-latn-ca-islamicc" }, "input.locale"],
    ["a mobile phone of 33 characters", { login: "m@example.com", mobilePhone: `+${"1".repeat(32)}` }, "input.mobilePhone"],
  ])("%s is BAD_USER_INPUT naming the field, and writes nothing", async (_name, input, field) => {
    const before = await userCount();
    const error = await gateway.admin.fails(CreateUserDocument, { input });
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.extensions?.field).toBe(field);
    expect(await userCount()).toBe(before);
  });

  test("a short password breaks the password policy and writes nothing", async () => {
    const before = await userCount();
    const error = await gateway.admin.fails(CreateUserDocument, { input: { login: "short@example.com", password: "1234567" } });
    expect(error.code).toBe("PASSWORD_POLICY");
    expect(await userCount()).toBe(before);
  });

  test("a password is held to the password policy of the groups the user is created in", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "Symbol people", description: null });
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "PASSWORD", name: "Symbols please", groupIds: [createGroup.id], requireSymbol: true, minLength: 12 },
    });
    try {
      const before = await userCount();
      const refused = await gateway.admin.fails(CreateUserDocument, {
        input: { login: "symbol@example.com", password: "no symbols in here", groupIds: [createGroup.id] },
      });
      expect(refused).toMatchObject({ code: "PASSWORD_POLICY", extensions: expect.objectContaining({ reason: "SYMBOL" }) });
      expect(await userCount()).toBe(before);
      // The default policy, outside the group, asks for no symbol.
      await gateway.admin.ok(CreateUserDocument, { input: { login: "plain@example.com", password: "no symbols in here" } });
      await gateway.admin.ok(CreateUserDocument, { input: { login: "symbol@example.com", password: "punctuation, at last", groupIds: [createGroup.id] } });
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });

  test("a common password, or one containing the username, is PASSWORD_POLICY unless the policy switches that check off", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "Legacy importers", description: null });
    const refusal = async (login: string, password: string, groupIds: string[] = []) =>
      (await gateway.admin.fails(CreateUserDocument, { input: { login, password, groupIds } })).extensions?.reason;
    const before = await userCount();
    expect(await refusal("dana@example.com", "Password123")).toBe("COMMON_PASSWORD");
    expect(await refusal("dana@example.com", "dana's long password")).toBe("CONTAINS_USERNAME");
    expect(await refusal("dana@example.com", "DANA's long password")).toBe("CONTAINS_USERNAME");
    expect(await userCount()).toBe(before);

    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "PASSWORD", name: "Imported passwords", groupIds: [createGroup.id], excludeCommonPasswords: false, excludeUsername: false },
    });
    try {
      expect(createPolicy).toMatchObject({ excludeCommonPasswords: false, excludeUsername: false });
      await gateway.admin.ok(CreateUserDocument, { input: { login: "erin@example.com", password: "password123", groupIds: [createGroup.id] } });
      await gateway.admin.ok(CreateUserDocument, { input: { login: "fred@example.com", password: "fred's long password", groupIds: [createGroup.id] } });
      // Outside the group, the default policy still refuses both.
      expect(await refusal("gina@example.com", "password123")).toBe("COMMON_PASSWORD");
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });

  test("a policy that excludes names refuses a password holding the user's first or last name", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "Named people", description: null });
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, {
      input: { type: "PASSWORD", name: "No names", groupIds: [createGroup.id], excludeNames: true },
    });
    try {
      expect(createPolicy).toMatchObject({ excludeNames: true });
      const input = { login: "hw@example.com", firstName: "Hannah", lastName: "Whitfield", groupIds: [createGroup.id] };
      const refused = await gateway.admin.fails(CreateUserDocument, { input: { ...input, password: "whitfield family rules" } });
      expect(refused).toMatchObject({ code: "PASSWORD_POLICY", extensions: expect.objectContaining({ reason: "CONTAINS_NAME" }) });
      await gateway.admin.ok(CreateUserDocument, { input: { ...input, password: "a long and nameless password" } });
      // The default policy leaves names alone.
      await gateway.admin.ok(CreateUserDocument, { input: { login: "hw2@example.com", firstName: "Hannah", password: "hannah's long password" } });
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
  });

  test("password policies exclude common passwords and the username and remember 4 passwords unless told otherwise; other policy types take none of it", async () => {
    const { createPolicy } = await gateway.admin.ok(CreatePolicyDocument, { input: { type: "PASSWORD", name: "Defaults only" } });
    try {
      expect(createPolicy).toMatchObject({ excludeCommonPasswords: true, excludeUsername: true, excludeNames: false, passwordHistoryCount: 4 });
    } finally {
      await gateway.admin.ok(DeletePolicyDocument, { id: createPolicy.id });
    }
    const refusedField = async (input: PolicyInput) => (await gateway.admin.fails(CreatePolicyDocument, { input })).extensions?.field;
    expect(await refusedField({ type: "AUTHENTICATION", name: "Sign-on", excludeUsername: false })).toBe("input.excludeUsername");
    expect(await refusedField({ type: "AUTHENTICATION", name: "Sign-on", passwordHistoryCount: 2 })).toBe("input.passwordHistoryCount");
    expect(await refusedField({ type: "PASSWORD", name: "Too long a memory", passwordHistoryCount: 25 })).toBe("input.passwordHistoryCount");
    expect(await refusedField({ type: "PASSWORD", name: "Negative", passwordHistoryCount: -1 })).toBe("input.passwordHistoryCount");
  });

  test("an unknown group id is NOT_FOUND and the user is not created", async () => {
    const before = await userCount();
    const error = await gateway.admin.fails(CreateUserDocument, { input: { login: "grouped@example.com", groupIds: ["grp_doesnotexist"] } });
    expect(error.code).toBe("NOT_FOUND");
    expect(await userCount()).toBe(before);
  });

  test("names of the longest length allowed are kept whole on the user and clipped only in the System Log's display name", async () => {
    const [firstName, lastName] = ["F".repeat(127) + "é", "L".repeat(128)];
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: "long-names@example.com", firstName, lastName } });
    expect(createUser).toMatchObject({ firstName, lastName });
    const [target] = await gateway.db.manager.findBy(LogEventTargetRecord, { id: createUser.id });
    expect(target?.displayName).toBe(`${firstName} ${lastName}`.slice(0, 256));
  });

  test("updateUser changes only the fields given", async () => {
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: "upd@example.com", firstName: "Old", lastName: "Name" } });
    const { updateUser } = await gateway.admin.ok(UpdateUserDocument, { input: { id: createUser.id, firstName: "New", locale: "de" } });
    expect(updateUser).toMatchObject({ firstName: "New", lastName: "Name", locale: "de" });
    const missing = await gateway.admin.fails(UpdateUserDocument, { input: { id: "usr_nobody", firstName: "x" } });
    expect(missing.code).toBe("NOT_FOUND");
  });

  test("the lifecycle allows Okta's transitions and refuses the others with CONFLICT", async () => {
    const { createUser: user } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: "life@example.com", password: "a long enough password", activate: false },
    });
    expect(user.status).toBe("STAGED");
    expect((await gateway.admin.fails(SuspendUserDocument, { id: user.id })).code).toBe("CONFLICT");
    expect((await gateway.admin.ok(ActivateUserDocument, { id: user.id })).activateUser.status).toBe("ACTIVE");
    expect((await gateway.admin.fails(ActivateUserDocument, { id: user.id })).code).toBe("CONFLICT");
    expect((await gateway.admin.ok(SuspendUserDocument, { id: user.id })).suspendUser.status).toBe("SUSPENDED");
    expect((await gateway.admin.fails(SuspendUserDocument, { id: user.id })).code).toBe("CONFLICT");
    expect((await gateway.admin.ok(UnsuspendUserDocument, { id: user.id })).unsuspendUser.status).toBe("ACTIVE");
    expect((await gateway.admin.ok(DeactivateUserDocument, { id: user.id })).deactivateUser.status).toBe("DEPROVISIONED");
    expect((await gateway.admin.fails(DeactivateUserDocument, { id: user.id })).code).toBe("CONFLICT");
    expect((await gateway.admin.fails(UnsuspendUserDocument, { id: user.id })).code).toBe("CONFLICT");
    expect((await gateway.admin.ok(ActivateUserDocument, { id: user.id })).activateUser.status).toBe("ACTIVE");
    expect((await gateway.admin.fails(SuspendUserDocument, { id: "usr_unknown" })).code).toBe("NOT_FOUND");
  });

  test("groups: create, add, remove; a duplicate name is CONFLICT; unknown ids are NOT_FOUND", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "Engineering", description: "builders" });
    expect(createGroup.id).toMatch(/^grp_/);
    expect((await gateway.admin.fails(CreateGroupDocument, { name: "engineering" })).code).toBe("CONFLICT");
    // 100 characters, 200 once lower-cased for uniqueness: past the 128 its column holds.
    expect((await gateway.admin.fails(CreateGroupDocument, { name: "İ".repeat(100) })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    // 140 as given, 70 once NFKC composes each accent: the name is stored as given.
    expect((await gateway.admin.fails(CreateGroupDocument, { name: "e\u0301".repeat(70) })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    expect((await gateway.admin.fails(UpdateGroupDocument, { id: createGroup.id, name: "e\u0301".repeat(70) })).extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: "member@example.com" } });
    const added = await gateway.admin.ok(AddUserToGroupDocument, { userId: createUser.id, groupId: createGroup.id });
    expect(added.addUserToGroup.users.totalCount).toBe(1);
    const again = await gateway.admin.ok(AddUserToGroupDocument, { userId: createUser.id, groupId: createGroup.id });
    expect(again.addUserToGroup.users.totalCount).toBe(1);
    const { user } = await gateway.admin.ok(UserByIdDocument, { id: createUser.id });
    expect(user?.groups.map((g) => g.name)).toEqual(["Engineering"]);
    expect((await gateway.admin.fails(AddUserToGroupDocument, { userId: "usr_nobody", groupId: createGroup.id })).code).toBe("NOT_FOUND");
    expect((await gateway.admin.fails(AddUserToGroupDocument, { userId: createUser.id, groupId: "grp_nothing" })).code).toBe("NOT_FOUND");
    const removed = await gateway.admin.ok(RemoveUserFromGroupDocument, { userId: createUser.id, groupId: createGroup.id });
    expect(removed.removeUserFromGroup.users.totalCount).toBe(0);
  });

  test("mutations in one document: each is answered with what the ones before it wrote", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "one-document" });
    const ids: string[] = [];
    for (const login of ["first-in-doc@example.com", "second-in-doc@example.com"]) {
      ids.push((await gateway.admin.ok(CreateUserDocument, { input: { login } })).createUser.id);
    }
    const add = (alias: string, userId: string) => `${alias}: addUserToGroup(groupId: "${createGroup.id}", userId: "${userId}") { users { totalCount } }`;
    const remove = `c: removeUserFromGroup(groupId: "${createGroup.id}", userId: "${ids[0]}") { users { totalCount edges { node { id } } } }`;
    const result = await gateway.admin.raw<Record<string, { users: { totalCount: number; edges?: { node: { id: string } }[] } }>>(
      JSON.stringify({ query: `mutation { ${add("a", ids[0]!)} ${add("b", ids[1]!)} ${remove} }` }),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.a?.users.totalCount).toBe(1);
    expect(result.data?.b?.users.totalCount).toBe(2);
    expect(result.data?.c?.users).toEqual({ totalCount: 1, edges: [{ node: { id: ids[1] } }] });
  });

  test("the same member added by several requests at once is one membership, added once, and no request fails", async () => {
    const { createGroup } = await gateway.admin.ok(CreateGroupDocument, { name: "double-clicked" });
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: "double-click@example.com" } });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => gateway.admin.request(AddUserToGroupDocument, { userId: createUser.id, groupId: createGroup.id })),
    );
    expect(results.map((result) => result.errors ?? [])).toEqual(Array(8).fill([]));
    expect(results.map((result) => result.data?.addUserToGroup.users.totalCount)).toEqual(Array(8).fill(1));
    const aboutTheGroup = await gateway.db.manager.findBy(LogEventTargetRecord, { id: createGroup.id });
    const added = await gateway.db.manager.findBy(LogEventRecord, { uuid: In(aboutTheGroup.map((target) => target.eventUuid)), eventType: "group.user_membership.add" });
    expect(added).toHaveLength(1);
  });

  test("phoneNumber finds the users with a phone factor on that number, however it is written", async () => {
    const { createUser: first } = await gateway.admin.ok(CreateUserDocument, { input: { login: "shared-phone-1@example.com" } });
    const { createUser: second } = await gateway.admin.ok(CreateUserDocument, { input: { login: "shared-phone-2@example.com" } });
    const { createUser: elsewhere } = await gateway.admin.ok(CreateUserDocument, { input: { login: "other-phone@example.com" } });
    await enroll(gateway, first.id, "+447400123456");
    await enroll(gateway, second.id, "+44 7400 123456", "VOICE");
    await enroll(gateway, elsewhere.id, "+447400123457");

    for (const written of ["+447400123456", "+44 (0)7400 123-456", "+44 7400 123456"]) {
      const { users } = await gateway.admin.ok(UsersDocument, { phoneNumber: written });
      expect(users.edges.map((edge) => edge.node.id).sort()).toEqual([first.id, second.id].sort());
      expect(users.totalCount).toBe(2);
    }
    const narrowed = await gateway.admin.ok(UsersDocument, { phoneNumber: "+447400123456", search: "shared-phone-2" });
    expect(narrowed.users.edges.map((edge) => edge.node.id)).toEqual([second.id]);
    expect((await gateway.admin.ok(UsersDocument, { phoneNumber: "+14155550199" })).users.totalCount).toBe(0);
    for (const notOne of ["07400 123456", "+1 555", "call me"]) {
      const error = await gateway.admin.fails(UsersDocument, { phoneNumber: notOne });
      expect(error.code).toBe("BAD_USER_INPUT");
      expect(error.extensions?.field).toBe("phoneNumber");
    }
  });

  test("search and status filter the connection, and totalCount counts the filter", async () => {
    const found = await gateway.admin.ok(UsersDocument, { search: "ada" });
    expect(found.users.edges.map((e) => e.node.login)).toEqual(["Ada@Example.com"]);
    expect(found.users.totalCount).toBe(1);
    const staged = await gateway.admin.ok(UsersDocument, { status: "STAGED" });
    expect(staged.users.edges.every((e) => e.node.status === "STAGED")).toBe(true);
    const literal = await gateway.admin.ok(UsersDocument, { search: "%" });
    expect(literal.users.totalCount).toBe(0);
    expect((await gateway.admin.fails(UsersDocument, { first: 0 })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.admin.fails(UsersDocument, { first: 201 })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.admin.fails(UsersDocument, { after: "garbage" })).code).toBe("BAD_USER_INPUT");
  });

  test("search folds the case of any letter, on either engine: É finds é and é finds É", async () => {
    const { createUser } = await gateway.admin.ok(CreateUserDocument, {
      input: { login: "elodie@example.com", firstName: "Élodie", lastName: "Øster", email: "ÉLODIE.OSTER@EXAMPLE.COM" },
    });
    for (const search of ["élodie", "ÉLO", "øst", "ØSTER", "élodie.oster@"]) {
      const { users } = await gateway.admin.ok(UsersDocument, { search });
      expect([search, users.edges.map((edge) => edge.node.id)]).toEqual([search, [createUser.id]]);
    }
  });

  test("a cursor is for the next page of the same search: another search or status is BAD_USER_INPUT", async () => {
    const { users } = await gateway.admin.ok(UsersDocument, { first: 1 });
    const after = users.pageInfo.endCursor!;
    expect((await gateway.admin.ok(UsersDocument, { first: 1, after })).users.edges).toHaveLength(1);
    expect(await gateway.admin.fails(UsersDocument, { first: 1, after, search: "ada" })).toMatchObject({
      code: "BAD_USER_INPUT",
      extensions: expect.objectContaining({ field: "after" }),
    });
    expect((await gateway.admin.fails(UsersDocument, { first: 1, after, status: "STAGED" })).code).toBe("BAD_USER_INPUT");
  });
});

describe("paging and batching", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("a cursor stays valid, and no row is skipped or repeated, when rows are inserted while paging", async () => {
    for (let i = 0; i < 5; i += 1) {
      gateway.clock.advance(1000);
      await gateway.admin.ok(CreateUserDocument, { input: { login: `page${i}@example.com` } });
    }
    const first = await gateway.admin.ok(UsersDocument, { first: 2 });
    expect(first.users.pageInfo.hasNextPage).toBe(true);
    gateway.clock.advance(1000);
    await gateway.admin.ok(CreateUserDocument, { input: { login: "late@example.com" } });
    const seen = first.users.edges.map((e) => e.node.login);
    let after = first.users.pageInfo.endCursor;
    while (after) {
      const page = await gateway.admin.ok(UsersDocument, { first: 2, after });
      seen.push(...page.users.edges.map((e) => e.node.login));
      after = page.users.pageInfo.hasNextPage ? page.users.pageInfo.endCursor : null;
    }
    expect(seen).toEqual(["page0@example.com", "page1@example.com", "page2@example.com", "page3@example.com", "page4@example.com", "late@example.com"]);
  });

  test("a group's members page through group(id); a cursor from one group's page is BAD_USER_INPUT on another's", async () => {
    const groupA = (await gateway.admin.ok(CreateGroupDocument, { name: "paging-a" })).createGroup.id;
    const groupB = (await gateway.admin.ok(CreateGroupDocument, { name: "paging-b" })).createGroup.id;
    // Interleaved, so that A's position falls before B's members and would show them again.
    for (const [login, groupId] of [["a1", groupA], ["a2", groupA], ["b1", groupB], ["a3", groupA], ["b2", groupB]] as const) {
      gateway.clock.advance(1000);
      await gateway.admin.ok(CreateUserDocument, { input: { login: `${login}-paging@example.com`, groupIds: [groupId] } });
    }
    const page = async (id: string, after?: string) => (await gateway.admin.ok(GroupMembersDocument, { id, first: 2, after })).group!.users;
    const firstOfA = await page(groupA);
    expect(firstOfA.edges.map((e) => e.node.login)).toEqual(["a1-paging@example.com", "a2-paging@example.com"]);
    const secondOfA = await page(groupA, firstOfA.pageInfo.endCursor!);
    expect(secondOfA).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
    expect(secondOfA.edges.map((e) => e.node.login)).toEqual(["a3-paging@example.com"]);

    const foreign = await gateway.admin.fails(GroupMembersDocument, { id: groupB, first: 2, after: firstOfA.pageInfo.endCursor! });
    expect(foreign.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    // Every group of a list gets the one cursor, and Group.users cannot be null: no data at all.
    const listed = await gateway.admin.raw(JSON.stringify({ query: "query ($after: String) { groups { id users(first: 2, after: $after) { totalCount } } }", variables: { after: firstOfA.pageInfo.endCursor } }));
    expect(listed.data).toBeNull();
    const refusals = (listed.errors ?? []).map((error) => error.extensions);
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) expect(refusal).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    expect((await gateway.admin.ok(GroupMembersDocument, { id: "grp_nothing_here", first: 2 })).group).toBeNull();
  });

  test("100 users with their groups, and groups with their users, cost a constant number of SQL statements", async () => {
    const groups = [];
    for (const name of ["alpha", "beta", "gamma"]) groups.push((await gateway.admin.ok(CreateGroupDocument, { name })).createGroup.id);
    for (let i = 0; i < 100; i += 1) {
      await gateway.admin.ok(CreateUserDocument, { input: { login: `bulk${i}@example.com`, groupIds: [groups[i % 3]!] } });
    }
    const measure = async (first: number) => {
      const requestId = `measure-users-${first}`;
      const response = await gateway.admin.request(UsersDocument, { first }, { "x-request-id": requestId });
      return { statements: ownStatements(gateway, requestId), result: response.data! };
    };
    const ten = await measure(10);
    const hundred = await measure(100);
    expect(hundred.result.users.edges).toHaveLength(100);
    expect(hundred.result.users.edges.filter((e) => e.node.groups.length === 1).length).toBeGreaterThanOrEqual(94);
    expect(ten.statements).toBeGreaterThan(0);
    expect(hundred.statements).toBe(ten.statements);
    expect(hundred.statements).toBeLessThanOrEqual(5);

    const groupsResponse = await gateway.admin.request(GroupsDocument, { first: 5 }, { "x-request-id": "measure-groups" });
    const listed = groupsResponse.data!.groups;
    const groupStatements = ownStatements(gateway, "measure-groups");
    expect(listed.find((g) => g.name === "alpha")?.users.totalCount).toBe(34);
    expect(listed.find((g) => g.name === "alpha")?.users.edges).toHaveLength(5);
    expect(groupStatements).toBeLessThanOrEqual(5);
  });
});
