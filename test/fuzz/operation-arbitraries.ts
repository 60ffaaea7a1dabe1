import fc from "fast-check";
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLScalarType,
  getNamedType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";

/** Values the gateway knows (ids, numbers, logins), so some generated arguments reach real rows. */
export interface KnownValues {
  ids: string[];
  strings: string[];
}

/** One HTTP request to send: a body as text, its content type, and whose credential it carries. */
export interface FuzzRequest {
  kind: "operation" | "garbage";
  method: "POST" | "GET";
  contentType: string | null;
  body: string;
  /** For GET: the query string. */
  search?: string;
  asAdmin: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface ArgumentPlan {
  name: string;
  /** GraphQL literal text (inline), or a JSON value passed as a variable of `variableType`. */
  inline: string | null;
  variable: { type: string; value: Json | undefined } | null;
}

interface FieldPlan {
  alias: string | null;
  name: string;
  args: ArgumentPlan[];
  directives: string[];
  selection: SelectionPlan[] | null;
}

type SelectionPlan = { kind: "field"; field: FieldPlan } | { kind: "inline"; typeCondition: string | null; selections: SelectionPlan[] };

interface OperationPlan {
  operation: "query" | "mutation" | "subscription";
  selections: SelectionPlan[];
}

const NAME = fc.stringMatching(/^[_A-Za-z][_0-9A-Za-z]{0,8}$/);

/** `arbitrary`'s value one time in `oneIn`, null otherwise: how often a mistake is made. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** Strings a validator or a database might choke on. */
function nastyString(known: KnownValues): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => "x".repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 3_000 }).map((n) => "🙂".repeat(n)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "",
        " ",
        "\u0000",
        "'; DROP TABLE users; --",
        '" OR 1=1 --',
        "%",
        "_",
        "\\",
        "+",
        "+1",
        "+15555550100",
        "+447400123456",
        "+999999999999999",
        "00447400123456",
        "2024-02-30",
        "2099-13",
        "1970-01",
        "9999-12-31T23:59:59Z",
        "0000-00-00T00:00:00Z",
        "eventType eq \"user.session.start\"",
        "eventType eq",
        "(((((((((((((((((((",
        "not not not not not not",
        "${code}",
        "${unknown}",
        "${code}${code}${code}",
        "ʻokina עברית العربية",
        "\u202e\u202d",
        "NaN",
        "-0",
        "1e308",
        "ZZ",
        "US",
        "en-US",
        "xx-XX-u-nu-arab",
        "SSWS x",
        "10.0.0.0/8",
        "::/0",
        "999.999.999.999/99",
      ),
    },
    { weight: 4, arbitrary: known.strings.length ? fc.constantFrom(...known.strings) : fc.string() },
    { weight: 3, arbitrary: known.ids.length ? fc.constantFrom(...known.ids) : fc.string() },
  );
}

function nastyInt(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: -3, max: 300 }),
    fc.integer(),
    fc.constantFrom(0, -1, 1, 199, 200, 201, 999, 1000, 1001, 2_147_483_647, -2_147_483_648, 2 ** 31, 2 ** 53, -(2 ** 53), 1e21),
  );
}

function jsonValue(): fc.Arbitrary<Json> {
  return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
}

/** A JavaScript value for `type`: usually of the right shape, sometimes of a wrong one. */
function valueFor(type: GraphQLInputType, known: KnownValues, depth = 0): fc.Arbitrary<Json | undefined> {
  const wrong = fc.oneof(jsonValue(), nastyString(known), nastyInt(), fc.constant(null));
  return fc.oneof({ weight: 19, arbitrary: rightValueFor(type, known, depth) }, { weight: 1, arbitrary: wrong });
}

