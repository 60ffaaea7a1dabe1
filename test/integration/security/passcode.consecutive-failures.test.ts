/**
 * Threat: a slow brute force across challenges. Each challenge caps its own attempts, so an
 * attacker asks for challenge after challenge; NIST 800-63B caps consecutive failures per user.
 */
import { ChallengePhoneFactorDocument, ReactivatePhoneFactorsDocument, UpdateSecuritySettingsDocument, UserFactorsDocument, VerifyChallengeDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, receivedCode, wrongCodeFor } from "../../support/phone";

describe("consecutive failed passcodes", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    await gateway.admin.ok(UpdateSecuritySettingsDocument, { input: { maxConsecutiveFailedPasscodes: 7 } });
  });
  afterAll(() => gateway.stop());

  test("past the cap across challenges the phone factors are suspended until an admin reactivates them", async () => {
    const { user, factor, challenge, code } = await openChallenge(gateway, "+447400930001");
    for (let i = 0; i < 5; i += 1) await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code: wrongCodeFor(code, i + 1) } });
    gateway.clock.advance(60_000);
    const { challengePhoneFactor: second } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const secondCode = await receivedCode(gateway, "+447400930001");
    await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: second.id, code: wrongCodeFor(secondCode, 1) } });
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors[0]?.status).toBe("ACTIVE");
    await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: second.id, code: wrongCodeFor(secondCode, 2) } });
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors[0]?.status).toBe("INACTIVE");
    gateway.clock.advance(60_000);
    expect((await gateway.admin.fails(ChallengePhoneFactorDocument, { input: { factorId: factor.id } })).code).toBe("CONFLICT");
    const { reactivatePhoneFactors } = await gateway.admin.ok(ReactivatePhoneFactorsDocument, { userId: user.id });
    expect(reactivatePhoneFactors.map((f) => f.status)).toEqual(["ACTIVE"]);
    const { challengePhoneFactor: third } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    const thirdCode = await receivedCode(gateway, "+447400930001");
    expect((await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: third.id, code: thirdCode } })).verifyChallenge.status).toBe("VERIFIED");
  });
});
