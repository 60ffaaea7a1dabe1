import { CreateUserDocument, UpdateUserDocument, UserByIdDocument, UsersDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";

/** A user's locale picks the wording of every SMS and call: one that is not a language must not be stored, nor be dropped silently. */
describe("user locales", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const userCount = async () => (await gateway.admin.ok(UsersDocument, {})).users.totalCount;
  let created = 0;

  // und is well-formed, but stands for en-Latn-US (und-TW for zh-Hant-TW) when matched.
  test.each(["", " ", "und", "und-US", "UND-TW"])("createUser with the locale %j is BAD_USER_INPUT and writes nothing", async (locale) => {
    const before = await userCount();
    const error = await gateway.admin.fails(CreateUserDocument, { input: { login: "locale@example.com", locale } });
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.extensions?.field).toBe("input.locale");
    expect(await userCount()).toBe(before);
  });

  test.each(["", " ", "und"])("updateUser with the locale %j is BAD_USER_INPUT and changes nothing", async (locale) => {
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: `update-${++created}@example.com`, locale: "fr" } });
    const error = await gateway.admin.fails(UpdateUserDocument, { input: { id: createUser.id, firstName: "Changed", locale } });
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.extensions?.field).toBe("input.locale");
    expect((await gateway.admin.ok(UserByIdDocument, { id: createUser.id })).user).toMatchObject({ firstName: null, locale: "fr" });
  });

  test("a locale left out or null is the default on create and unchanged on update", async () => {
    const { createUser } = await gateway.admin.ok(CreateUserDocument, { input: { login: "no-locale@example.com", locale: null } });
    expect(createUser.locale).toBe("en");
    const { updateUser } = await gateway.admin.ok(UpdateUserDocument, { input: { id: createUser.id, firstName: "Kept", locale: null } });
    expect(updateUser).toMatchObject({ firstName: "Kept", locale: "en" });
  });
});
