/**
 * A signed-in user changes their password. Threat: a stolen session token. Without the current
 * password it cannot take the account over, and guessing that password locks the account.
 */
import { ChangePasswordDocument, MeDocument, SignInDocument } from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { PasswordHistoryRecord } from "../../../src/users/password-history";
import { User } from "../../../src/users/user.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";
import { PASSWORD, setPasswordPolicy, signedIn as signedInAs } from "../../support/transactions";

const NEW_PASSWORD = "another long enough password";

describe("changePassword", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const signedIn = (login: string, password = PASSWORD) => signedInAs(gateway, login, password);
  const signInFails = async (login: string, password: string) =>
    (await gateway.anonymous.fails(SignInDocument, { input: { login, password } })).code;
  const eventsOf = (userId: string, eventType: string) =>
    gateway.db.manager.find(LogEventRecord, { where: { actorId: userId, eventType }, order: { published: "ASC" } });

  test("the new password signs in and the old one no longer does; the user's other sessions end and this one stays", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const [laptop, phone] = [await signedIn(user.login), await signedIn(user.login)];

    expect(await laptop.ok(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })).toEqual({ changePassword: true });
    expect((await laptop.ok(MeDocument)).me?.id).toBe(user.id);
    expect((await phone.fails(MeDocument)).code).toBe("UNAUTHENTICATED");
    expect(await signInFails(user.login, PASSWORD)).toBe("INVALID_CREDENTIALS");
    expect((await (await signedIn(user.login, NEW_PASSWORD)).ok(MeDocument)).me?.id).toBe(user.id);

    const [changed] = await eventsOf(user.id, "user.account.update_password");
    expect(changed).toMatchObject({ outcomeResult: "SUCCESS", debugContext: expect.objectContaining({ endedSessions: 1 }) });
    expect(JSON.stringify(changed)).not.toContain(NEW_PASSWORD);
  });

  test("a wrong current password is INVALID_CREDENTIALS, changes nothing and counts towards lockout, which ends the session", async () => {
    await setPasswordPolicy(gateway, { maxFailedAttempts: 3 });
    try {
      const user = await createUser(gateway, { password: PASSWORD });
      const session = await signedIn(user.login);
      const attempt = (currentPassword: string) => session.fails(ChangePasswordDocument, { input: { currentPassword, newPassword: NEW_PASSWORD } });

      expect((await attempt("not the password")).code).toBe("INVALID_CREDENTIALS");
      expect((await attempt("nor this one")).code).toBe("INVALID_CREDENTIALS");
      expect((await gateway.db.manager.findOneByOrFail(User, { id: user.id })).failedLogins).toBe(2);
      expect((await session.ok(MeDocument)).me?.id).toBe(user.id);
      expect((await attempt("a third guess")).code).toBe("INVALID_CREDENTIALS");

      expect((await gateway.db.manager.findOneByOrFail(User, { id: user.id })).status).toBe("LOCKED_OUT");
      expect((await session.fails(MeDocument)).code).toBe("UNAUTHENTICATED");
      const failures = await eventsOf(user.id, "user.account.update_password");
      expect(failures.map((event) => [event.outcomeResult, event.outcomeReason])).toEqual(Array(3).fill(["FAILURE", "INVALID_CREDENTIALS"]));
      expect(await eventsOf(user.id, "user.account.lock")).toHaveLength(1);
    } finally {
      await setPasswordPolicy(gateway, {});
    }
  });

  test("the policy's history refuses the last passwords, the current one included, forgets older ones, and keeps no more than it needs", async () => {
    await setPasswordPolicy(gateway, { passwordHistoryCount: 3 });
    try {
      const user = await createUser(gateway, { password: "the first long password" });
      let current = "the first long password";
      const change = async (newPassword: string) => {
        const session = await signedIn(user.login, current);
        const result = await session.request(ChangePasswordDocument, { input: { currentPassword: current, newPassword } });
        if (!result.errors) current = newPassword;
        return result.errors?.[0]?.extensions?.reason ?? "CHANGED";
      };
      const remembered = () => gateway.db.manager.countBy(PasswordHistoryRecord, { userId: user.id });

      expect(await change("the second long password")).toBe("CHANGED");
      expect(await change("the third long password")).toBe("CHANGED");
      expect(await remembered()).toBe(2);
      expect(await change("the first long password")).toBe("HISTORY:3");
      expect(await change("the second long password")).toBe("HISTORY:3");
      expect(await change("the third long password")).toBe("SAME_AS_CURRENT");
      expect(await change("the fourth long password")).toBe("CHANGED");
      expect(await remembered()).toBe(2);
      // Three passwords on, the first is forgotten and may come back.
      expect(await change("the first long password")).toBe("CHANGED");

      await setPasswordPolicy(gateway, { passwordHistoryCount: 0 });
      expect(await change("the fourth long password")).toBe("CHANGED");
      expect(await remembered()).toBe(0);
      expect((await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: "the fourth long password" } })).signIn.status).toBe("SUCCESS");
    } finally {
      await setPasswordPolicy(gateway, {});
    }
  });

  test("a new password the policy refuses, or the current one again, is PASSWORD_POLICY with its reason, and the old password still works", async () => {
    await setPasswordPolicy(gateway, { minLength: 16 });
    try {
      const user = await createUser(gateway, { password: PASSWORD });
      const session = await signedIn(user.login);
      const refused = (newPassword: string) => session.fails(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword } });

      expect(await refused("too short")).toMatchObject({ code: "PASSWORD_POLICY", extensions: expect.objectContaining({ reason: "MIN_LENGTH:16" }) });
      expect(await refused(PASSWORD)).toMatchObject({ code: "PASSWORD_POLICY", extensions: expect.objectContaining({ reason: "SAME_AS_CURRENT" }) });
      // Passwords are hashed in Unicode's NFKC form: a fullwidth "g" makes the same password.
      expect(await refused(PASSWORD.replace("g", "\uFF47"))).toMatchObject({
        code: "PASSWORD_POLICY",
        extensions: expect.objectContaining({ reason: "SAME_AS_CURRENT" }),
      });
      expect((await (await signedIn(user.login)).ok(MeDocument)).me?.id).toBe(user.id);
      expect(await eventsOf(user.id, "user.account.update_password")).toEqual([]);
      expect((await gateway.db.manager.findOneByOrFail(User, { id: user.id })).failedLogins).toBe(0);
    } finally {
      await setPasswordPolicy(gateway, {});
    }
  });

  test("two changes sent at once over the same current password: one wins, the other changes nothing", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(user.login);
    const candidates = ["first replacement password", "second replacement password"];
    const results = await Promise.all(
      candidates.map((newPassword) => session.request(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword } })),
    );
    const winners = candidates.filter((_, index) => results[index]!.data?.changePassword === true);
    expect(winners).toHaveLength(1);
    const loser = results.find((result) => result.errors)!;
    expect(["CONFLICT", "INVALID_CREDENTIALS"]).toContain(loser.errors?.[0]?.extensions?.code);
    expect((await (await signedIn(user.login, winners[0])).ok(MeDocument)).me?.id).toBe(user.id);
    expect(await signInFails(user.login, candidates.find((candidate) => candidate !== winners[0])!)).toBe("INVALID_CREDENTIALS");
  });

  test("only a signed-in user changes a password: an admin token is FORBIDDEN, no credential UNAUTHENTICATED", async () => {
    const input = { currentPassword: PASSWORD, newPassword: NEW_PASSWORD };
    expect((await gateway.admin.fails(ChangePasswordDocument, { input })).code).toBe("FORBIDDEN");
    expect((await gateway.anonymous.fails(ChangePasswordDocument, { input })).code).toBe("UNAUTHENTICATED");
  });
});
