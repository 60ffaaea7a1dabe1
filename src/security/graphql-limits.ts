import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { GraphQLArmorConfig, GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getOperationAST,
  getVariableValues,
  parse,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  type ValueNode,
} from "graphql";
import type { Config } from "../platform/config";
import { AppError, badInput, ErrorCode } from "../platform/errors";
import { formatError } from "../platform/graphql-errors";
import { RecentResults } from "../platform/recent-results";
import { UnstorableStrings } from "./unstorable-strings";

/** The `limit` of a QUERY_TOO_COMPLEX error: which guard refused the operation. */
export type QueryLimit = "depth" | "aliases" | "tokens" | "directives" | "cost" | "passcodeFields";

/**
 * Mutation fields that compare a passcode. One operation may carry at most one of them, so the
 * attempt cap counts guesses per request as well as per challenge.
 */
export const PASSCODE_FIELDS: ReadonlySet<string> = new Set(["verifyChallenge", "verifyFactor", "activatePhoneFactor"]);

export interface QueryLimitSettings {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  blockFieldSuggestions: boolean;
  /** Whether `__schema` and `__type` may be asked (Apollo is told over HTTP; the rule here holds over WebSocket). */
  introspection: boolean;
}

/**
 * Cost model (Shopify's): an object costs 1 and a scalar nothing, so the cost is the number of
 * objects a response may hold; a list argument `first`/`last` multiplies what it selects, so
 * nested pages multiply as the rows they fetch do (a size not given counts as the argument's
 * default in the schema, the page its resolver gives). A depth factor above 1 would make a plain
 * page of 200 users cost more than a two-level fan-out.
 */
const COST_WEIGHTS = { objectCost: 1, scalarCost: 0, depthCostFactor: 1 } as const;

/** Arguments that size a list, read by armor's cost rule as the list factor. */
const LIST_SIZE_ARGUMENTS = new Set(["first", "last"]);

const OFF = { enabled: false } as const;

export function tooComplex(limit: QueryLimit, message: string): AppError {
  return new AppError(ErrorCode.QUERY_TOO_COMPLEX, message, { limit });
}

export function limitSettingsFrom(config: Config): QueryLimitSettings {
  return {
    maxDepth: config.maxQueryDepth,
    maxAliases: config.maxQueryAliases,
    maxTokens: config.maxQueryTokens,
    maxDirectives: config.maxQueryDirectives,
    maxCost: config.maxQueryCost,
    blockFieldSuggestions: config.blockFieldSuggestions,
    introspection: config.nodeEnv !== "production" || config.introspection,
  };
}

/**
 * The limits on what one GraphQL request may ask, applied alike over HTTP (Apollo's validation
 * rules, plugins and an express guard) and over graphql-ws (`subscribeArgs` as `onSubscribe`).
 * Every refusal is an AppError QUERY_TOO_COMPLEX whose `limit` names the guard, refused whole
 * with HTTP 400 before any resolver runs; so is a string no engine can store alike (U+0000, a lone surrogate), as BAD_USER_INPUT
 * (UnstorableStrings).
 */
export class GraphQLLimits {
  /** Armor's depth, alias and directive rules, ours, then armor's cost rule; Apollo runs them after graphql's specifiedRules. */
  readonly validationRules: readonly ValidationRule[];
  private readonly costRule: ValidationRule;
  /** Per operation, how its lists are sized beyond what armor reads in the document. */
  private readonly listSizings = new WeakMap<OperationDefinitionNode, ListSizing>();
  /** Per operation, the list sizes its cost was already found within the limit for. */
  private readonly admittedListSizes = new WeakMap<OperationDefinitionNode, RecentResults<true>>();
  /** Documents that passed the token and transport checks, by their text: clients send the same few again and again. */
  private readonly admittedSources = new Set<string>();
  /** Subscription documents that passed parsing and validation, by their text. */
  private readonly validDocuments = new Map<string, DocumentNode>();
  private readonly unstorableStrings = new UnstorableStrings();

