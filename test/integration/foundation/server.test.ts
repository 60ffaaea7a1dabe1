import { createHash } from "node:crypto";
import { createClient } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { UsersDocument } from "../../../src/generated/graphql";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { wsOnce } from "../../support/ws-once";

describe("the gateway server", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const base = () => gateway.url.replace(/\/graphql$/, "");

  test("healthz says the process is up and readyz that the database is migrated", async () => {
    const health = await fetch(`${base()}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${base()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ database: "ok", migrations: "applied" });
  });

  test("an admin token lists users over HTTP, with SSWS or Bearer", async () => {
    for (const authorization of [`SSWS ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}`]) {
      const result = await gateway.client(authorization).request(UsersDocument, {});
      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
      expect(result.data?.users.totalCount).toBe(0);
    }
  });

  test.each([
    ["no credential", undefined],
    ["an unknown token", "SSWS not-a-token-we-ever-issued-0000000"],
    ["a malformed header", "Basic dXNlcjpwYXNz"],
  ])("%s gets UNAUTHENTICATED with HTTP 401", async (_name, authorization) => {
    const result = await gateway.client(authorization).request(UsersDocument, {});
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.data?.users ?? null).toBeNull();
  });

  test("every response carries a request id, and a sane one the client sent is kept", async () => {
    const result = await gateway.admin.request(UsersDocument, {}, { "x-request-id": "trace-1234abcd" });
    expect(result.headers.get("x-request-id")).toBe("trace-1234abcd");
    const generated = await gateway.admin.request(UsersDocument, {}, { "x-request-id": "bad id with spaces" });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("malformed JSON is refused with 400 and BAD_USER_INPUT", async () => {
    const result = await gateway.admin.raw("{ this is not json");
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  test("an unknown field is refused with 400 and BAD_USER_INPUT", async () => {
    const result = await gateway.admin.raw(JSON.stringify({ query: "{ users { totalCount secretField } }" }));
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  test("a body over the size limit is refused with 413 and BAD_USER_INPUT", async () => {
    const result = await gateway.admin.raw(JSON.stringify({ query: `{ users { totalCount } } # ${"x".repeat(70_000)}` }));
    expect(result.status).toBe(413);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  test("HTTP array batching is off", async () => {
    const query = { query: "{ users { totalCount } }" };
    const result = await gateway.admin.raw(JSON.stringify([query, query]));
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  test("a browser opening /graphql gets a landing page that loads nothing from the network", async () => {
    const response = await fetch(gateway.url, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Ringfence GraphQL endpoint");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    expect(html).toContain('<a href="/playground">');
  });

  test("the landing page is sent with the other pages' headers: no framing, no sniffing, its one inline style allowed by hash", async () => {
    const response = await fetch(gateway.url, { headers: { accept: "text/html" } });
    const style = /<style>([^<]*)<\/style>/.exec(await response.text())?.[1] ?? "";
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`);
    expect(policy).toMatch(/default-src 'none'/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  test("a browser opening the gateway's bare address is sent to the playground", async () => {
    const response = await fetch(new URL("/", gateway.url), { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/playground");
  });

  test("graphql-ws with the admin token in connectionParams runs the users query", async () => {
    const client = createClient({
      url: gateway.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `SSWS ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query: print(UsersDocument) }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect(result).toMatchObject({ data: { users: { totalCount: 0 } } });
    } finally {
      await client.dispose();
    }
  });

  test("graphql-ws refuses a wrong token with close code 4403", async () => {
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: gateway.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: "SSWS wrong-token-0000000000000000" },
        retryAttempts: 0,
        lazy: false,
        on: { closed: (event) => resolve((event as { code: number }).code) },
        onNonLazyError: () => undefined,
      });
      void client;
    });
    expect(await closed).toBe(4403);
  });

  test("a graphql-ws message larger than MAX_BODY_BYTES closes the socket (1009) before it is parsed", async () => {
    const socket = new WebSocket(gateway.wsUrl, "graphql-transport-ws");
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(JSON.stringify({ type: "connection_init", payload: { padding: "x".repeat(gateway.config.maxBodyBytes) } }));
    expect(await closed).toBe(1009);
  });

  test("graphql-ws: a missing or mistyped variable is BAD_USER_INPUT, as over HTTP, not INTERNAL", async () => {
    const missing = await wsOnce(
      gateway,
      "subscription Watch($id: ID!) { deliveryStatus(challengeId: $id) { status } }",
      {},
      `SSWS ${ADMIN_TOKEN}`,
    );
    expect(missing.errors[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
    const mistyped = await wsOnce(
      gateway,
      "query Page($first: Int) { users(first: $first) { totalCount } }",
      { first: "many" },
      `SSWS ${ADMIN_TOKEN}`,
    );
    expect(mistyped.errors[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
  });

  test("a variable graphql-js cannot coerce names its field, as our own refusals do", async () => {
    const mutation = "mutation Create($input: PolicyInput!) { createPolicy(input: $input) { id } }";
    const cases: [unknown, string][] = [
      [{ name: "p", type: "AUTHENTICATION", rules: [{ name: "r", priority: "first" }] }, "input.rules[0].priority"],
      [{ name: "p", type: "AUTHENTICATION", rules: [{ priority: 1 }] }, "input.rules[0].name"],
      [{ name: "p", type: "AUTHENTICATION", colour: "red" }, "input.colour"],
      [{ name: 'at "input.name"; Field "x" of required type', type: "NOPE" }, "input.type"],
      [undefined, "input"],
    ];
    for (const [input, field] of cases) {
      const result = await gateway.admin.raw(JSON.stringify({ query: mutation, variables: { input } }));
      expect(result.status).toBe(400);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
  });

  test("an argument written in the document, not as a variable, is named by its path too; a document at fault names the query", async () => {
    const cases: [string, string][] = [
      ['mutation { createPolicy(input: { name: "p", type: AUTHENTICATION, rules: [{ name: "r", priority: "first" }] }) { id } }', "input.rules[0].priority"],
      ['mutation { createPolicy(input: { name: "p", type: AUTHENTICATION, rules: [{ name: "r" }, { priority: 1 }] }) { id } }', "input.rules[1].name"],
      ['mutation { createPolicy(input: { name: "p", type: AUTHENTICATION, colour: "red" }) { id } }', "input.colour"],
      ['mutation { createPolicy(input: { name: "p", type: NOPE }) { id } }', "input.type"],
      ['mutation { signIn(input: { login: "a" }) { status } }', "input.password"],
      ["mutation { signIn { status } }", "input"],
      ['{ users(first: "many") { totalCount } }', "first"],
      ["{ users { nothingHere } }", "query"],
      ["{ users(", "query"],
    ];
    for (const [query, field] of cases) {
      const result = await gateway.admin.raw(JSON.stringify({ query }));
      expect(result.status).toBe(400);
      expect({ query, extensions: result.errors?.[0]?.extensions }).toMatchObject({ query, extensions: { code: "BAD_USER_INPUT", field } });
    }
    for (const body of [JSON.stringify([{ query: "{ __typename }" }]), JSON.stringify({ variables: {} }), "{ not json"]) {
      const result = await gateway.admin.raw(body);
      expect(result.status).toBe(400);
      expect({ body, extensions: result.errors?.[0]?.extensions }).toMatchObject({ body, extensions: { code: "BAD_USER_INPUT", field: "body" } });
    }
  });

  test("graphql-ws without a credential gets UNAUTHENTICATED for an admin query", async () => {
    const client = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const error = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: print(UsersDocument) },
          { next: (value) => resolve((value as { errors?: unknown[] }).errors?.[0]), error: resolve, complete: () => undefined },
        );
      });
      expect(error).toMatchObject({ extensions: { code: "UNAUTHENTICATED" } });
    } finally {
      await client.dispose();
    }
  });
});

