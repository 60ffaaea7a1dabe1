import http from "node:http";
/**
 * Threat: oversized operations. A request that is cheap to send and dear to answer: a flood of
 * tokens for the parser and validator, one cheap field repeated under many aliases, a pile of
 * directives, nested pages whose sizes multiply (written inline or passed as variables), or
 * simply a body larger than the gateway reads.
 */
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../../support/gateway";
import { refusedLimits, wsOnce } from "../../support/ws-once";

const many = (count: number, make: (i: number) => string) => Array.from({ length: count }, (_, i) => make(i)).join(" ");

describe("oversized operations", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const query = (text: string, variables?: Record<string, unknown>) => gateway.admin.raw(JSON.stringify({ query: text, variables }));

  describe("a token flood", () => {
    // `{`, `}` and 666 aliased fields of 3 tokens each: exactly the limit of 2,000 tokens.
    const atLimit = `{ ${many(666, (i) => `a${i}: __typename`)} }`;
    const overLimit = `{ ${many(2_100, () => "a")} }`;

    test("is refused over HTTP with 400 and QUERY_TOO_COMPLEX tokens, before it is parsed", async () => {
      const result = await query(overLimit);
      expect(result.status).toBe(400);
      expect(result.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "tokens" } })]);
      expect((await query(atLimit)).status).toBe(200);
    });

    test("is refused in a GET request's query string", async () => {
      const response = await fetch(`${gateway.url}?query=${encodeURIComponent(overLimit)}`, {
        headers: { authorization: `SSWS ${ADMIN_TOKEN}`, "apollo-require-preflight": "true" },
      });
      expect(response.status).toBe(400);
      expect(refusedLimits(((await response.json()) as { errors: [] }).errors)).toEqual(["tokens"]);
    });

    test("is refused in a GET request's query string behind a thousand other parameters", async () => {
      // Express's query parser stops at 1,000 parameters; Apollo reads them all.
      const padding = "a=&".repeat(1_000);
      const response = await fetch(`${gateway.url}?${padding}query=${encodeURIComponent(overLimit)}`, {
        headers: { authorization: `SSWS ${ADMIN_TOKEN}`, "apollo-require-preflight": "true" },
      });
      expect(response.status).toBe(400);
      expect(refusedLimits(((await response.json()) as { errors: [] }).errors)).toEqual(["tokens"]);
    });

    test("is refused in a GET request's query string when a fragment names the query again", async () => {
      // fetch() never sends a fragment; a raw request does, and the gateway reads up to it, as Apollo does.
      const { port } = new URL(gateway.url);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.get(
          {
            host: "127.0.0.1",
            port,
            path: `/graphql?query=${encodeURIComponent(overLimit)}#&query=x`,
            headers: { authorization: `SSWS ${ADMIN_TOKEN}`, "apollo-require-preflight": "true" },
          },
          (response) => {
            let body = "";
            response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on("error", reject);
      });
      expect(answer.status).toBe(400);
      expect(refusedLimits((JSON.parse(answer.body) as { errors: [] }).errors)).toEqual(["tokens"]);
    });

    test("even when the flood is a syntax error further on", async () => {
      const result = await query(`${overLimit} }}} not graphql`);
      expect(result.status).toBe(400);
      expect(refusedLimits(result.errors)).toEqual(["tokens"]);
    });

    test("is refused over graphql-ws", async () => {
      const refused = await wsOnce(gateway, overLimit, {}, `SSWS ${ADMIN_TOKEN}`);
      expect(refusedLimits(refused.errors)).toEqual(["tokens"]);
    });
  });

  describe("an alias flood of a cheap field", () => {
    test("16 aliases are refused with QUERY_TOO_COMPLEX aliases; 15 are answered", async () => {
      const refused = await query(`{ ${many(16, (i) => `a${i}: phoneAuthenticator { status }`)} }`);
      expect(refused.status).toBe(400);
      expect(refused.data).toBeNull();
      expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "aliases" } })]);
      const answered = await query(`{ ${many(15, (i) => `a${i}: phoneAuthenticator { status }`)} }`);
      expect(answered.status).toBe(200);
      expect(Object.keys(answered.data as object)).toHaveLength(15);
    });

    test("aliases hidden in fragments are counted", async () => {
      const refused = await query(
        `{ ...A ...B } fragment A on Query { ${many(8, (i) => `a${i}: me { id }`)} } fragment B on Query { ${many(8, (i) => `b${i}: me { id }`)} }`,
      );
      expect(refusedLimits(refused.errors)).toEqual(["aliases"]);
    });

    test("is refused over graphql-ws", async () => {
      const refused = await wsOnce(gateway, `{ ${many(16, (i) => `a${i}: me { id }`)} }`, {}, `SSWS ${ADMIN_TOKEN}`);
      expect(refusedLimits(refused.errors)).toEqual(["aliases"]);
    });
  });

  describe("a directive flood", () => {
    test("21 directives are refused with QUERY_TOO_COMPLEX directives; 20 are answered", async () => {
      const refused = await query(`{ ${many(21, () => "__typename @include(if: true)")} }`);
      expect(refused.status).toBe(400);
      expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "directives" } })]);
      const answered = await query(`{ ${many(20, () => "__typename @include(if: true)")} }`);
      expect(answered.status).toBe(200);
      expect(answered.errors).toBeUndefined();
    });
  });

  describe("nested pages whose sizes multiply", () => {
    const fanOut = (size: string) =>
      `users(first: ${size}) { edges { node { groups { users(first: ${size}) { edges { node { id } } } } } } }`;

    test("written inline, they are refused with QUERY_TOO_COMPLEX cost", async () => {
      const refused = await query(`{ ${fanOut("200")} }`);
      expect(refused.status).toBe(400);
      expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: "QUERY_TOO_COMPLEX", limit: "cost" } })]);
      expect((await query(`{ ${fanOut("10")} }`)).status).toBe(200);
    });

    test("passed as variables, they are costed with the variables' values", async () => {
      const document = `query Fan($n: Int) { ${fanOut("$n")} }`;
      const refused = await query(document, { n: 200 });
      expect(refused.status).toBe(400);
      expect(refusedLimits(refused.errors)).toEqual(["cost"]);
      const answered = await query(document, { n: 10 });
      expect(answered.status).toBe(200);
      expect(answered.errors).toBeUndefined();
      // The verdict for a size is remembered per document; a different size is still costed.
      expect((await query(document, { n: 10 })).status).toBe(200);
      expect(refusedLimits((await query(document, { n: 200 })).errors)).toEqual(["cost"]);
      // A size that is not an integer is not costed by its value: its verdict must not stand for the integer.
      expect(refusedLimits((await query(document, { n: "100000" })).errors)).toEqual([]);
      expect(refusedLimits((await query(document, { n: 100000 })).errors)).toEqual(["cost"]);
      const defaulted = await query(`query Fan($n: Int = 200) { ${fanOut("$n")} }`);
      expect(refusedLimits(defaulted.errors)).toEqual(["cost"]);
    });

    test("over graphql-ws, with variables", async () => {
      const refused = await wsOnce(gateway, `query Fan($n: Int) { ${fanOut("$n")} }`, { n: 200 }, `SSWS ${ADMIN_TOKEN}`);
      expect(refusedLimits(refused.errors)).toEqual(["cost"]);
    });

    describe("with no size given", () => {
      // Two pages of 20 (the default) cost 20 × (4 + 20 × 3) = 1,280; counted as pages of 1 they cost 7.
      let strict: TestGateway;
      beforeAll(async () => {
        strict = await startTestGateway({ MAX_QUERY_COST: "1000" });
      });
      afterAll(() => strict.stop());
      const strictQuery = (text: string, variables?: Record<string, unknown>) => strict.admin.raw(JSON.stringify({ query: text, variables }));
      const defaultFanOut = `users { edges { node { groups { users { edges { node { id } } } } } } }`;

      test("they are costed at the default page size the resolvers give them", async () => {
        const omitted = await strictQuery(`{ ${defaultFanOut} }`);
        expect(omitted.status).toBe(400);
        expect(refusedLimits(omitted.errors)).toEqual(["cost"]);
        expect(refusedLimits((await strictQuery(`{ ${fanOut("null")} }`)).errors)).toEqual(["cost"]);
        expect(refusedLimits((await strictQuery(`query Fan($n: Int) { ${fanOut("$n")} }`)).errors)).toEqual(["cost"]);
        expect(refusedLimits((await strictQuery(`query Fan($n: Int = 5) { ${fanOut("$n")} }`, { n: null })).errors)).toEqual(["cost"]);
        const sized = await strictQuery(`{ ${fanOut("5")} }`);
        expect(sized.status).toBe(200);
        expect(sized.errors).toBeUndefined();
        expect((await strictQuery(`query Fan($n: Int = 5) { ${fanOut("$n")} }`)).status).toBe(200);
      });

      test("over graphql-ws too", async () => {
        const refused = await wsOnce(strict, `query Fan { ${defaultFanOut} }`, {}, `SSWS ${ADMIN_TOKEN}`);
        expect(refusedLimits(refused.errors)).toEqual(["cost"]);
      });
    });
  });

  test("a body over MAX_BODY_BYTES is refused with 413 and BAD_USER_INPUT", async () => {
    const result = await query(`{ __typename } # ${"x".repeat(gateway.config.maxBodyBytes)}`);
    expect(result.status).toBe(413);
    expect(result.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "body", reason: "entity.too.large" } })]);
  });
});