  constructor(readonly settings: QueryLimitSettings) {
    this.costRule = armorRule({
      costLimit: { maxCost: settings.maxCost, ...COST_WEIGHTS, flattenFragments: true, ...refuseAs("cost") },
    });
    this.validationRules = [
      armorRule({ maxDepth: { n: settings.maxDepth, flattenFragments: true, ...refuseAs("depth") } }),
      armorRule({ maxAliases: { n: settings.maxAliases, ...refuseAs("aliases") } }),
      armorRule({ maxDirectives: { n: settings.maxDirectives, ...refuseAs("directives") } }),
      singlePasscodeField(),
      this.costRule,
    ];
  }

  static fromConfig(config: Config): GraphQLLimits {
    return new GraphQLLimits(limitSettingsFrom(config));
  }

  /** The refusal when `source` holds more tokens than allowed; null otherwise, a syntax error included. */
  tokenLimitError(source: string): AppError | null {
    const lexer = new Lexer(new Source(source));
    let tokens = 0;
    try {
      // Counting stops at the limit, so a flood costs no more to refuse than a legal document.
      while (lexer.advance().kind !== TokenKind.EOF) {
        tokens += 1;
        if (tokens > this.settings.maxTokens) return tooComplex("tokens", `Token limit of ${this.settings.maxTokens} exceeded.`);
      }
    } catch {
      return null;
    }
    return null;
  }