describe("the gateway in production mode", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ NODE_ENV: "production" });
  });
  afterAll(() => gateway.stop());

  test("an unexpected failure reaches the client as INTERNAL with a request id and nothing of the internals", async () => {
    await gateway.db.dataSource.query("DROP TABLE group_members");
    const result = await gateway.admin.raw(JSON.stringify({ query: "{ users { totalCount edges { node { id groups { id } } } } }" }));
    const created = await gateway.admin.raw(JSON.stringify({ query: 'mutation { createGroup(name: "ops") { id } }' }));
    expect(created.errors).toBeUndefined();
    await gateway.admin.raw(JSON.stringify({ query: 'mutation { createUser(input: { login: "someone@example.com" }) { id } }' }));
    const failed = await gateway.admin.raw(JSON.stringify({ query: "{ users { edges { node { id groups { id } } } } }" }));
    expect(result.errors).toBeUndefined();
    const error = failed.errors?.[0];
    expect(error?.extensions?.code).toBe("INTERNAL");
    expect(error?.extensions?.requestId).toBe(failed.headers.get("x-request-id"));
    const body = JSON.stringify(failed.errors);
    expect(body).not.toMatch(/group_members|SELECT|sqlite|postgres|stack|\.ts|node_modules/i);
  });

  test("introspection is off in production", async () => {
    const result = await gateway.admin.raw(JSON.stringify({ query: "{ __schema { queryType { name } } }" }));
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  test("introspection is off in production over graphql-ws too, for the public and for admins", async () => {
    for (const authorization of [undefined, `SSWS ${ADMIN_TOKEN}`]) {
      const { data, errors } = await wsOnce(gateway, "{ __schema { types { name } } }", {}, authorization);
      expect(data).toBeUndefined();
      expect(errors[0]).toMatchObject({
        message: expect.stringMatching(/introspection/i),
        extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }),
      });
    }
  });

  // Last: it takes the sessions table away.
  test("a credential check that cannot be made is INTERNAL with a request id (HTTP 500), and closes a socket with 4500, not 4403", async () => {
    await gateway.db.dataSource.query("DROP TABLE sessions");
    const session = gateway.client("Bearer rfs_a-session-token-the-gateway-cannot-look-up");
    const answer = await session.raw(JSON.stringify({ query: "{ me { id } }" }));
    expect(answer.status).toBe(500);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: "INTERNAL", requestId: answer.headers.get("x-request-id") });
    expect(JSON.stringify(answer.errors)).not.toMatch(/sessions|SELECT|sqlite|postgres|relation/i);

    const socket = new WebSocket(gateway.wsUrl, "graphql-transport-ws");
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(
      JSON.stringify({ type: "connection_init", payload: { authorization: "Bearer rfs_a-session-token-the-gateway-cannot-look-up" } }),
    );
    expect(await closed).toBe(4500);
  });
});
