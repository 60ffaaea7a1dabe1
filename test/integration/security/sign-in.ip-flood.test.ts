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

describe("per-IP limit behind a proxy, for IPv6 clients", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ LIMIT_PUBLIC_REQUESTS_PER_IP_PER_MINUTE: "5", TRUST_PROXY: "true" });
  });
  afterAll(() => gateway.stop());

  const signInFrom = (address: string, i: number) =>
    gateway.anonymous.request(SignInDocument, { input: { login: `v6spray${i}@example.com`, password: "Winter2026!" } }, { "x-forwarded-for": address });

  test("one /64 is one client: rotating through its addresses does not get past the limit; another /64 has its own", async () => {
    const codes = [];
    for (let i = 0; i < 6; i += 1) codes.push((await signInFrom(`2001:db8:1:2::${(i + 1).toString(16)}`, i)).errors?.[0]?.extensions?.code);
    expect(codes).toEqual(["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "RATE_LIMITED"]);
    // The same /64 however it is written, and an IPv4 client as itself.
    expect((await signInFrom("2001:0db8:0001:0002:ffff:ffff:ffff:ffff", 6)).errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect((await signInFrom("2001:db8:1:3::1", 7)).errors?.[0]?.extensions?.code).toBe("INVALID_CREDENTIALS");
    expect((await signInFrom("203.0.113.9", 8)).errors?.[0]?.extensions?.code).toBe("INVALID_CREDENTIALS");
  });
});
