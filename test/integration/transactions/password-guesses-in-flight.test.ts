/**
 * Password guesses sent together. Each reads the account, then spends a password hash; the wrong
 * ones lock it as they are counted. Those whose hash ends after the lockout must be answered as
 * the account now is, right or wrong: compared and answered apart, the right one would be told
 * from the rest, however many the lockout was meant to allow. Here the right guess's hash is
 * held until the wrong ones have locked the account.
 */
import { ChangePasswordDocument, SignInDocument } from "../../../src/generated/graphql";
import * as passwords from "../../../src/users/password";
import { User } from "../../../src/users/user.entity";
import { deferred } from "../../support/deferred";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";
import { PASSWORD, setPasswordPolicy, signedIn } from "../../support/transactions";

describe("password guesses in flight when the account locks", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await setPasswordPolicy(gateway, { maxFailedAttempts: 2 });
  });
  afterAll(() => gateway.stop());
  afterEach(() => jest.restoreAllMocks());

  /** Holds the comparison of `password` until released; others go through. */
  function holdComparisonOf(password: string) {
    const started = deferred<void>();
    const release = deferred<void>();
    const compare = passwords.verifyPassword;
    jest.spyOn(passwords, "verifyPassword").mockImplementation(async (given, stored) => {
      const matches = await compare(given, stored);
      if (given === password) {
        started.resolve();
        await release.promise;
      }
      return matches;
    });
    return { started: started.promise, release: () => release.resolve() };
  }

  const statusOf = async (id: string) => (await gateway.db.manager.findOneByOrFail(User, { id })).status;

  test("signIn: the right password, compared while wrong ones locked the account, is answered LOCKED_OUT as they would be now", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const held = holdComparisonOf(PASSWORD);
    const right = gateway.anonymous.request(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    await held.started;
    for (const guess of ["wrong one", "wrong two"]) {
      expect((await gateway.anonymous.fails(SignInDocument, { input: { login: user.login, password: guess } })).code).toBe(
        "INVALID_CREDENTIALS",
      );
    }
    expect(await statusOf(user.id)).toBe("LOCKED_OUT");
    held.release();
    const answer = await right;
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.signIn).toMatchObject({ status: "LOCKED_OUT", sessionToken: null });
  });

  test("changePassword: the right current password, compared while wrong ones locked the account, is refused as the ended session it is", async () => {
    const user = await createUser(gateway, { password: PASSWORD });
    const session = await signedIn(gateway, user.login);
    const held = holdComparisonOf(PASSWORD);
    const change = (currentPassword: string) =>
      session.request(ChangePasswordDocument, { input: { currentPassword, newPassword: "a new long enough password" } });
    const right = change(PASSWORD);
    await held.started;
    for (const guess of ["wrong one", "wrong two"]) expect((await change(guess)).errors?.[0]?.extensions?.code).toBe("INVALID_CREDENTIALS");
    expect(await statusOf(user.id)).toBe("LOCKED_OUT");
    held.release();
    expect((await right).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await statusOf(user.id)).toBe("LOCKED_OUT");
  });
});
