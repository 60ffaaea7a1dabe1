/**
 * Threat: a slow brute force across challenges. Each challenge caps its own attempts, so an
 * attacker asks for challenge after challenge; NIST 800-63B caps consecutive failures per user.
 */
import {
  ChallengePhoneFactorDocument,
  DeletePhoneFactorDocument,
  ReactivatePhoneFactorsDocument,
  RecoverPasswordDocument,
  ResendChallengeDocument,
  UpdateSecuritySettingsDocument,
  UserFactorsDocument,
  VerifyChallengeDocument,
  VerifyFactorDocument,
} from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { Message } from "../../../src/telephony/message.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { openChallenge, receivedCode, settleMessages, wrongCodeFor } from "../../support/phone";
import { setPasswordPolicy } from "../../support/transactions";

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

  test("a code sent before the suspension no longer verifies, nor can it be sent again", async () => {
    const phone = "+447400930002";
    const { user, factor, challenge: kept, code: keptCode } = await openChallenge(gateway, phone);
    const failAll = async (count: number) => {
      gateway.clock.advance(60_000);
      const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
      const code = await receivedCode(gateway, phone);
      for (let i = 0; i < count; i += 1) await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code: wrongCodeFor(code, i + 1) } });
    };
    await failAll(5);
    await failAll(2);
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors[0]?.status).toBe("INACTIVE");

    const verified = await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: kept.id, code: keptCode } });
    expect(verified).toMatchObject({ code: "CODE_EXPIRED", extensions: expect.objectContaining({ reason: "FACTOR_NOT_ACTIVE" }) });
    expect(await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: kept.id } })).toMatchObject({
      code: "CODE_EXPIRED",
      extensions: expect.objectContaining({ reason: "FACTOR_NOT_ACTIVE" }),
    });
  });

  test("deleting a factor ends its expired challenges too: none can be brought back by a resend", async () => {
    const phone = "+447400930003";
    const { factor, challenge, code } = await openChallenge(gateway, phone);
    gateway.clock.advance(3_600_000);
    expect((await gateway.admin.fails(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } })).code).toBe("CODE_EXPIRED");
    await gateway.admin.ok(DeletePhoneFactorDocument, { id: factor.id });

    expect((await gateway.admin.fails(ResendChallengeDocument, { input: { challengeId: challenge.id } })).code).toBe("CODE_EXPIRED");
  });

  test("wrong codes in recoveries, which need only a login, never suspend the phone for sign-in; past the cap recovery by phone stops, until the phone is proven", async () => {
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
    const phone = "+447400930004";
    const { user, factor, challenge, code } = await openChallenge(gateway, phone);
    await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } });
    const sent = () => gateway.db.manager.countBy(Message, { userId: user.id });
    const recoverWithWrongCodes = async (wrong: number) => {
      gateway.clock.advance(60_000);
      const before = await sent();
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
      await settleMessages(gateway);
      for (let i = 0; i < wrong; i += 1) {
        await gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle: recoverPassword.stateHandle, code: wrongCodeFor("000000", i + 1) } });
      }
      return (await sent()) - before;
    };

    expect(await recoverWithWrongCodes(5)).toBe(1);
    expect(await recoverWithWrongCodes(2)).toBe(1);
    expect((await gateway.admin.ok(UserFactorsDocument, { id: user.id })).user?.factors[0]?.status).toBe("ACTIVE");
    // Seven wrong recovery codes: the eighth recovery answers as a decoy does, and sends nothing.
    expect(await recoverWithWrongCodes(0)).toBe(0);

    gateway.clock.advance(60_000);
    const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
    await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challengePhoneFactor.id, code: await receivedCode(gateway, phone) } });
    expect(await recoverWithWrongCodes(0)).toBe(1);
  });

  test("the cap holds for recoveries opened before it was reached: past it, no code is compared, the right one included", async () => {
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS"] });
    const phone = "+447400930005";
    const { user, challenge, code } = await openChallenge(gateway, phone);
    await gateway.admin.ok(VerifyChallengeDocument, { input: { challengeId: challenge.id, code } });
    const open = async () => {
      gateway.clock.advance(60_000);
      const { recoverPassword } = await gateway.anonymous.ok(RecoverPasswordDocument, { input: { login: user.login, method: "SMS" } });
      return { stateHandle: recoverPassword.stateHandle, code: await receivedCode(gateway, phone) };
    };
    const [first, second, kept] = [await open(), await open(), await open()];
    const guess = (stateHandle: string, guessed: string) => gateway.anonymous.fails(VerifyFactorDocument, { input: { stateHandle, code: guessed } });
    for (let i = 0; i < 5; i += 1) await guess(first.stateHandle, wrongCodeFor(first.code, i + 1));
    for (let i = 0; i < 2; i += 1) await guess(second.stateHandle, wrongCodeFor(second.code, i + 1));

    expect((await guess(kept.stateHandle, kept.code)).code).toBe("INVALID_CODE");
    const held = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "user.account.phone_recovery_held", actorId: user.id } });
    expect(held).toHaveLength(1);
    expect(held[0]?.debugContext).toMatchObject({ failedRecoveryPasscodes: 7, cap: 7 });
  });
});