  /**
   * Express middleware between the JSON body parser and Apollo. Armor's own token guard throws
   * from Apollo's parsingDidStart hook, which Apollo answers with HTTP 500; counting here, before
   * Apollo parses, refuses the flood with the contract's 400.
   */
  tokenGuard(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const source = req.method === "GET" ? queryInUrl(req.originalUrl) : queryOf(req.body);
      if (source === null || this.admittedSources.has(source)) {
        next();
        return;
      }
      const error = this.tokenLimitError(source) ?? subscriptionOverHttpError(source);
      if (!error) {
        if (source.length <= ADMITTED_SOURCE_MAX_LENGTH) {
          if (this.admittedSources.size >= ADMITTED_SOURCES) this.admittedSources.delete(this.admittedSources.values().next().value!);
          this.admittedSources.add(source);
        }
        next();
        return;
      }
      res.status(400).json({ errors: [formatError(error.toJSON(), error)] });
    };
  }

  /**
   * The cost again, with the list sizes the request's variables and the schema's defaults give:
   * armor's rule reads only integers written in the document (and Apollo caches its verdict per
   * document), so `first: $n`, `first: null` and no `first` at all would otherwise count 1.
   */
  costWithVariables(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | null | undefined): readonly GraphQLError[] {
    // Apollo hands the same parsed document to every request with the same text.
    let sizing = this.listSizings.get(operation);
    if (sizing === undefined) {
      sizing = listSizingOf(schema, document, operation);
      this.listSizings.set(operation, sizing);
    }
    if (!sizing.variables.length && !sizing.defaulted) return [];
    // A dashboard pages with the same few sizes: a verdict that admitted them stands (refusals are
    // worked out again, so each refused request gets its own error).
    const sizes = sizing.variables.map((name) => listSizeOf(variables?.[name])).join(",");
    let admitted = this.admittedListSizes.get(operation);
    if (!admitted) {
      admitted = new RecentResults<true>(ADMITTED_LIST_SIZES);
      this.admittedListSizes.set(operation, admitted);
    }
    if (admitted.has(sizes)) return [];
    const errors = validate(schema, withListSizesInlined(schema, document, operation, variables ?? {}), [this.costRule]);
    if (!errors.length) admitted.get(sizes, () => true);
    return errors;
  }

  apolloPlugins<TContext extends BaseContext>(): ApolloServerPlugin<TContext>[] {
    const plugins: ApolloServerPlugin<TContext>[] = [
      {
        requestDidStart: async () => ({
          didResolveOperation: async ({ schema, document, operation, request }) => {
            if (!operation) return;
            const [error] = this.costWithVariables(schema, document, operation, request.variables);
            // Apollo answers an error thrown here on its own, with the error's HTTP status.
            if (error) throw error;
            const unstorable = this.unstorableStrings.errorFor(document, request.variables);
            if (unstorable) throw unstorable;
          },
        }),
      },
    ];
    if (this.settings.blockFieldSuggestions) {
      plugins.push({
        requestDidStart: async () => ({
          didEncounterErrors: async ({ errors }) => {
            for (const error of errors) error.message = hideSuggestions(error.message);
          },
        }),
      });
    }
    return plugins;
  }

  /**
   * graphql-ws `onSubscribe`: the HTTP path's refusals for an operation sent over a WebSocket,
   * before it executes. Errors carry the code Apollo would have given them, so the shared
   * formatter maps them as it does over HTTP.
   */
  subscribeArgs(schema: GraphQLSchema, payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null }): ExecutionArgs | GraphQLError[] {
    const document = this.validDocument(schema, payload.query);
    if (!("kind" in document)) return document;
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) return [this.coded(new GraphQLError("Unable to identify the operation to run"), "OPERATION_RESOLUTION_FAILURE")];
    const tooCostly = this.costWithVariables(schema, document, operation, payload.variables);
    if (tooCostly.length) return [...tooCostly];
    const unstorable = this.unstorableStrings.errorFor(document, payload.variables);
    if (unstorable) return [unstorable];
    // Coerced here as Apollo does over HTTP, so a missing or mistyped variable is the client's
    // BAD_USER_INPUT rather than an uncoded error from execution.
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {}, { maxErrors: 10 });
    if (coerced.errors) return coerced.errors.map((error) => this.coded(error, ErrorCode.BAD_USER_INPUT));
    return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
  }

  /**
   * The document, parsed and validated, or why not. Valid ones are kept by their text (as
   * Apollo keeps those it has seen over HTTP): a fleet of dashboards subscribes with the same
   * few, and sharing one document is also what lets them share each event's execution.
   */
  private validDocument(schema: GraphQLSchema, query: string): DocumentNode | GraphQLError[] {
    const known = this.validDocuments.get(query);
    if (known) return known;
    const tokens = this.tokenLimitError(query);
    if (tokens) return [tokens];
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return [this.coded(error, "GRAPHQL_PARSE_FAILED")];
    }
    let invalid: readonly GraphQLError[];
    try {
      invalid = validate(schema, document, [...specifiedRules, ...(this.settings.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...this.validationRules]);
    } catch (error) {
      // graphql-js's SingleFieldSubscriptionsRule evaluates @skip/@include on a subscription's root
      // field and throws when their argument is a variable or not a Boolean; graphql-ws would
      // close the whole connection with 4500 for it.
      return [this.coded(error, "GRAPHQL_VALIDATION_FAILED")];
    }
    if (invalid.length) return invalid.map((error) => this.coded(error, "GRAPHQL_VALIDATION_FAILED"));
    if (query.length <= ADMITTED_SOURCE_MAX_LENGTH) {
      if (this.validDocuments.size >= ADMITTED_SOURCES) this.validDocuments.delete(this.validDocuments.keys().next().value!);
      this.validDocuments.set(query, document);
    }
    return document;
  }

  private coded(error: unknown, code: string): GraphQLError {
    if (error instanceof AppError) return error;
    const graphqlError = error instanceof GraphQLError ? error : new GraphQLError(String(error));
    const message = this.settings.blockFieldSuggestions ? hideSuggestions(graphqlError.message) : graphqlError.message;
    return new GraphQLError(message, { nodes: graphqlError.nodes, source: graphqlError.source, positions: graphqlError.positions, extensions: { code } });
  }
}

/**
 * At most one passcode-checking field per operation, counting every occurrence: aliases, repeats
 * and those reached through fragments. Apollo and graphql-ws run it before anything executes,
 * so a refused operation spends no attempt.
 */
