/**
 * Threat: a client naming its own address. The address keys the per-IP limits, decides which
 * network zone's sign-on rule applies, and is what the System Log records. Behind a load balancer
 * (TRUST_PROXY) only the hops the operator trusts may say where a request came from, over HTTP
 * and over WebSocket alike; a client's own X-Forwarded-For entries count for nothing.
 */
import { createClient } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { SignInDocument } from "../../../src/generated/graphql";
import { LogEventRecord } from "../../../src/log/log-event.entity";
import { ConfigError, loadConfig } from "../../../src/platform/config";
import { startTestGateway, type TestGateway } from "../../support/gateway";

/** What the load balancer forwards when the client itself sent X-Forwarded-For: 6.6.6.6. */
const FORWARDED = { "x-forwarded-for": "6.6.6.6, 203.0.113.7" };

describe("the client's address behind a load balancer (TRUST_PROXY=true: one hop)", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ TRUST_PROXY: "true" });
  });
  afterAll(() => gateway.stop());

  const addressLoggedFor = async (login: string) => {
    const [event] = await gateway.db.manager.find(LogEventRecord, { where: { eventType: "user.session.start", actorAlternateId: login } });
    return event?.clientIp;
  };

  test("over HTTP it is the address the load balancer saw, not one the client wrote", async () => {
    await gateway.anonymous.request(SignInDocument, { input: { login: "over-http@example.com", password: "not the password" } }, FORWARDED);
    expect(await addressLoggedFor("over-http@example.com")).toBe("203.0.113.7");
  });

  test("over WebSocket it is the same, where it was the load balancer's own address", async () => {
    class ForwardedSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: FORWARDED });
      }
    }
    const client = createClient({ url: gateway.wsUrl, webSocketImpl: ForwardedSocket, retryAttempts: 0 });
    try {
      await new Promise((resolve) => {
        client.subscribe(
          { query: print(SignInDocument), variables: { input: { login: "over-ws@example.com", password: "not the password" } } },
          { next: resolve, error: resolve, complete: () => resolve(null) },
        );
      });
    } finally {
      await client.dispose();
    }
    expect(await addressLoggedFor("over-ws@example.com")).toBe("203.0.113.7");
  });
});

describe("TRUST_PROXY's values", () => {
  test("true is one hop; a count, or the proxies' addresses and ranges; anything else stops the start", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 192.168.1.10, loopback" }).trustProxy).toEqual([
      "10.0.0.0/8",
      "192.168.1.10",
      "loopback",
    ]);
    for (const bad of ["maybe", "11", "10.0.0.0/99", "0.5"]) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(ConfigError);
  });
});
