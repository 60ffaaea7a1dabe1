import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from "graphql";
import { sharedSubscribe } from "../../../src/platform/shared-execution";

interface Tick {
  n: number;
}

/** A schema whose `tick` subscription yields the same event objects to every subscriber, and counts its executions. */
function fixture() {
  const resolved: string[] = [];
  const subscribers: Array<(tick: Tick) => void> = [];
  const Tick = new GraphQLObjectType<Tick, { viewer: string }>({
    name: "Tick",
    fields: {
      n: { type: GraphQLInt },
      label: {
        type: GraphQLString,
        args: { prefix: { type: GraphQLString } },
        resolve: (tick, args: { prefix?: string }, context) => {
          resolved.push(`${context.viewer}:${args.prefix ?? ""}`);
          return `${args.prefix ?? ""}${tick.n} for ${context.viewer}`;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        tick: {
          type: Tick,
          subscribe: () => {
            const queue: Tick[] = [];
            let wake: (() => void) | null = null;
            subscribers.push((tick) => {
              queue.push(tick);
              wake?.();
            });
            return (async function* () {
              for (;;) {
                while (queue.length) yield queue.shift()!;
                await new Promise<void>((resolve) => (wake = resolve));
              }
            })();
          },
          resolve: (tick: Tick) => tick,
        },
      },
    }),
  });
  const publish = (tick: Tick) => subscribers.forEach((deliver) => deliver(tick));
  return { schema, resolved, publish };
}

describe("sharedSubscribe", () => {
  const subscribe = sharedSubscribe((context) => ((context as { viewer: string }).viewer.startsWith("admin") ? "admin" : null));
  const byPrefix = parse("subscription ($prefix: String) { tick { n label(prefix: $prefix) } }");
  const other = parse("subscription { tick { label } }");

  test("one execution per event for subscriptions alike; others (document, variables, audience) execute on their own", async () => {
    const { schema, resolved, publish } = fixture();
    const open = async (document: typeof byPrefix, viewer: string, variableValues?: Record<string, unknown>) =>
      (await subscribe({ schema, document, contextValue: { viewer }, variableValues })) as AsyncGenerator<ExecutionResult>;
    const alike = await Promise.all([open(byPrefix, "admin-1", { prefix: "#" }), open(byPrefix, "admin-2", { prefix: "#" }), open(byPrefix, "admin-3", { prefix: "#" })]);
    const otherVariables = await open(byPrefix, "admin-4", { prefix: "no." });
    const otherDocument = await open(other, "admin-5");
    const alone = [await open(byPrefix, "user-1", { prefix: "#" }), await open(byPrefix, "user-2", { prefix: "#" })];

    const event = { n: 7 };
    publish(event);
    const results = await Promise.all([...alike, otherVariables, otherDocument, ...alone].map(async (iterator) => (await iterator.next()).value as ExecutionResult));

    expect(results.slice(0, 3).map((result) => result.data)).toEqual(Array(3).fill({ tick: { n: 7, label: "#7 for admin-1" } }));
    expect(results[3]?.data).toEqual({ tick: { n: 7, label: "no.7 for admin-4" } });
    expect(results[4]?.data).toEqual({ tick: { label: "7 for admin-5" } });
    expect(results.slice(5).map((result) => result.data)).toEqual([{ tick: { n: 7, label: "#7 for user-1" } }, { tick: { n: 7, label: "#7 for user-2" } }]);
    expect(resolved.sort()).toEqual(["admin-1:#", "admin-4:no.", "admin-5:", "user-1:#", "user-2:#"]);

    // A second event is a new execution, shared again.
    publish({ n: 8 });
    const second = await Promise.all(alike.map(async (iterator) => (await iterator.next()).value as ExecutionResult));
    expect(second.map((result) => result.data)).toEqual(Array(3).fill({ tick: { n: 8, label: "#8 for admin-1" } }));
    expect(resolved.filter((entry) => entry === "admin-1:#" || entry === "admin-2:#" || entry === "admin-3:#")).toHaveLength(2);
    await Promise.all([...alike, otherVariables, otherDocument, ...alone].map((iterator) => iterator.return(undefined)));
  });

  test("a refused subscription answers its errors, as graphql's subscribe does", async () => {
    const { schema } = fixture();
    const result = await subscribe({ schema, document: parse("subscription { nope }"), contextValue: { viewer: "admin" } });
    expect(Symbol.asyncIterator in (result as object)).toBe(false);
    expect((result as ExecutionResult).errors?.[0]?.message).toMatch(/nope/);
  });
});
