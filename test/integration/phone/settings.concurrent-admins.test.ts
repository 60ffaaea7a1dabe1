/**
 * Two admins changing the same settings at the same moment: each change is applied, one after
 * the other, and logged as applied. On PostgreSQL both used to read the row as it was, so the
 * first change of a setting could be a duplicate key (INTERNAL) and a later one undo the other.
 */
import {
  BlockPhoneNumberDocument,
  CountryDocument,
  PhoneAuthenticatorDocument,
  SecuritySettingsDocument,
  UpdateCountryDocument,
  UpdatePhoneAuthenticatorDocument,
  UpdateSecuritySettingsDocument,
} from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";

/** Rounds of changes sent together: a race lost once in a while must still be lost here. */
const ROUNDS = 6;

describe("settings changed by two admins at once", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("a country's first and later overrides: both changes stay", async () => {
    for (const [round, code] of ["FR", "DE", "ES", "IT", "NL", "BE"].slice(0, ROUNDS).entries()) {
      const cost = 0.01 * (round + 1);
      const [texts, calls] = await Promise.all([
        gateway.admin.request(UpdateCountryDocument, { code, input: { smsEnabled: false } }),
        gateway.admin.request(UpdateCountryDocument, { code, input: { voiceCostPerMinute: cost } }),
      ]);
      expect([texts.errors, calls.errors]).toEqual([undefined, undefined]);
      const { country } = await gateway.admin.ok(CountryDocument, { code });
      expect(country).toMatchObject({ smsEnabled: false, voiceCostPerMinute: cost });
    }
  });

  test("the authenticator and the security settings: both changes stay", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const [ttl, attempts, perNumber, perCountry] = await Promise.all([
        gateway.admin.request(UpdatePhoneAuthenticatorDocument, { input: { codeTtlSeconds: 300 + round } }),
        gateway.admin.request(UpdatePhoneAuthenticatorDocument, { input: { maxAttempts: 3 + (round % 3) } }),
        gateway.admin.request(UpdateSecuritySettingsDocument, { input: { sendsPerNumberPer10m: 20 + round } }),
        gateway.admin.request(UpdateSecuritySettingsDocument, { input: { sendsPerCountryPerMinute: 500 + round } }),
      ]);
      expect([ttl.errors, attempts.errors, perNumber.errors, perCountry.errors]).toEqual([undefined, undefined, undefined, undefined]);
      const { phoneAuthenticator } = await gateway.admin.ok(PhoneAuthenticatorDocument);
      expect(phoneAuthenticator).toMatchObject({ codeTtlSeconds: 300 + round, maxAttempts: 3 + (round % 3) });
      const { securitySettings } = await gateway.admin.ok(SecuritySettingsDocument);
      expect(securitySettings).toMatchObject({ sendsPerNumberPer10m: 20 + round, sendsPerCountryPerMinute: 500 + round });
    }
  });

  test("the same number blocked twice at once: both answer true", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const number = `+4474009300${10 + round}`;
      const answers = await Promise.all([
        gateway.admin.request(BlockPhoneNumberDocument, { number, reason: "first" }),
        gateway.admin.request(BlockPhoneNumberDocument, { number, reason: "second" }),
      ]);
      expect(answers.map((answer) => answer.errors ?? answer.data?.blockPhoneNumber)).toEqual([true, true]);
    }
  });
});
