/**
 * Deleting a deactivated user while one of its codes is being verified, on PostgreSQL: the
 * verification holds the code, then writes the user (its failed-passcode counts). Deleting took
 * the user, then the codes: each waited for the other until PostgreSQL broke the deadlock, and one
 * of them failed INTERNAL. Here a connection of the test plays the verification, holding the
 * code while the deletion runs, then writing the user.
 */
import { DeactivateUserDocument, DeleteUserDocument } from "../../../src/generated/graphql";
import { describeOnPostgres, gatewayWithRival, someoneWaitsFor } from "../../support/pg-locks";
import { createUser, enroll } from "../../support/phone";

describeOnPostgres("deleting a user while its code is being verified", () => {
  const held = gatewayWithRival();

  test("the verification writes the user without waiting, and the deletion then goes on", async () => {
    const { gateway, rival: verification } = held;
    const user = await createUser(gateway);
    const { challenge } = await enroll(gateway, user.id, "+447400111291", "SMS");
    await gateway.admin.ok(DeactivateUserDocument, { id: user.id });

    await verification.query("BEGIN");
    await verification.query("SET LOCAL lock_timeout = '3s'");
    await verification.query("SELECT id FROM challenges WHERE id = $1 FOR UPDATE", [challenge.id]);
    const deleting = gateway.admin.request(DeleteUserDocument, { id: user.id });
    await someoneWaitsFor(verification, "the deletion");
    const written = await verification.query("UPDATE users SET failed_passcodes = 0 WHERE id = $1", [user.id]).then(
      (result) => result.rowCount,
      (error: Error) => error.message,
    );
    await verification.query("ROLLBACK");
    expect(written).toBe(1);
    const deleted = await deleting;
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data?.deleteUser).toBe(true);
  });
});
