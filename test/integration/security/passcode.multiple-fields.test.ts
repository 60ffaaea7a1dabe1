/**
 * Threat: several passcode checks in one operation. Two verifyChallenge fields under aliases,
 * verifyChallenge beside activatePhoneFactor or verifyFactor, or the fields hidden in fragments:
 * one request then spends several attempts, or races them against each other inside one
 * execution. The operation is refused whole before it runs, and spends no attempt.
 */
import { ChallengeByIdDocument, VerifyChallengeDocument } from "../../../src/generated/graphql";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser, enroll, openChallenge, wrongCodeFor } from "../../support/phone";
import { refusedLimits, wsOnce } from "../../support/ws-once";

describe("several passcode checks in one operation", () => {
  let gateway: TestGateway;
  let number = 0;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const nextNumber = () => `+4474006002${String((number += 1)).padStart(2, "0")}`;

  async function attemptsUsed(challengeId: string): Promise<number> {
    const rows = await gateway.db.dataSource.query(`SELECT attempts_used FROM challenges WHERE id = ${gateway.config.engine === "postgres" ? "$1" : "?"}`, [challengeId]);
    return Number(rows[0].attempts_used);
  }

  /** The operation is refused with 400 and QUERY_TOO_COMPLEX passcodeFields, and nothing ran. */
  async function expectRefused(query: string) {
    const result = await gateway.admin.raw(JSON.stringify({ query }));
    expect(result.status).toBe(400);
    expect(result.data).toBeNull();
    expect(refusedLimits(result.errors)).toEqual(["passcodeFields"]);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", limit: "passcodeFields" });
  }

  /** The right code still verifies with every attempt left: the refusals spent none. */
  async function expectUntouched(challengeId: string, code: string) {
    expect(await attemptsUsed(challengeId)).toBe(0);
    const { verifyChallenge } = await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId, code } });
    expect(verifyChallenge.status).toBe("VERIFIED");
  }

  const verify = (challengeId: string, code: string, alias = "") => `${alias ? `${alias}: ` : ""}verifyChallenge(input: { challengeId: "${challengeId}", code: "${code}" }) { id status }`;

  test("two aliased verifyChallenge fields", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    await expectRefused(`mutation { a: ${verify(challenge.id, wrongCodeFor(code, 1))} b: ${verify(challenge.id, wrongCodeFor(code, 2))} }`);
    await expectUntouched(challenge.id, code);
  });

  test("the same field twice, even unaliased with the same arguments", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    await expectRefused(`mutation { ${verify(challenge.id, wrongCodeFor(code))} ${verify(challenge.id, wrongCodeFor(code))} }`);
    await expectUntouched(challenge.id, code);
  });

  test("verifyChallenge beside activatePhoneFactor", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    const pending = await enroll(gateway, (await createUser(gateway)).id, nextNumber());
    await expectRefused(
      `mutation { ${verify(challenge.id, wrongCodeFor(code))} activatePhoneFactor(input: { factorId: "${pending.factor.id}", code: "000000" }) { id status } }`,
    );
    expect(await attemptsUsed(pending.challenge.id)).toBe(0);
    await expectUntouched(challenge.id, code);
  });

  test("verifyChallenge beside verifyFactor", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    await expectRefused(`mutation { ${verify(challenge.id, wrongCodeFor(code))} verifyFactor(input: { stateHandle: "st_unknown", code: "000000" }) { status } }`);
    await expectUntouched(challenge.id, code);
  });

  test("fields hidden in named, nested and inline fragments, or one fragment spread twice", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    const wrong = wrongCodeFor(code);
    await expectRefused(`mutation { ...A ...B } fragment A on Mutation { a: ${verify(challenge.id, wrong)} } fragment B on Mutation { b: ${verify(challenge.id, wrong)} }`);
    await expectRefused(`mutation { a: ${verify(challenge.id, wrong)} ...Outer } fragment Outer on Mutation { ...Inner } fragment Inner on Mutation { b: ${verify(challenge.id, wrong)} }`);
    await expectRefused(`mutation { ... on Mutation { a: ${verify(challenge.id, wrong)} } ... { b: ${verify(challenge.id, wrong)} } }`);
    await expectRefused(`mutation { ...A ...A } fragment A on Mutation { ${verify(challenge.id, wrong)} }`);
    await expectUntouched(challenge.id, code);
  });

  test("each operation of a document is counted on its own: the one run may hold one passcode field", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    const document = `mutation One { ${verify(challenge.id, code)} } mutation Two { ${verify(challenge.id, wrongCodeFor(code))} }`;
    const result = await gateway.admin.raw<{ verifyChallenge: { status: string } }>(JSON.stringify({ query: document, operationName: "One" }));
    expect(result.errors).toBeUndefined();
    expect(result.data?.verifyChallenge.status).toBe("VERIFIED");
  });

  test("over graphql-ws the same operation is refused and spends nothing", async () => {
    const { challenge, code } = await openChallenge(gateway, nextNumber());
    const refused = await wsOnce(
      gateway,
      `mutation { a: ${verify(challenge.id, wrongCodeFor(code, 1))} b: ${verify(challenge.id, wrongCodeFor(code, 2))} }`,
      {},
      `SSWS ${ADMIN_TOKEN}`,
    );
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "passcodeFields" } })]);
    const { challenge: after } = await gateway.admin.ok(ChallengeByIdDocument, { id: challenge.id });
    expect(after?.attemptsRemaining).toBe(5);
    await expectUntouched(challenge.id, code);
  });
});
