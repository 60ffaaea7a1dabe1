/**
 * Threat: replay and transplant. A code that was used once is sent again, or a code that
 * was sent for one challenge is tried on another of the same user.
 */
import { ChallengePhoneFactorDocument, VerifyChallengeDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, receivedCode } from "../../support/phone";

describe("replay and transplant", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("a used code is refused the second time", async () => {
    const { challenge, code } = await openChallenge(gateway, "+447400600006");
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } })).verifyChallenge.status).toBe("VERIFIED");
    const replay = await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } });
    expect(replay.code).toBe("CODE_EXPIRED");
    expect(replay.extensions?.reason).toBe("ALREADY_USED");
  });

  test("a code is bound to its challenge: another challenge's code is INVALID_CODE", async () => {
    const { factor, challenge: first, code: firstCode } = await openChallenge(gateway, "+447400600007");
    gateway.clock.advance(1000);
    const { challengePhoneFactor: second } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const secondCode = await receivedCode(gateway, "+447400600007");
    if (firstCode !== secondCode) {
      expect((await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: second.id, code: firstCode } })).code).toBe("INVALID_CODE");
    }
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: second.id, code: secondCode } })).verifyChallenge.status).toBe("VERIFIED");
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: first.id, code: firstCode } })).verifyChallenge.status).toBe("VERIFIED");
  });
});
