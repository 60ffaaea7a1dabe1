/**
 * Fuzzing the GraphQL surface. Thousands of operations built from schema/schema.graphql (every
 * root field, arguments of the right type and of wrong ones, huge and odd strings, extreme
 * numbers, missing required arguments, selections within and past the depth limit, alias
 * floods) and bodies that are not GraphQL requests at all, sent over HTTP as the admin and as
 * nobody. Whatever comes in, the gateway answers in the contract: never a 5xx, always JSON,
 * every error with a code of errors.md, and never INTERNAL, which would be a bug to fix.
 *
 * Deterministic: FUZZ_SEED (default below) fixes the sequence of generated requests; FUZZ_RUNS
 * scales its length. Each property also has a time budget, so a loaded machine runs a shorter
 * prefix of the same sequence rather than a longer test. FUZZ_REPORT_ALL=1 lists every failing
 * request instead of stopping at the first, with a tally of the answers.
 */
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { buildSchema, type GraphQLFormattedError } from "graphql";
import { ErrorCode } from "../../src/platform/errors";
import { withTimeout } from "../support/deferred";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../support/gateway";
import { openChallenge } from "../support/phone";
import { wsClient } from "../support/subscriptions";
import { PASSWORD } from "../support/transactions";
import { garbageRequests, operationRequests, type FuzzRequest, type KnownValues } from "./operation-arbitraries";

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_124);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Requests sent at once in each property run, so thousands fit the time budget. */
const BATCH = 8;
const REPORT_ALL = process.env.FUZZ_REPORT_ALL === "1";

const ROOT = path.resolve(__dirname, "../..");
const schema = buildSchema(fs.readFileSync(path.join(ROOT, "schema/schema.graphql"), "utf8"));

/** The codes of errors.md's first table; the contract's copy when it is checked out beside us. */
function contractCodes(): ReadonlySet<string> {
  const errorsMd = path.resolve(ROOT, "../shared/contract/errors.md");
  if (!fs.existsSync(errorsMd)) return new Set(Object.values(ErrorCode));
  const table = fs.readFileSync(errorsMd, "utf8").split(/^## /m)[0]!;
  return new Set([...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]!));
}
const CONTRACT_CODES = contractCodes();

interface Answer {
  /** 0 when no HTTP answer came at all. */
  status: number;
  text: string;
}

/**
 * A pooled keep-alive socket that the server closed (after answering a request it refused
 * whole, say) can fail the next request sent on it before the server sees it: a client-side
 * race, retried once on a new connection. A server that stops answering fails the retry too.
 */
async function send(gateway: TestGateway, request: FuzzRequest): Promise<Answer> {
  const first = await sendOnce(gateway, request);
  return first.status === 0 && first.text.includes("UND_ERR_SOCKET") ? sendOnce(gateway, request) : first;
}

async function sendOnce(gateway: TestGateway, request: FuzzRequest): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (request.contentType) headers["content-type"] = request.contentType;
  if (request.asAdmin) headers.authorization = `SSWS ${ADMIN_TOKEN}`;
  const url = request.method === "GET" ? `${gateway.url}${request.search ?? ""}` : gateway.url;
  // Bytes rather than a string, so fetch adds no content type of its own.
  const body = request.method === "GET" ? undefined : new TextEncoder().encode(request.body);
  try {
    const response = await fetch(url, { method: request.method, headers, body });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { status: 0, text: `${String(error)} (${cause?.code ?? cause?.message ?? "no cause"})` };
  }
}

/** How often each outcome came back (HTTP status and error code), printed with FUZZ_REPORT_ALL. */
const outcomes = new Map<string, number>();

