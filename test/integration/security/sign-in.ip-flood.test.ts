/**
 * Threat: password spraying and recovery floods from one address. The public mutations
 * (signIn, recoverPassword, unlockAccount, enrollFactor) are rate limited per client IP.
 */
import { SignInDocument } from "../../../src/generated/graphql";
import { startTestGateway, type TestGateway } from "../../support/gateway";

describe("per-IP limit on public mutations", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ LIMIT_PUBLIC_REQUESTS_PER_IP_PER_MINUTE: "5" });
  });
  afterAll(() => gateway.stop());

  test("the sixth sign-in from one address in a minute is refused whole with 429 and Retry-After", async () => {
    const codes = [];
    for (let i = 0; i < 6; i += 1) {
      const result = await gateway.anonymous.request(SignInDocument, { input: { login: `spray${i}@example.com`, password: "Winter2026!" } });
      codes.push(result.errors?.[0]?.extensions?.code);
      if (i === 5) {
        expect(result.status).toBe(429);
        expect(result.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(result.errors?.[0]?.extensions?.limit).toBe("ip");
      }
    }
    expect(codes).toEqual(["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "RATE_LIMITED"]);
  });
});