function rightValueFor(type: GraphQLInputType, known: KnownValues, depth: number): fc.Arbitrary<Json | undefined> {
  if (type instanceof GraphQLNonNull) return valueFor(type.ofType, known, depth);
  if (type instanceof GraphQLList) {
    return depth > 3 ? fc.constant([]) : fc.oneof(fc.array(valueFor(type.ofType, known, depth + 1), { maxLength: 4 }).map((items) => items.map((item) => item ?? null)), valueFor(type.ofType, known, depth + 1));
  }
  if (type instanceof GraphQLEnumType) {
    return fc.oneof({ weight: 29, arbitrary: fc.constantFrom(...type.getValues().map((value) => value.name)) }, { weight: 1, arbitrary: NAME });
  }
  if (type instanceof GraphQLInputObjectType) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(type.getFields());
    const values = fc.tuple(
      ...fields.map((field) => fc.option(valueFor(field.type, known, depth + 1), { freq: isNonNullType(field.type) ? 50 : 2, nil: undefined })),
    );
    // Now and then a field the input type does not have.
    return fc.tuple(values, sometimes(fc.tuple(NAME, jsonValue()), 30)).map(([present, extra]) => {
      const object: Record<string, Json> = {};
      fields.forEach((field, i) => {
        const value = present[i];
        if (value !== undefined) object[field.name] = value;
      });
      if (extra) object[extra[0]] = extra[1];
      return object;
    });
  }
  if (type instanceof GraphQLScalarType) {
    switch (type.name) {
      case "Int":
        return nastyInt();
      case "Float":
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), nastyInt());
      case "Boolean":
        return fc.boolean();
      case "JSON":
        return jsonValue();
      case "ID":
        return known.ids.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known.ids) }, { weight: 1, arbitrary: nastyString(known) }) : nastyString(known);
      case "DateTime":
        return fc.oneof(
          fc.date({ min: new Date("1900-01-01"), max: new Date("2200-01-01"), noInvalidDate: true }).map((date) => date.toISOString()),
          nastyString(known),
        );
      default:
        return nastyString(known);
    }
  }
  return jsonValue();
}