/** What is wrong with an answer, by the contract; empty when nothing is. */
function problemsWith({ status, text }: Answer): string[] {
  if (status === 0) return [`no answer: ${text}`];
  const problems: string[] = [];
  if (status >= 500) problems.push(`HTTP ${status}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [...problems, `not JSON: ${text.slice(0, 200)}`];
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return [...problems, "not a JSON object"];
  const { errors } = json as { errors?: unknown };
  if (errors === undefined) {
    outcomes.set(`${status} data`, (outcomes.get(`${status} data`) ?? 0) + 1);
    if (!("data" in json)) problems.push("neither data nor errors");
    return problems;
  }
  if (!Array.isArray(errors) || errors.length === 0) return [...problems, "errors is not a non-empty list"];
  for (const error of errors as Array<{ extensions?: { code?: unknown } } | null>) {
    const code = error?.extensions?.code;
    const outcome = `${status} ${String(code)}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (code === ErrorCode.INTERNAL) problems.push("INTERNAL");
    else if (typeof code !== "string" || !CONTRACT_CODES.has(code)) problems.push(`code ${String(code)} is not in errors.md`);
  }
  return problems;
}

/** Bugs this fuzzer found are fixed, and each keeps a reproduction under "known bugs" below. */
// Requests the fuzzer found answered outside the contract, once fixed, stay below as tests of
// their own; nothing is excused here any more.
const KNOWN_BUGS: ReadonlyArray<{ bug: string; explains(request: FuzzRequest): boolean }> = [];
const knownBugsSeen = new Map<string, number>();

const describeRequest = (request: FuzzRequest, answer: Answer, problems: string[]) =>
  [
    `${problems.join(", ")} for ${request.asAdmin ? "the admin" : "an anonymous caller"}:`,
    `  ${request.method} ${request.search ?? ""} content-type: ${request.contentType ?? "(none)"}`,
    `  body: ${request.body.length > 2_000 ? `${request.body.slice(0, 2_000)}… (${request.body.length} characters)` : request.body}`,
    `  answer: HTTP ${answer.status} ${answer.text.slice(0, 600)}`,
  ].join("\n");

/**
 * Runs `check` under the fixed seed, within `budgetMs`. A failure is reported by `check`'s own
 * message (the request and the answer), with what reproduces it, rather than by fast-check's
 * dump of the whole generated batch.
 */
async function assertSeeded<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>, numRuns: number, budgetMs: number): Promise<void> {
  let firstFailure: string | null = null;
  const recorded = async (value: T) => {
    try {
      await check(value);
    } catch (error) {
      firstFailure ??= error instanceof Error ? error.message : String(error);
      throw error;
    }
  };
  try {
    await fc.assert(fc.asyncProperty(arbitrary, recorded), {
      numRuns,
      seed: SEED,
      // Shrinking would replay requests against a server whose state has moved on; the failing
      // request is printed whole instead.
      endOnFailure: true,
      interruptAfterTimeLimit: budgetMs,
      markInterruptAsFailure: false,
    });
  } catch (error) {
    const where = /\{ seed: -?\d+, path: "[^"]*"/.exec(error instanceof Error ? error.message : "")?.[0] ?? "";
    throw new Error(`${firstFailure ?? String(error)}\n\nReproduce with FUZZ_SEED=${SEED} (fast-check ${where} }).`);
  }
}

