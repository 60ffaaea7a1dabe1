/**
 * A sign-in sent to enroll a first phone, verified while the account's owner activates their own
 * on PostgreSQL. The sign-in counted the user's phones, found none, and wrote its own; the owner's
 * activation, committed between the two, went unseen, and the stale sign-in added its phone beside
 * the owner's. Here a connection of the test holds the sign-in's phone between its count and its
 * write, while the owner's activation runs.
 */
import { ActivatePhoneFactorDocument, EnrollFactorDocument, SignInDocument, VerifyFactorDocument } from "../../../src/generated/graphql";
import { PhoneFactor } from "../../../src/phone/phone-factor.entity";
import { describeOnPostgres, gatewayWithRival, someoneWaitsFor } from "../../support/pg-locks";
import { createUser, enroll, receivedCode } from "../../support/phone";
import { PASSWORD, requirePhone } from "../../support/transactions";

describeOnPostgres("a sign-in enrolling a first phone while the owner activates theirs", () => {
  const held = gatewayWithRival();

  test("the owner's activation waits for the sign-in's write: none commits between the sign-in's count and its write", async () => {
    const { gateway, rival } = held;
    await requirePhone(gateway, ["SMS"]);
    const user = await createUser(gateway, { password: PASSWORD });
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(signIn.status).toBe("MFA_ENROLL");
    await gateway.anonymous.ok(EnrollFactorDocument, { input: { stateHandle: signIn.stateHandle, phoneNumber: "+447400700061", method: "SMS" } });
    const signInCode = await receivedCode(gateway, "+447400700061");
    const signInPhone = await gateway.db.manager.findOneByOrFail(PhoneFactor, { userId: user.id, e164: "+447400700061" });
    const { factor: ownersPhone } = await enroll(gateway, user.id, "+447400700060", "SMS");
    const ownersCode = await receivedCode(gateway, "+447400700060");

    const finished: string[] = [];
    await rival.query("BEGIN");
    await rival.query("SET LOCAL lock_timeout = '5s'");
    await rival.query("SELECT id FROM phone_factors WHERE id = $1 FOR UPDATE", [signInPhone.id]);
    const stale = gateway.anonymous.request(VerifyFactorDocument, { input: { stateHandle: signIn.stateHandle, code: signInCode } }).finally(() => finished.push("sign-in"));
    await someoneWaitsFor(rival, "the sign-in's write");
    const owner = gateway.admin.request(ActivatePhoneFactorDocument, { input: { factorId: ownersPhone.id, code: ownersCode } }).finally(() => finished.push("owner"));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await rival.query("ROLLBACK");
    const [staleAnswer, ownerAnswer] = await Promise.all([stale, owner]);

    expect(ownerAnswer.errors).toBeUndefined();
    // The sign-in counted no phone: it may write its own, but only if the owner's commits after it.
    expect(staleAnswer.errors).toBeUndefined();
    expect(finished).toEqual(["sign-in", "owner"]);
  });
});
