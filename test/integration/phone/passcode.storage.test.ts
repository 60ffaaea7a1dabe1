/**
 * Threat: a copy of the database. Whoever reads the tables must not find a live passcode:
 * codes are kept only as keyed hashes, and message bodies only sealed, until handed over.
 */
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, settleMessages } from "../../support/phone";

describe("passcodes at rest", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("no table of the gateway holds a passcode in clear", async () => {
    const { code } = await openChallenge(gateway, "+447400600008");
    await settleMessages(gateway);
    const tables = ["challenges", "messages", "message_attempts", "message_receipts", "log_events", "log_event_targets", "phone_factors"];
    for (const table of tables) {
      const rows = await gateway.db.dataSource.query(`SELECT * FROM ${table}`);
      expect({ table, leaks: JSON.stringify(rows).includes(code) }).toEqual({ table, leaks: false });
    }
    const sealed = await gateway.db.dataSource.query("SELECT body_ciphertext FROM messages");
    expect(sealed.every((row: { body_ciphertext: string | null }) => row.body_ciphertext === null)).toBe(true);
  });
});