describe("the schema fuzzer", () => {
  let gateway: TestGateway;
  const known: KnownValues = { ids: [], strings: [] };
  const failures: string[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway();
    // Real rows for arguments to land on: a user with an active factor, an open challenge, a
    // group, a sign-in transaction, the policies. No API token id: revoking the admin's own
    // token would leave the rest of the run anonymous.
    const { user, factor, challenge, code } = await openChallenge(gateway, "+447400700001");
    const group = await gateway.admin.raw<{ createGroup: { id: string } }>(JSON.stringify({ query: 'mutation { createGroup(name: "fuzz") { id } }' }));
    const groupId = group.data!.createGroup.id;
    await gateway.admin.raw(JSON.stringify({ query: `mutation { addUserToGroup(userId: "${user.id}", groupId: "${groupId}") { id } }` }));
    const signIn = await gateway.anonymous.raw<{ signIn: { stateHandle: string } }>(
      JSON.stringify({ query: "mutation ($login: String!, $password: String!) { signIn(input: { login: $login, password: $password }) { stateHandle } }", variables: { login: user.login, password: PASSWORD } }),
    );
    const policies = await gateway.admin.raw<{ policies: Array<{ id: string }> }>(JSON.stringify({ query: "{ policies { id } }" }));
    known.ids.push(user.id, factor.id, challenge.id, groupId, ...(policies.data?.policies ?? []).map((policy) => policy.id), ...challenge.messages.map((message) => message.id));
    known.strings.push(user.login, "+447400700001", code, PASSWORD, ...(signIn.data ? [signIn.data.signIn.stateHandle] : []));
  });
  afterAll(() => gateway.stop());

  const checkBatch = async (requests: FuzzRequest[]) => {
    const answers = await Promise.all(requests.map((request) => send(gateway, request)));
    requests.forEach((request, i) => {
      const problems = problemsWith(answers[i]!);
      if (!problems.length) return;
      const known = KNOWN_BUGS.find((entry) => entry.explains(request));
      if (known) {
        knownBugsSeen.set(known.bug, (knownBugsSeen.get(known.bug) ?? 0) + 1);
        return;
      }
      const report = describeRequest(request, answers[i]!, problems);
      if (!REPORT_ALL) throw new Error(report);
      failures.push(report);
    });
  };

  test(
    "operations built from the schema are answered within the contract",
    async () => {
      await assertSeeded(fc.array(operationRequests(schema, known), { minLength: BATCH, maxLength: BATCH }), checkBatch, Math.round(250 * SCALE), 40_000 * SCALE);
    },
    120_000 * SCALE,
  );

  test(
    "bodies that are not GraphQL requests are answered within the contract",
    async () => {
      await assertSeeded(fc.array(garbageRequests(schema, known), { minLength: BATCH, maxLength: BATCH }), checkBatch, Math.round(80 * SCALE), 12_000 * SCALE);
    },
    60_000 * SCALE,
  );

  test("the gateway still answers its health check", async () => {
    if (REPORT_ALL) {
      console.log(`Outcomes (HTTP status, error code): ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
      console.log(`Known bugs met: ${JSON.stringify(Object.fromEntries(knownBugsSeen))}`);
    }
    if (failures.length) console.error(`${failures.length} failing request(s):\n\n${failures.join("\n\n")}`);
    const health = await fetch(gateway.url.replace(/\/graphql$/, "/healthz"));
    expect(health.status).toBe(200);
    expect(failures).toEqual([]);
  });
});

describe("the passcode property", () => {
  let gateway: TestGateway;
  let maxAttempts: number;
  let phoneNumbers = 0;
  const RIGHT = "<the right code>";

  beforeAll(async () => {
    gateway = await startTestGateway();
    const settings = await gateway.admin.raw<{ phoneAuthenticator: { maxAttempts: number } }>(JSON.stringify({ query: "{ phoneAuthenticator { maxAttempts } }" }));
    maxAttempts = settings.data!.phoneAuthenticator.maxAttempts;
  });
  afterAll(() => gateway.stop());

  const guess = fc.oneof(
    { weight: 8, arbitrary: fc.stringMatching(/^\d{6}$/) },
    { weight: 1, arbitrary: fc.constant(RIGHT) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 8 }), fc.stringMatching(/^\d{1,12}$/)) },
  );
  /** `together`: sent at the same moment as the step before it, racing it. */
  const steps = fc.array(fc.record({ guess, together: fc.boolean() }), { minLength: 1, maxLength: 16 });

  test(
    "random guesses at one open challenge, in sequence and racing, never get more than maxAttempts INVALID_CODE answers",
    async () => {
      await assertSeeded(
        steps,
        async (plan) => {
          phoneNumbers += 1;
          const { challenge, code } = await openChallenge(gateway, `+44740080${String(phoneNumbers).padStart(4, "0")}`);
          const waves: Array<typeof plan> = [];
          for (const step of plan) {
            if (step.together && waves.length) waves.at(-1)!.push(step);
            else waves.push([step]);
          }
          const answered: string[] = [];
          for (const wave of waves) {
            const spentBefore = answered.filter((outcome) => outcome === "INVALID_CODE").length;
            const results = await Promise.all(
              wave.map((step) =>
                gateway.admin.raw<{ verifyChallenge: { status: string } }>(
                  JSON.stringify({
                    query: "mutation ($input: VerifyChallengeInput!) { verifyChallenge(input: $input) { status } }",
                    variables: { input: { challengeId: challenge.id, code: step.guess === RIGHT ? code : step.guess } },
                  }),
                ),
              ),
            );
            const outcomes = results.map((result) => String(result.errors?.[0]?.extensions?.code ?? result.data?.verifyChallenge.status));
            answered.push(...outcomes);
            const holds = (property: boolean, what: string) => {
              if (!property) throw new Error(`${what}: guesses ${JSON.stringify(plan)} (right code ${code}) were answered ${JSON.stringify(answered)}`);
            };
            holds(outcomes.every((outcome) => CONTRACT_CODES.has(outcome) || outcome === "VERIFIED") && !outcomes.includes(ErrorCode.INTERNAL), "an answer outside the contract");
            holds(!(spentBefore >= maxAttempts && outcomes.includes("VERIFIED")), "the right code verified after the attempts were spent");
            holds(answered.filter((outcome) => outcome === ErrorCode.INVALID_CODE).length <= maxAttempts, `more than ${maxAttempts} INVALID_CODE answers`);
            holds(answered.filter((outcome) => outcome === "VERIFIED").length <= 1, "verified more than once");
          }
          const rows = await gateway.db.dataSource.query(`SELECT attempts_used FROM challenges WHERE id = ${gateway.config.engine === "postgres" ? "$1" : "?"}`, [challenge.id]);
          if (Number(rows[0].attempts_used) > maxAttempts) throw new Error(`attempts_used is ${rows[0].attempts_used} after ${JSON.stringify(plan)}`);
        },
        Math.round(40 * SCALE),
        15_000 * SCALE,
      );
    },
    60_000 * SCALE,
  );
});

describe("bugs the fuzzer found, fixed, kept as tests", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(() => gateway.stop());

  const answerTo = (body: unknown) => send(gateway, { kind: "operation", method: "POST", contentType: "application/json", body: JSON.stringify(body), asAdmin: true });

  test("a subscription over HTTP is refused within the contract", async () => {
    expect(problemsWith(await answerTo({ query: "subscription { systemLog { uuid } }" }))).toEqual([]);
  });

  test("a subscription over HTTP whose root field is under @include(if: $variable) is refused within the contract", async () => {
    expect(problemsWith(await answerTo({ query: "subscription Live($on: Boolean!) { systemLog @include(if: $on) { uuid } }", variables: { on: true } }))).toEqual([]);
  });

  test("a persistedQuery extension whose hash does not match the query is refused within the contract", async () => {
    expect(problemsWith(await answerTo({ query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }))).toEqual([]);
  });

  test("over graphql-ws, the @include(if: $variable) subscription is refused with BAD_USER_INPUT and the connection stays open", async () => {
    const client = wsClient(gateway, `SSWS ${ADMIN_TOKEN}`);
    const once = (query: string, variables: Record<string, unknown>) =>
      withTimeout(
        new Promise<readonly GraphQLFormattedError[]>((resolve, reject) => {
          client.subscribe({ query, variables }, { next: (result) => resolve(result.errors ?? []), error: (error) => (Array.isArray(error) ? resolve(error) : reject(error)), complete: () => resolve([]) });
        }),
        10_000,
        "an answer over graphql-ws",
      );
    try {
      const refused = await once("subscription Live($on: Boolean!) { systemLog @include(if: $on) { uuid } }", { on: true });
      expect(refused).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) })]);
      expect(await once("{ __typename }", {})).toEqual([]);
    } finally {
      await client.dispose();
    }
  });
});