export function singlePasscodeField(fields: ReadonlySet<string> = PASSCODE_FIELDS): ValidationRule {
  return (context) => {
    // Memoised per fragment: fragments spreading each other twice over would otherwise cost 2^n.
    const perFragment = new Map<string, string[]>();
    const inFragment = (fragment: FragmentDefinitionNode): string[] => {
      const name = fragment.name.value;
      const known = perFragment.get(name);
      if (known) return known;
      perFragment.set(name, []); // a cycle counts nothing; NoFragmentCyclesRule refuses it anyway
      const found = collect(fragment.selectionSet);
      perFragment.set(name, found);
      return found;
    };
    // Passcode fields live on Mutation, so only the root selection set (and its fragments) can hold them.
    const collect = (selectionSet: SelectionSetNode): string[] =>
      selectionSet.selections.flatMap((selection) => {
        if (selection.kind === Kind.FIELD) return fields.has(selection.name.value) ? [selection.name.value] : [];
        if (selection.kind === Kind.INLINE_FRAGMENT) return collect(selection.selectionSet);
        const fragment = context.getFragment(selection.name.value);
        return fragment ? inFragment(fragment) : [];
      });
    return {
      OperationDefinition(operation) {
        const found = collect(operation.selectionSet);
        if (found.length > 1) {
          context.reportError(
            tooComplex("passcodeFields", `An operation may check one passcode at most; this one has ${found.length} (${[...new Set(found)].join(", ")})`),
          );
        }
      },
    };
  };
}

/** Drops graphql-js's "Did you mean …?" hints (fields, arguments, types, enum values). */
export function hideSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^?]*\?/g, "");
}

/** One armor protection alone, reporting through our error rather than armor's BAD_USER_INPUT. */
function armorRule(protection: GraphQLArmorConfig): ValidationRule {
  const { validationRules } = new ApolloArmor({
    blockFieldSuggestion: OFF,
    maxTokens: OFF,
    costLimit: OFF,
    maxAliases: OFF,
    maxDepth: OFF,
    maxDirectives: OFF,
    ...protection,
  }).protect();
  const [rule] = validationRules;
  if (!rule || validationRules.length !== 1) throw new Error("graphql-armor did not give exactly one validation rule");
  return rule;
}

function refuseAs(limit: QueryLimit): { exposeLimits: true; propagateOnRejection: false; onReject: GraphQLArmorRejectCallback[] } {
  return {
    exposeLimits: true,
    // Reported, not thrown: a thrown error would abort graphql's validation as a whole.
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(tooComplex(limit, error.message.replace(/^Syntax Error:\s*/, "")))],
  };
}

/**
 * A GET request's query as Apollo reads it, from the whole query string: Express's parser
 * (`req.query`) stops at 1,000 parameters, and a query after those went uncounted.
 */
function queryInUrl(url: string): string | null {
  // Up to a fragment, as Apollo's url.parse(req.url).search reads it.
  const queries = new URL(url, "http://gateway.invalid").searchParams.getAll("query");
  // Given more than once, Apollo refuses the request itself.
  return queries.length === 1 ? queries[0]! : null;
}

function queryOf(container: unknown): string | null {
  if (container === null || typeof container !== "object" || Array.isArray(container)) return null;
  const query = (container as { query?: unknown }).query;
  return typeof query === "string" ? query : null;
}

const ADMITTED_SOURCES = 500;
const ADMITTED_SOURCE_MAX_LENGTH = 8_192;
const ADMITTED_LIST_SIZES = 64;

interface ListSizing {
  /** The variables that give a list size, each once. */
  variables: readonly string[];
  /** Whether a list size is left to the schema's default: not given, or given as null. */
  defaulted: boolean;
}

/** The operation and its fragments, as one document to visit. */
function operationWithFragments(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  return { kind: Kind.DOCUMENT, definitions: [operation, ...document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)] };
}

