/**
 * Threat: user enumeration through recovery. An attacker asks to recover many logins and
 * reads the answers (shape, status, timing, whether a text went out) to learn which exist
 * and which have a phone.
 */
import { RecoverPasswordDocument } from "../../../src/generated/graphql";
import { Message } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, settleMessages } from "../../support/phone";
import { PASSWORD, setPasswordPolicy, userWithPhone } from "../../support/transactions";

describe("no user enumeration through recovery", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ RECOVERY_RESPONSE_FLOOR_MS: "800" });
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
  });
  afterAll(() => gateway.stop());

  const shape = (value: unknown): unknown =>
    value === null ? null : Array.isArray(value) ? value.map(shape) : typeof value === "object" ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shape(v)])) : typeof value;

  test("an unknown login, a user with no phone and a real one get the same shape and status, and only the real one gets a text", async () => {
    const { user: real } = await userWithPhone(gateway, "+447400900001");
    const noPhone = await createUser(gateway, { password: PASSWORD });
    await settleMessages(gateway);
    const sentBefore = await gateway.db.manager.count(Message);
    const answers = [];
    for (const login of [real.login, noPhone.login, "nobody-at-all@example.com"]) {
      answers.push(await gateway.anonymous.request(RecoverPasswordDocument, { input: { login, method: "SMS" } }));
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.errors)).toEqual([undefined, undefined, undefined]);
    const [first, ...rest] = answers.map((a) => shape(a.data));
    for (const other of rest) expect(other).toEqual(first);
    expect(answers.map((a) => a.data?.recoverPassword.status)).toEqual(["RECOVERY_CHALLENGE", "RECOVERY_CHALLENGE", "RECOVERY_CHALLENGE"]);
    await settleMessages(gateway);
    const sent = await gateway.db.manager.find(Message, { order: { created: "ASC" } });
    expect(sent.length - sentBefore).toBe(1);
    expect(sent.at(-1)?.toE164).toBe("+447400900001");
  });

  test("the answers take a similar time (median of repeated calls)", async () => {
    const { user: real } = await userWithPhone(gateway, "+447400900002");
    const median = async (login: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        gateway.clock.advance(60_000);
        const started = performance.now();
        await gateway.anonymous.request(RecoverPasswordDocument, { input: { login, method: "SMS" } });
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const realTime = await median(real.login);
    const unknownTime = await median("nobody-at-all@example.com");
    // Both are held to the response floor (set above the real path's cost even on a busy CI
    // machine); what is left is scheduling noise, not a signal per login.
    expect(realTime).toBeGreaterThanOrEqual(795);
    expect(unknownTime).toBeGreaterThanOrEqual(795);
    expect(Math.abs(realTime - unknownTime)).toBeLessThan(100);
  });
});