/** GraphQL literal text for a JS value; enum-typed strings that are names are written bare. */
function literal(value: Json | undefined, type: GraphQLInputType | null): string {
  const named = type ? getNamedType(type) : null;
  if (value === undefined || value === null) return "null";
  if (typeof value === "string") return named instanceof GraphQLEnumType && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (Array.isArray(value)) return `[${value.map((item) => literal(item, inner && isListType(inner) ? inner.ofType : inner)).join(", ")}]`;
  const fields = inner && isInputObjectType(inner) ? inner.getFields() : {};
  return `{${Object.entries(value)
    .map(([key, item]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(key) ? key : "bad_key"}: ${literal(item, fields[key]?.type ?? null)}`)
    .join(", ")}}`;
}

function argumentPlan(arg: GraphQLArgument, known: KnownValues): fc.Arbitrary<ArgumentPlan | null> {
  const required = isNonNullType(arg.type);
  const present = fc.boolean().map((b) => (required ? true : b));
  return fc
    .tuple(fc.integer({ min: 0, max: 99 }), present, valueFor(arg.type, known), fc.integer({ min: 0, max: 19 }))
    .map(([roll, isPresent, value, mode]) => {
      // A required argument left out now and then; an optional one half the time.
      if ((required && roll < 2) || !isPresent) return null;
      if (mode < 10) return { name: arg.name, inline: literal(value, arg.type), variable: null };
      // As a variable: usually of the argument's type, sometimes declared as another one.
      const declared = mode === 19 ? "String" : String(arg.type);
      return { name: arg.name, inline: null, variable: { type: declared, value } };
    });
}

function fieldsOf(type: GraphQLNamedType): GraphQLField<unknown, unknown>[] {
  return isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : [];
}

const DIRECTIVE = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("@include(if: true)", "@skip(if: false)", "@include(if: false)", "@skip(if: true)") },
  { weight: 1, arbitrary: fc.constantFrom("@deprecated", "@unknown", "@include", "@skip(if: 1)") },
);

function fieldPlan(field: GraphQLField<unknown, unknown>, known: KnownValues, depthLeft: number): fc.Arbitrary<FieldPlan> {
  const named = getNamedType(field.type);
  const selection: fc.Arbitrary<SelectionPlan[] | null> = isLeafType(named)
    ? fc.oneof({ weight: 60, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant<SelectionPlan[]>([typenameSelection()]) })
    : fc.oneof({ weight: 60, arbitrary: selectionSet(named, known, depthLeft - 1) }, { weight: 1, arbitrary: fc.constant(null) });
  return fc
    .record({
      alias: sometimes(fc.oneof({ weight: 10, arbitrary: NAME }, { weight: 1, arbitrary: fc.constantFrom("a", "b", "id") }), 8),
      args: fc.tuple(...field.args.map((arg) => argumentPlan(arg, known))),
      extraArg: sometimes(fc.tuple(NAME, jsonValue()), 60),
      directives: fc.oneof({ weight: 30, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array<string>(DIRECTIVE, { maxLength: 3 }) }),
      selection,
    })
    .map(({ alias, args, extraArg, directives, selection }) => ({
      alias,
      name: field.name,
      args: [...args.filter((arg): arg is ArgumentPlan => arg !== null), ...(extraArg ? [{ name: extraArg[0], inline: literal(extraArg[1], null), variable: null }] : [])],
      directives,
      selection,
    }));
}

function typenameSelection(): SelectionPlan {
  return { kind: "field", field: { alias: null, name: "__typename", args: [], directives: [], selection: null } };
}

/** A selection set on `type`: some of its fields, within `depthLeft` levels, now and then a wrong one. */
function selectionSet(type: GraphQLNamedType, known: KnownValues, depthLeft: number): fc.Arbitrary<SelectionPlan[]> {
  const fields = fieldsOf(type);
  if (!fields.length) return fc.constant<SelectionPlan[]>([typenameSelection()]);
  const leaves = fields.filter((field) => isLeafType(getNamedType(field.type)));
  const usable = depthLeft <= 0 ? leaves : fields;
  if (!usable.length) return fc.constant<SelectionPlan[]>([typenameSelection()]);
  const one: fc.Arbitrary<SelectionPlan> = fc.oneof(
    { weight: 80, arbitrary: fc.constantFrom(...usable).chain((field) => fieldPlan(field, known, depthLeft)).map((field): SelectionPlan => ({ kind: "field", field })) },
    { weight: 2, arbitrary: fc.constant(typenameSelection()) },
    { weight: 1, arbitrary: NAME.map((name): SelectionPlan => ({ kind: "field", field: { alias: null, name, args: [], directives: [], selection: null } })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(type.name, type.name, null, "Query")
        .map((typeCondition): SelectionPlan => ({ kind: "inline", typeCondition, selections: [typenameSelection()] })),
    },
  );
  return fc.array(one, { minLength: 1, maxLength: depthLeft > 6 ? 4 : 2 });
}

function operationPlan(schema: GraphQLSchema, known: KnownValues): fc.Arbitrary<OperationPlan> {
  const roots: Array<{ operation: OperationPlan["operation"]; type: GraphQLObjectType }> = [];
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  if (query) roots.push({ operation: "query", type: query });
  if (mutation) roots.push({ operation: "mutation", type: mutation });
  if (subscription) roots.push({ operation: "subscription", type: subscription });
  return fc
    .tuple(
      fc.constantFrom(...roots.flatMap((root) => (root.operation === "subscription" ? [root] : [root, root, root, root]))),
      // Mostly within the depth limit of 12, sometimes past it.
      fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: 10, max: 16 }) }),
    )
    .chain(([root, depth]) =>
      fc
        .tuple(
          fc.constantFrom(...fieldsOf(root.type)).chain((field) => fieldPlan(field, known, depth)),
          sometimes(fc.integer({ min: 2, max: 20 }), 12),
          sometimes(fc.constantFrom(...fieldsOf(root.type)).chain((field) => fieldPlan(field, known, depth)), 5),
        )
        .map(([field, repeat, second]) => {
          // Now and then the same field under many aliases, or two root fields.
          const copies = repeat ? Array.from({ length: repeat }, (_, i) => ({ ...field, alias: `r${i}` })) : [field];
          const selections = [...copies, ...(second ? [second] : [])].map((f): SelectionPlan => ({ kind: "field", field: f }));
          return { operation: root.operation, selections };
        }),
    );
}

function render(plan: OperationPlan): { query: string; variables: Record<string, Json> } {
  const definitions: string[] = [];
  const variables: Record<string, Json> = {};
  const renderSelections = (selections: SelectionPlan[]): string => `{ ${selections.map(renderSelection).join(" ")} }`;
  const renderSelection = (selection: SelectionPlan): string => {
    if (selection.kind === "inline") return `... ${selection.typeCondition ? `on ${selection.typeCondition} ` : ""}${renderSelections(selection.selections)}`;
    const { alias, name, args, directives, selection: sub } = selection.field;
    const renderedArgs = args.map((arg) => {
      if (arg.inline !== null) return `${arg.name}: ${arg.inline}`;
      const variable = `v${definitions.length}`;
      definitions.push(`$${variable}: ${arg.variable!.type}`);
      if (arg.variable!.value !== undefined) variables[variable] = arg.variable!.value;
      return `${arg.name}: $${variable}`;
    });
    return `${alias ? `${alias}: ` : ""}${name}${renderedArgs.length ? `(${renderedArgs.join(", ")})` : ""}${directives.length ? ` ${directives.join(" ")}` : ""}${sub ? ` ${renderSelections(sub)}` : ""}`;
  };
  const body = renderSelections(plan.selections);
  return { query: `${plan.operation} Fuzz${definitions.length ? `(${definitions.join(", ")})` : ""} ${body}`, variables };
}

/** Operations built from the schema: a root field, arguments good and bad, selections shallow and deep. */
export function operationRequests(schema: GraphQLSchema, known: KnownValues): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(operationPlan(schema, known), fc.boolean()).map(([plan, asAdmin]) => {
    const { query, variables } = render(plan);
    return { kind: "operation", method: "POST", contentType: "application/json", body: JSON.stringify({ query, variables }), asAdmin };
  });
}

const GRAPHQL_TOKENS = ["{", "}", "(", ")", "[", "]", ":", "$", "...", "@", "!", "=", "|", "&", ",", "query", "mutation", "subscription", "fragment", "on", "null", "true", "1", "-1.5e3", '"s"', '"""block"""', "#c\n", "users", "user", "me", "id", "edges", "node", "verifyChallenge", "input", "__schema", "__type", "__typename", "Int", "String!", "[ID!]!"];

/** Bodies that are not well-formed GraphQL requests at all. */
export function garbageRequests(schema: GraphQLSchema, known: KnownValues): fc.Arbitrary<FuzzRequest> {
  const tokenSoup = fc.array(fc.constantFrom(...GRAPHQL_TOKENS), { maxLength: 40 }).map((tokens) => tokens.join(" "));
  const anyQuery = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), tokenSoup, operationRequests(schema, known).map((request) => (JSON.parse(request.body) as { query: string }).query));
  const body: fc.Arbitrary<{ body: string; contentType: string | null; method: "POST" | "GET"; search?: string }> = fc.oneof(
    // Not JSON, or JSON of the wrong shape.
    fc.string().map((text) => ({ body: text, contentType: "application/json", method: "POST" as const })),
    fc.jsonValue().map((value) => ({ body: JSON.stringify(value), contentType: "application/json", method: "POST" as const })),
    // The right shape, with wrong members.
    fc
      .record(
        {
          query: fc.oneof(anyQuery, jsonValue()),
          variables: fc.oneof(jsonValue(), fc.dictionary(NAME, jsonValue(), { maxKeys: 3 })),
          operationName: fc.oneof(NAME, jsonValue(), fc.constant("Fuzz")),
          extensions: fc.oneof(jsonValue(), fc.constant({ persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } })),
        },
        { requiredKeys: [] },
      )
      .map((value) => ({ body: JSON.stringify(value), contentType: "application/json", method: "POST" as const })),
    // Other content types and methods.
    fc
      .tuple(fc.constantFrom("text/plain", "application/graphql", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=latin1", null), anyQuery)
      .map(([contentType, query]) => ({ body: JSON.stringify({ query }), contentType, method: "POST" as const })),
    fc
      .tuple(anyQuery, fc.boolean())
      .map(([query, preflight]) => ({ body: "", contentType: preflight ? "application/json" : null, method: "GET" as const, search: `?query=${percentEncoded(query.slice(0, 2_000))}` })),
  );
  return fc.tuple(body, fc.boolean()).map(([request, asAdmin]) => ({ kind: "garbage", asAdmin, ...request }));
}

/** Percent-encodes the UTF-8 bytes of `text`; unlike encodeURIComponent, lone surrogates too. */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
}
