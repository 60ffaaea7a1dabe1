import {
  BlockPhoneNumberDocument,
  BlockedPhoneNumbersDocument,
  PhoneAuthenticatorDocument,
  UnblockPhoneNumberDocument,
  UpdatePhoneAuthenticatorDocument,
  ValidatePhoneNumberDocument,
} from "../../../src/generated/graphql";
import { BlockedNumber } from "../../../src/phone/phone-authenticator.entity";
import { startTestGateway, type TestGateway } from "../../support/gateway";

describe("validatePhoneNumber (public) and the phone authenticator settings", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  test.each([
    ["a UK mobile, international", "+44 7400 123456", null, { e164: "+447400123456", valid: true, type: "MOBILE", country: "GB", methods: ["SMS", "VOICE"], rejection: null }],
    ["a French mobile, national with defaultCountry", "06 12 34 56 78", "FR", { e164: "+33612345678", valid: true, country: "FR", methods: ["SMS", "VOICE"] }],
    ["a US number", "(201) 555-0123", "US", { e164: "+12015550123", type: "FIXED_LINE_OR_MOBILE", country: "US", rejection: null }],
    ["a UK landline", "+44 20 7123 4567", null, { type: "FIXED_LINE", methods: ["VOICE"], rejection: null }],
    ["US toll-free", "+1 800 555 0199", null, { type: "TOLL_FREE", methods: [], rejection: "TOLL_FREE" }],
    ["UK premium rate", "+44 901 123 4567", null, { type: "PREMIUM_RATE", methods: [], rejection: "PREMIUM_RATE" }],
    ["Australian toll-free", "+61 1800 123 456", null, { type: "TOLL_FREE", rejection: "TOLL_FREE" }],
    ["garbage", "call me maybe", null, { valid: false, e164: null, methods: [], rejection: "INVALID" }],
  ])("%s", async (_name, number, defaultCountry, expected) => {
    const { validatePhoneNumber } = await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number, defaultCountry });
    expect(validatePhoneNumber).toMatchObject({ input: number, ...expected });
  });

  test("the methods are those the authenticator allows too: under SMS alone, a landline has none", async () => {
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { methods: ["SMS"] } });
    try {
      const check = async (number: string) => (await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number })).validatePhoneNumber;
      expect(await check("+44 20 7123 4567")).toMatchObject({ methods: [], rejection: "NOT_REACHABLE_BY_METHOD" });
      expect(await check("+44 7400 123456")).toMatchObject({ methods: ["SMS"], rejection: null });
    } finally {
      await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { methods: ["SMS", "VOICE"] } });
    }
  });

  test("costs come from the country table", async () => {
    const { validatePhoneNumber } = await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number: "+447400123456" });
    expect(validatePhoneNumber.smsCostPerSegment).toBeGreaterThan(0);
    expect(validatePhoneNumber.voiceCostPerMinute).toBeGreaterThan(0);
  });

  test("a high-risk destination is disabled by default: UNSUPPORTED_COUNTRY", async () => {
    const { validatePhoneNumber } = await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number: "+67570123456" });
    expect(validatePhoneNumber).toMatchObject({ country: "PG", rejection: "UNSUPPORTED_COUNTRY", methods: [] });
  });

  test("a blocked number is BLOCKED until unblocked", async () => {
    expect(await gateway.admin.ok(BlockPhoneNumberDocument, { number: "+44 7400 777888", reason: "pumping" })).toEqual({ blockPhoneNumber: true });
    expect((await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number: "+447400777888" })).validatePhoneNumber.rejection).toBe("BLOCKED");
    expect(await gateway.admin.ok(UnblockPhoneNumberDocument, { number: "+447400777888" })).toEqual({ unblockPhoneNumber: true });
    expect(await gateway.admin.ok(UnblockPhoneNumberDocument, { number: "+447400777888" })).toEqual({ unblockPhoneNumber: false });
    expect((await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number: "+447400777888" })).validatePhoneNumber.rejection).toBeNull();
    expect((await gateway.admin.fails(BlockPhoneNumberDocument, { number: "hello" })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.anonymous.fails(BlockPhoneNumberDocument, { number: "+447400777888" })).code).toBe("UNAUTHENTICATED");
  });

  test("blockedPhoneNumbers pages through the blocks in force, newest first; a lapsed one is not listed", async () => {
    const numbers = ["+447400777801", "+447400777802", "+447400777803"];
    for (const number of numbers) {
      await gateway.admin.ok(BlockPhoneNumberDocument, { number, reason: `case ${number.slice(-1)}` });
      gateway.clock.advance(1_000);
    }
    // A block that has lapsed (a fraud rule's, say) keeps its row until it is replaced, but is not in force.
    await gateway.db.transaction(({ manager }) =>
      manager.insert(BlockedNumber, { e164: "+447400777899", reason: null, source: "SEQUENTIAL_NUMBERS", created: gateway.clock.now(), expiresAt: gateway.clock.now() }),
    );

    const first = (await gateway.admin.ok(BlockedPhoneNumbersDocument, { first: 2 })).blockedPhoneNumbers;
    expect(first.totalCount).toBe(3);
    expect(first.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({ phoneNumber: "+447400777803", reason: "case 3", source: "ADMIN", expiresAt: null }),
      expect.objectContaining({ phoneNumber: "+447400777802", reason: "case 2" }),
    ]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await gateway.admin.ok(BlockedPhoneNumbersDocument, { first: 2, after: first.pageInfo.endCursor })).blockedPhoneNumbers;
    expect(rest.edges.map((edge) => edge.node.phoneNumber)).toEqual(["+447400777801"]);
    expect(rest.pageInfo.hasNextPage).toBe(false);

    await gateway.admin.ok(UnblockPhoneNumberDocument, { number: "+447400777803" });
    expect((await gateway.admin.ok(BlockedPhoneNumbersDocument, {})).blockedPhoneNumbers.edges.map((edge) => edge.node.phoneNumber)).toEqual(["+447400777802", "+447400777801"]);
    for (const number of numbers) await gateway.admin.ok(UnblockPhoneNumberDocument, { number });
    expect((await gateway.admin.fails(BlockedPhoneNumbersDocument, { after: "not a cursor" })).code).toBe("BAD_USER_INPUT");
    expect((await gateway.anonymous.fails(BlockedPhoneNumbersDocument, {})).code).toBe("UNAUTHENTICATED");
  });

  test("a defaultCountry that is not a country code is BAD_USER_INPUT", async () => {
    expect((await gateway.anonymous.fails(ValidatePhoneNumberDocument, { number: "0612345678", defaultCountry: "France" })).code).toBe("BAD_USER_INPUT");
    // Shaped like a code but no country's: refused, not ignored into "give its country".
    for (const unknown of ["UK", "ZZ"]) {
      const refusal = await gateway.anonymous.fails(ValidatePhoneNumberDocument, { number: "07400 123456", defaultCountry: unknown });
      expect(refusal.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "defaultCountry" });
    }
    const { validatePhoneNumber } = await gateway.anonymous.ok(ValidatePhoneNumberDocument, { number: "07400 123456", defaultCountry: "gb" });
    expect(validatePhoneNumber).toMatchObject({ valid: true, e164: "+447400123456" });
  });

  test("the authenticator has Okta's defaults", async () => {
    const { phoneAuthenticator } = await gateway.admin.ok(PhoneAuthenticatorDocument);
    expect(phoneAuthenticator).toEqual({
      status: "ACTIVE",
      methods: ["SMS", "VOICE"],
      usage: "MFA_AND_RECOVERY",
      codeLength: 6,
      codeTtlSeconds: 300,
      maxAttempts: 5,
      resendCooldownSeconds: 30,
      maxResends: 3,
      allowVoip: false,
    });
  });

  test("an update changes only what it names", async () => {
    const { updatePhoneAuthenticator } = await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 8, maxResends: 2 } });
    expect(updatePhoneAuthenticator).toMatchObject({ codeLength: 8, maxResends: 2, codeTtlSeconds: 300, methods: ["SMS", "VOICE"] });
    await gateway.admin.ok(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 6, maxResends: 3 } });
  });

  test.each([
    ["codeLength", { codeLength: 5 }],
    ["codeLength", { codeLength: 11 }],
    ["codeTtlSeconds", { codeTtlSeconds: 601 }],
    ["maxAttempts", { maxAttempts: 0 }],
    ["resendCooldownSeconds", { resendCooldownSeconds: -1 }],
    ["resendCooldownSeconds", { resendCooldownSeconds: 301 }],
    ["resendCooldownSeconds", { codeTtlSeconds: 60, resendCooldownSeconds: 90 }],
    ["codeTtlSeconds", { codeTtlSeconds: 29 }],
    ["maxResends", { maxResends: 11 }],
    ["methods", { methods: [] }],
  ])("%s out of range is BAD_USER_INPUT and changes nothing", async (field, input) => {
    const error = await gateway.admin.fails(UpdatePhoneAuthenticatorDocument, { input });
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(String(error.extensions?.field)).toContain(field);
    expect((await gateway.admin.ok(PhoneAuthenticatorDocument)).phoneAuthenticator.codeLength).toBe(6);
  });

  test("only admins change the authenticator", async () => {
    expect((await gateway.anonymous.fails(UpdatePhoneAuthenticatorDocument, { input: { codeLength: 8 } })).code).toBe("UNAUTHENTICATED");
  });
});
