/**
 * Admins switch countries' methods on and off and set their estimated costs; every send from
 * then on follows: enrollment, validation and the costs messages carry.
 */
import {
  CountriesDocument,
  CountryDocument,
  EnrollPhoneFactorDocument,
  SignInDocument,
  UpdateCountryDocument,
  ValidatePhoneNumberDocument,
} from "../../../src/generated/graphql";
import { allCountries } from "../../../src/phone/country-table";
import { CountryOverrideRecord } from "../../../src/phone/phone-authenticator.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";
import { createUser } from "../../support/phone";
import { PASSWORD } from "../../support/transactions";

describe("countries", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test("every country of the table is listed by code with its shipped settings; high-risk ones start switched off", async () => {
    const { countries } = await gateway.admin.ok(CountriesDocument, {});
    expect(countries.map((country) => country.code)).toEqual(allCountries().map((entry) => entry.code));
    expect(countries.find((country) => country.code === "GB")).toMatchObject({
      name: "United Kingdom",
      callingCode: "44",
      smsEnabled: true,
      voiceEnabled: true,
      highRisk: false,
      overridden: false,
    });
    const highRisk = countries.filter((country) => country.highRisk);
    expect(highRisk.length).toBeGreaterThan(0);
    expect(highRisk.every((country) => !country.smsEnabled && !country.voiceEnabled)).toBe(true);

    const off = (await gateway.admin.ok(CountriesDocument, { enabled: false })).countries.map((country) => country.code);
    const on = (await gateway.admin.ok(CountriesDocument, { enabled: true })).countries.map((country) => country.code);
    expect(off).toEqual(expect.arrayContaining(highRisk.map((country) => country.code)));
    expect(on).toContain("GB");
    expect([...on, ...off].sort()).toEqual(countries.map((country) => country.code).sort());
  });

  test("SMS switched off for a country refuses enrollment by SMS there at once, leaves voice, and comes back with null", async () => {
    const { updateCountry } = await gateway.admin.ok(UpdateCountryDocument, { code: "fr", input: { smsEnabled: false } });
    expect(updateCountry).toMatchObject({ code: "FR", smsEnabled: false, voiceEnabled: true, overridden: true });
    const user = await createUser(gateway);
    const refused = await gateway.admin.fails(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+33612345678", method: "SMS" } });
    expect(refused.code).toBe("INVALID_PHONE_NUMBER");
    expect(refused.extensions?.rejection).toBe("UNSUPPORTED_COUNTRY");
    expect((await gateway.admin.ok(ValidatePhoneNumberDocument, { number: "+33612345678" })).validatePhoneNumber.methods).toEqual(["VOICE"]);

    const restored = (await gateway.admin.ok(UpdateCountryDocument, { code: "FR", input: { smsEnabled: null } })).updateCountry;
    expect(restored).toMatchObject({ smsEnabled: true, overridden: false });
    expect(await gateway.db.manager.countBy(CountryOverrideRecord, { code: "FR" })).toBe(0);
    const { enrollPhoneFactor } = await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+33612345678", method: "SMS" } });
    expect(enrollPhoneFactor.challenge.messages[0]?.country).toBe("FR");
  });

  test("a high-risk country may be opened, and the cost set for it is what its messages are estimated at", async () => {
    const highRisk = allCountries().find((entry) => entry.code === "CF")!;
    expect(highRisk.highRisk).toBe(true);
    const { updateCountry } = await gateway.admin.ok(UpdateCountryDocument, { code: "CF", input: { smsEnabled: true, smsCostPerSegment: 0.4321 } });
    expect(updateCountry).toMatchObject({ smsEnabled: true, voiceEnabled: false, smsCostPerSegment: 0.4321, voiceCostPerMinute: highRisk.voiceCostPerMinute });
    // Fields left out keep what was set: only the voice cost changes.
    const again = (await gateway.admin.ok(UpdateCountryDocument, { code: "CF", input: { voiceCostPerMinute: 1.5 } })).updateCountry;
    expect(again).toMatchObject({ smsEnabled: true, smsCostPerSegment: 0.4321, voiceCostPerMinute: 1.5 });
    expect((await gateway.admin.ok(CountryDocument, { code: "CF" })).country).toEqual(again);

    const user = await createUser(gateway);
    const { enrollPhoneFactor } = await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId: user.id, phoneNumber: "+23670012345", method: "SMS" } });
    const [message] = enrollPhoneFactor.challenge.messages;
    expect(message).toMatchObject({ country: "CF", international: true, estimatedCost: 0.4321 * message!.segments });
  });

  test("unknown codes, methods a country is not offered and impossible costs are refused, and nothing is written", async () => {
    const refusal = async (code: string, input: Record<string, unknown>) => {
      const error = await gateway.admin.fails(UpdateCountryDocument, { code, input });
      return [error.code, error.extensions?.field];
    };
    expect(await refusal("XX", { smsEnabled: false })).toEqual(["BAD_USER_INPUT", "code"]);
    expect(await refusal("GBR", { smsEnabled: false })).toEqual(["BAD_USER_INPUT", "code"]);
    const notOffered = allCountries().find((entry) => !entry.smsOffered)!;
    expect(await refusal(notOffered.code, { smsEnabled: true })).toEqual(["BAD_USER_INPUT", "input.smsEnabled"]);
    expect(await refusal("DE", { smsEnabled: false, smsCostPerSegment: -0.01 })).toEqual(["BAD_USER_INPUT", "input.smsCostPerSegment"]);
    expect(await refusal("DE", { voiceCostPerMinute: 100.01 })).toEqual(["BAD_USER_INPUT", "input.voiceCostPerMinute"]);
    expect((await gateway.admin.fails(CountryDocument, { code: "ZZ" })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.admin.ok(CountryDocument, { code: "DE" })).country).toMatchObject({ smsEnabled: true, overridden: false });
    expect(await gateway.db.manager.countBy(CountryOverrideRecord, { code: notOffered.code })).toBe(0);
  });

  test("only admins see or change countries", async () => {
    expect((await gateway.anonymous.fails(CountriesDocument, {})).code).toBe("UNAUTHENTICATED");
    const user = await createUser(gateway);
    // The default policies let a password alone sign in.
    const { signIn } = await gateway.anonymous.ok(SignInDocument, { input: { login: user.login, password: PASSWORD } });
    expect(signIn.status).toBe("SUCCESS");
    const session = gateway.client(`Bearer ${signIn.sessionToken}`);
    expect((await session.fails(CountriesDocument, {})).code).toBe("FORBIDDEN");
    expect((await session.fails(UpdateCountryDocument, { code: "GB", input: { smsEnabled: false } })).code).toBe("FORBIDDEN");
    expect((await gateway.admin.ok(CountryDocument, { code: "GB" })).country.smsEnabled).toBe(true);
  });
});