/** A field's list size arguments that the schema gives a default, by name. */
function defaultedListSizes(typeInfo: TypeInfo): Map<string, ValueNode> {
  const sizes = new Map<string, ValueNode>();
  for (const argument of typeInfo.getFieldDef()?.args ?? []) {
    if (!LIST_SIZE_ARGUMENTS.has(argument.name) || typeof argument.defaultValue !== "number") continue;
    sizes.set(argument.name, { kind: Kind.INT, value: String(argument.defaultValue) });
  }
  return sizes;
}

function listSizingOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): ListSizing {
  const variables = new Set<string>();
  let defaulted = false;
  const typeInfo = new TypeInfo(schema);
  visit(
    operationWithFragments(document, operation),
    visitWithTypeInfo(typeInfo, {
      Field(node: FieldNode) {
        for (const name of defaultedListSizes(typeInfo).keys()) {
          const given = node.arguments?.find((argument) => argument.name.value === name);
          if (!given || given.value.kind === Kind.NULL) defaulted = true;
        }
      },
      Argument(node: ArgumentNode) {
        if (LIST_SIZE_ARGUMENTS.has(node.name.value) && node.value.kind === Kind.VARIABLE) variables.add(node.value.name.value);
      },
    }),
  );
  return { variables: [...variables], defaulted };
}

/**
 * How a list size variable's value is costed: by its integer, by the variable's default (or the
 * argument's) when absent, by the argument's default when null, or not at all (anything else is
 * left as a variable). The verdict cache keys on this, so it can only tell apart the values
 * withListSizesInlined tells apart.
 */
function listSizeOf(value: unknown): number | "absent" | "null" | "other" {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (value === undefined) return "absent";
  return value === null ? "null" : "other";
}

/**
 * The operation and its fragments with every list size written in: a variable's value (or the
 * variable's default), and the argument's default in the schema where no size, or null, is given.
 */
function withListSizesInlined(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): DocumentNode {
  const variableDefaults = new Map((operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition.defaultValue]));
  const typeInfo = new TypeInfo(schema);
  // Undefined where the size is left as written.
  const sizeOf = (value: ValueNode, fallback: ValueNode | undefined): ValueNode | undefined => {
    if (value.kind === Kind.NULL) return fallback;
    if (value.kind !== Kind.VARIABLE) return value;
    const size = listSizeOf(variables[value.name.value]);
    if (typeof size === "number") return { kind: Kind.INT, value: String(size) };
    if (size === "null") return fallback;
    if (size !== "absent") return undefined;
    const variableDefault = variableDefaults.get(value.name.value);
    // A variable left out, with no default of its own, leaves the argument out.
    return variableDefault ? sizeOf(variableDefault, fallback) : fallback;
  };
  return visit(
    operationWithFragments(document, operation),
    visitWithTypeInfo(typeInfo, {
      Field(node: FieldNode): FieldNode | undefined {
        const defaults = defaultedListSizes(typeInfo);
        const given = node.arguments ?? [];
        const sized = given.map((argument) => {
          if (!LIST_SIZE_ARGUMENTS.has(argument.name.value)) return argument;
          const value = sizeOf(argument.value, defaults.get(argument.name.value));
          return value && value !== argument.value ? { ...argument, value } : argument;
        });
        for (const [name, value] of defaults) {
          if (!given.some((argument) => argument.name.value === name)) sized.push({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: name }, value });
        }
        return sized.some((argument, i) => argument !== given[i]) ? { ...node, arguments: sized } : undefined;
      },
    }),
  );
}

/**
 * Subscriptions live on the graphql-transport-ws socket. Apollo would try one over HTTP and
 * fail inside execution (or inside validation, with a directive on the root field), so it is
 * refused here, as the malformed request it is.
 */
function subscriptionOverHttpError(source: string): AppError | null {
  let document: DocumentNode;
  try {
    document = parse(source, { noLocation: true });
  } catch {
    return null;
  }
  const subscribes = document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.operation === "subscription");
  return subscribes ? badInput("query", "subscriptions run over WebSocket (graphql-transport-ws) on this same path, not over HTTP") : null;
}
