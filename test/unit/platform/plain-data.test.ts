import { getMetadataStorage } from "type-graphql";
import { buildGatewaySchema } from "../../../src/platform/schema";

describe("PLAIN_DATA object types", () => {
  test("carry no field-level authorization or middleware, which their direct field reads would skip", async () => {
    await buildGatewaySchema();
    const storage = getMetadataStorage();
    const plain = storage.objectTypes.filter((type) => type.simpleResolvers);
    expect(plain.map((type) => type.name)).toEqual(expect.arrayContaining(["LogEvent", "LogConnection", "PageInfo", "PhoneAuthenticator", "Message"]));
    const guarded = plain.flatMap((type) =>
      (type.fields ?? [])
        .filter((field) => (field.roles?.length ?? 0) > 0 || (field.middlewares?.length ?? 0) > 0)
        .map((field) => `${type.name}.${field.name}`),
    );
    expect(guarded).toEqual([]);
  });
});
