/**
 * Enrolling a waiting number again and verifying its old code at the same moment, on
 * PostgreSQL: the verification holds the code, then stamps its factor. Enrolling again took the
 * factor, then the code: each waited for the other until PostgreSQL broke the deadlock, and one
 * of them failed INTERNAL. Here a connection of the test plays the verification, holding the
 * code while the enrollment runs, then stamping the factor.
 */
import { EnrollPhoneFactorDocument } from "../../../src/generated/graphql";
import { describeOnPostgres, gatewayWithRival, someoneWaitsFor } from "../../support/pg-locks";
import { createUser, enroll, receivedCode } from "../../support/phone";

describeOnPostgres("enrolling a number again while its old code is being verified", () => {
  const held = gatewayWithRival();

  test("the verification stamps the factor without waiting, and the enrollment then goes on", async () => {
    const { gateway, rival: verification } = held;
    const user = await createUser(gateway);
    const number = "+447400111290";
    const { factor, challenge } = await enroll(gateway, user.id, number, "SMS");
    await receivedCode(gateway, number);
    gateway.clock.advance(30_000);

    await verification.query("BEGIN");
    await verification.query("SET LOCAL lock_timeout = '3s'");
    await verification.query("SELECT id FROM challenges WHERE id = $1 FOR UPDATE", [challenge.id]);
    const enrolling = gateway.admin.request(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: number, method: "SMS" } });
    await someoneWaitsFor(verification, "the enrollment");
    const stamped = await verification.query("UPDATE phone_factors SET last_verified = last_verified WHERE id = $1", [factor.id]).then(
      (result) => result.rowCount,
      (error: Error) => error.message,
    );
    await verification.query("ROLLBACK");
    expect(stamped).toBe(1);
    const enrolled = await enrolling;
    expect(enrolled.errors).toBeUndefined();
    expect(enrolled.data?.enrollPhoneFactor.factor.id).toBe(factor.id);
  });
});
