import { generate, type parser as peggy } from "peggy";
import { AppError, ErrorCode } from "../platform/errors";
import { LOG_FILTER_GRAMMAR } from "./filter-grammar";

/**
 * The System Log `filter` language (Okta System Log API, SCIM RFC 7644 §3.4.2.2 syntax):
 * parsing to an AST, compilation to a TypeORM where-fragment over `log_events`, and in-memory
 * evaluation for live subscriptions. SQL and in-memory evaluation share one plan per leaf
 * (`planLeaf`), and every SQL leaf is two-valued (never NULL), so that `not` and `ne` select
 * exactly the same events in the database as in memory.
 *
 * Semantics:
 * - Case: identifiers and enumerations (uuid, eventType, severity, transactionId,
 *   outcome.result, actor/target id and type) and debugContext values compare case-exactly.
 *   Human-readable text (displayMessage, outcome.reason, actor/target alternateId and
 *   displayName, client.userAgent, client.ipAddress) is caseExact=false in the SCIM sense:
 *   every string operator (eq, ne, co, sw, ew, gt, ge, lt, le) compares lowercased values.
 *   Lowercasing is ASCII-only, because that is all SQLite's lower() does; PostgreSQL is held to
 *   the same by `COLLATE "C"`.
 * - String ordering (gt/ge/lt/le) is by Unicode code point: SQLite BINARY, PostgreSQL
 *   `COLLATE "C"`, and a code-point comparison in memory.
 * - `ne` is the negation of `eq`: it also matches events where the attribute is absent
 *   (NULL, missing debugContext key, or a debugContext value of another JSON type).
 * - `eq null` matches an absent attribute (same as `not (x pr)`), `ne null` is `pr`; for the
 *   multi-valued `target.*` (below), `eq null` is "some target lacks it" and `not (x pr)` is
 *   "no target has it", which differ for an event with no targets or with targets of both kinds.
 * - `pr` means "has a value": not NULL, and for debugContext a present key that is not JSON
 *   null. An empty string is a value.
 * - `co`/`sw`/`ew` are substring tests with no wildcards: `%`, `_`, `*`, `?` and `[` in the
 *   literal match themselves (escaped for LIKE / GLOB).
 * - `target.*` is multi-valued: `target.x op v` matches when at least one target satisfies
 *   `x op v` (so `target.type ne "User"` means "some target is not a User"; for "no target is
 *   a User" write `not (target.type eq "User")`). An event without targets matches no
 *   `target.*` comparison.
 * - debugContext comparisons are typed: a string literal only matches JSON strings, a number
 *   literal only JSON numbers (compared as IEEE-754 doubles, like JSON.parse does), and
 *   true/false only JSON booleans.
 * - `published` takes an ISO-8601 date or date-time with an explicit zone ("Z" or ±hh:mm);
 *   a bare date means midnight UTC. The AST carries it as epoch milliseconds; a bound with
 *   digits past the millisecond is met as the exact instant would be (ge becomes gt, lt le),
 *   and eq/ne refuse one.
 * - Attribute names, operators, `and`/`or`/`not` and `true`/`false`/`null` are
 *   case-insensitive (RFC 7644 §3.10); debugContext keys are case-sensitive.
 * - Limits: at most MAX_LOG_FILTER_LENGTH characters and MAX_LOG_FILTER_DEPTH levels of
 *   parentheses and `not`.
 */

export const MAX_LOG_FILTER_LENGTH = 2000;
export const MAX_LOG_FILTER_DEPTH = 32;

export type ComparisonOperator = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";

export const LOG_FILTER_ATTRIBUTES = [
  "eventType",
  "severity",
  "displayMessage",
  "uuid",
  "published",
  "transactionId",
  "outcome.result",
  "outcome.reason",
  "actor.id",
  "actor.type",
  "actor.alternateId",
  "actor.displayName",
  "target.id",
  "target.type",
  "target.alternateId",
  "target.displayName",
  "client.ipAddress",
  "client.userAgent",
] as const;

export type FixedAttributePath = (typeof LOG_FILTER_ATTRIBUTES)[number];
export type DebugContextPath = `debugContext.${string}`;
export type AttributePath = FixedAttributePath | DebugContextPath;

export type FilterLiteral = string | number | boolean | null;

export interface LogicalNode {
  kind: "and" | "or";
  left: FilterNode;
  right: FilterNode;
}

export interface NotNode {
  kind: "not";
  operand: FilterNode;
}

export interface CompareNode {
  kind: "compare";
  path: AttributePath;
  op: ComparisonOperator;
  /** For `published`, parseLogFilter stores epoch milliseconds; an ISO-8601 string is accepted too. */
  value: FilterLiteral;
}

export interface PresentNode {
  kind: "present";
  path: AttributePath;
}

export type FilterNode = LogicalNode | NotNode | CompareNode | PresentNode;

export interface LogEventTargetShape {
  id: string;
  type: string;
  alternateId?: string | null;
  displayName?: string | null;
}

export interface LogEventShape {
  uuid: string;
  published: Date;
  eventType: string;
  severity: string;
  displayMessage: string;
  actor: { id: string; type: string; alternateId?: string | null; displayName?: string | null };
  target: readonly LogEventTargetShape[];
  outcome: { result: string; reason?: string | null };
  client?: { ipAddress?: string | null; userAgent?: string | null } | null;
  debugContext?: Record<string, unknown> | null;
  transactionId?: string | null;
}

export type SqlDialect = "sqlite" | "postgres";

export interface LogFilterSqlOptions {
  dialect: SqlDialect;
  /** Alias of `log_events` in the surrounding query. */
  alias: string;
  /** Prefix of the named parameters (`:f0`, `:f1`, ...); default "f". */
  paramPrefix?: string;
}

export interface CompiledLogFilter {
  where: string;
  parameters: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Attributes

type EventValue = string | number | null | undefined;

interface EventColumnAttribute {
  scope: "event";
  column: string;
  type: "text" | "timestamp";
  caseExact: boolean;
  nullable: boolean;
  read: (event: LogEventShape) => EventValue;
}

interface TargetColumnAttribute {
  scope: "target";
  column: string;
  type: "text";
  caseExact: boolean;
  nullable: boolean;
  read: (target: LogEventTargetShape) => EventValue;
}

interface DebugContextAttribute {
  scope: "debugContext";
  key: string;
}

type ResolvedAttribute = EventColumnAttribute | TargetColumnAttribute | DebugContextAttribute;

const eventText = (
  column: string,
  caseExact: boolean,
  nullable: boolean,
  read: (event: LogEventShape) => EventValue,
): EventColumnAttribute => ({ scope: "event", column, type: "text", caseExact, nullable, read });

const targetText = (
  column: string,
  caseExact: boolean,
  nullable: boolean,
  read: (target: LogEventTargetShape) => EventValue,
): TargetColumnAttribute => ({ scope: "target", column, type: "text", caseExact, nullable, read });

const COLUMN_ATTRIBUTES: Record<FixedAttributePath, EventColumnAttribute | TargetColumnAttribute> = {
  eventType: eventText("event_type", true, false, (e) => e.eventType),
  severity: eventText("severity", true, false, (e) => e.severity),
  displayMessage: eventText("display_message", false, false, (e) => e.displayMessage),
  uuid: eventText("uuid", true, false, (e) => e.uuid),
  published: {
    scope: "event",
    column: "published",
    type: "timestamp",
    caseExact: true,
    nullable: false,
    read: (e) => e.published.getTime(),
  },
  transactionId: eventText("transaction_id", true, true, (e) => e.transactionId),
  "outcome.result": eventText("outcome_result", true, false, (e) => e.outcome.result),
  "outcome.reason": eventText("outcome_reason", false, true, (e) => e.outcome.reason),
  "actor.id": eventText("actor_id", true, false, (e) => e.actor.id),
  "actor.type": eventText("actor_type", true, false, (e) => e.actor.type),
  "actor.alternateId": eventText("actor_alternate_id", false, true, (e) => e.actor.alternateId),
  "actor.displayName": eventText("actor_display_name", false, true, (e) => e.actor.displayName),
  "target.id": targetText("id", true, false, (t) => t.id),
  "target.type": targetText("type", true, false, (t) => t.type),
  "target.alternateId": targetText("alternate_id", false, true, (t) => t.alternateId),
  "target.displayName": targetText("display_name", false, true, (t) => t.displayName),
  "client.ipAddress": eventText("client_ip", false, true, (e) => e.client?.ipAddress),
  "client.userAgent": eventText("client_user_agent", false, true, (e) => e.client?.userAgent),
};

const DEBUG_CONTEXT_PREFIX = "debugContext.";
const DEBUG_CONTEXT_KEY = /^[A-Za-z0-9_]+$/;

const ATTRIBUTE_BY_LOWERCASE_NAME = new Map<string, FixedAttributePath>(LOG_FILTER_ATTRIBUTES.map((path) => [path.toLowerCase(), path]));

const ALLOWED_ATTRIBUTES_TEXT = [...LOG_FILTER_ATTRIBUTES, `${DEBUG_CONTEXT_PREFIX}<key>`].join(", ");

/** Attribute names are case-insensitive (RFC 7644 §3.10); debugContext keys are not. */
function canonicalAttributePath(name: string): AttributePath | undefined {
  const fixed = ATTRIBUTE_BY_LOWERCASE_NAME.get(name.toLowerCase());
  if (fixed) return fixed;
  const prefix = name.slice(0, DEBUG_CONTEXT_PREFIX.length);
  const key = name.slice(DEBUG_CONTEXT_PREFIX.length);
  if (prefix.toLowerCase() === DEBUG_CONTEXT_PREFIX.toLowerCase() && DEBUG_CONTEXT_KEY.test(key)) {
    return `${DEBUG_CONTEXT_PREFIX}${key}`;
  }
  return undefined;
}

function resolveAttribute(path: string): ResolvedAttribute | undefined {
  if (Object.hasOwn(COLUMN_ATTRIBUTES, path)) return COLUMN_ATTRIBUTES[path as FixedAttributePath];
  if (path.startsWith(DEBUG_CONTEXT_PREFIX)) {
    const key = path.slice(DEBUG_CONTEXT_PREFIX.length);
    if (DEBUG_CONTEXT_KEY.test(key)) return { scope: "debugContext", key };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Leaf plans: the single definition of what a comparison means, used by SQL and memory alike

type TextOperator = "eq" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
type OrderOperator = "eq" | "gt" | "ge" | "lt" | "le";

type LeafPredicate =
  | { test: "present" }
  /** `operand` is already lowercased when `foldCase`. */
  | { test: "text"; op: TextOperator; operand: string; foldCase: boolean }
  | { test: "number"; op: OrderOperator; operand: number }
  | { test: "boolean"; operand: boolean };

interface LeafPlan {
  attribute: ResolvedAttribute;
  predicate: LeafPredicate;
  negated: boolean;
}

interface LeafProblem {
  problem: string;
  at: "path" | "op" | "value";
  hint?: string;
}

const SUBSTRING_OPERATORS: ReadonlySet<ComparisonOperator> = new Set(["co", "sw", "ew"]);

function planLeaf(node: CompareNode | PresentNode): LeafPlan | LeafProblem {
  const attribute = resolveAttribute(node.path);
  if (!attribute) return { problem: `unknown attribute "${node.path}"`, at: "path" };
  if (node.kind === "present") return { attribute, predicate: { test: "present" }, negated: false };

  const { op, value, path } = node;
  if (value === null) {
    if (op !== "eq" && op !== "ne") return { problem: "null can only be compared with eq or ne", at: "value" };
    return { attribute, predicate: { test: "present" }, negated: op === "eq" };
  }

  const negated = op === "ne";
  const positiveOp: TextOperator = op === "ne" ? "eq" : op;
  const foldCase = attribute.scope !== "debugContext" && !attribute.caseExact;

  if (typeof value === "number" && !Number.isFinite(value)) return { problem: "number out of range", at: "value" };

  if (attribute.scope !== "debugContext" && attribute.type === "timestamp") {
    if (SUBSTRING_OPERATORS.has(op)) return { problem: `${op} is not supported on ${path}`, at: "op" };
    const epochMillis = typeof value === "string" ? parseIsoTimestamp(value) : value;
    if (typeof epochMillis !== "number") {
      return {
        problem: typeof value === "string" ? `invalid ISO-8601 timestamp "${value}"` : `${path} must be compared with a string`,
        at: "value",
        hint: 'Use a date such as "2024-01-31" or a date-time with a zone such as "2024-01-31T12:00:00.000Z"',
      };
    }
    return { attribute, predicate: { test: "number", op: positiveOp as OrderOperator, operand: epochMillis }, negated };
  }

  if (typeof value === "string") {
    const operand = foldCase ? asciiLowerCase(value) : value;
    return { attribute, predicate: { test: "text", op: positiveOp, operand, foldCase }, negated };
  }

  if (attribute.scope !== "debugContext") return { problem: `${path} must be compared with a string`, at: "value" };

  if (typeof value === "number") {
    if (SUBSTRING_OPERATORS.has(op)) return { problem: `${op} must be used with a string`, at: "value" };
    return { attribute, predicate: { test: "number", op: positiveOp as OrderOperator, operand: value }, negated };
  }

  if (positiveOp !== "eq") return { problem: "true and false can only be compared with eq or ne", at: "value" };
  return { attribute, predicate: { test: "boolean", operand: value }, negated };
}

function isProblem(plan: LeafPlan | LeafProblem): plan is LeafProblem {
  return "problem" in plan;
}

/** ASTs from parseLogFilter always plan; anything else is a caller bug, not bad user input. */
function planValidLeaf(node: CompareNode | PresentNode): LeafPlan {
  const plan = planLeaf(node);
  if (isProblem(plan)) throw new Error(`Invalid log filter AST: ${plan.problem}`);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface RawToken<T extends string = string> {
  text: T;
  offset: number;
}

interface RawLiteral {
  value: FilterLiteral;
  offset: number;
}

type RawNode =
  | { kind: "and" | "or"; left: RawNode; right: RawNode }
  | { kind: "not"; operand: RawNode }
  | { kind: "compare"; path: RawToken; op: RawToken<ComparisonOperator>; value: RawLiteral }
  | { kind: "present"; path: RawToken };

const logFilterParser = generate(LOG_FILTER_GRAMMAR, { output: "parser" });

/**
 * Parses a filter expression. Throws AppError BAD_FILTER with `{ position, reason }` (0-based
 * character offset) on any syntax or type error. An empty or blank filter is rejected too:
 * callers treat an empty filter as "no filter" and must not call this with one.
 */
export function parseLogFilter(text: string): FilterNode {
  if (text.length > MAX_LOG_FILTER_LENGTH) {
    throw filterError(MAX_LOG_FILTER_LENGTH, `filter longer than ${MAX_LOG_FILTER_LENGTH} characters`);
  }
  if (text.trim() === "") throw filterError(0, "empty filter");

  let raw: RawNode;
  try {
    raw = logFilterParser.parse(text, { maxDepth: MAX_LOG_FILTER_DEPTH }) as RawNode;
  } catch (error: unknown) {
    if (error instanceof logFilterParser.SyntaxError) throw syntaxErrorToAppError(error, text);
    throw error;
  }
  return resolveRawNode(raw);
}

function resolveRawNode(raw: RawNode): FilterNode {
  switch (raw.kind) {
    case "and":
    case "or":
      return { kind: raw.kind, left: resolveRawNode(raw.left), right: resolveRawNode(raw.right) };
    case "not":
      return { kind: "not", operand: resolveRawNode(raw.operand) };
    case "present": {
      const node: PresentNode = { kind: "present", path: resolvePath(raw.path) };
      checkLeaf(node, raw);
      return node;
    }
    case "compare": {
      if (typeof raw.value.value === "number" && canonicalAttributePath(raw.path.text) === "published") {
        throw filterError(raw.value.offset, "published must be compared with an ISO-8601 timestamp string");
      }
      const node: CompareNode = { kind: "compare", path: resolvePath(raw.path), op: raw.op.text, value: raw.value.value };
      const plan = checkLeaf(node, raw);
      const isTimestamp = plan.attribute.scope === "event" && plan.attribute.type === "timestamp";
      if (isTimestamp && plan.predicate.test === "number") {
        node.value = plan.predicate.operand;
        if (typeof raw.value.value === "string" && beyondMillisecond(raw.value.value)) {
          // Events are stamped to the millisecond, and the bound was cut down to its millisecond:
          // "at or after" it is after that millisecond, "before" it is at or before.
          if (node.op === "eq" || node.op === "ne") {
            throw filterError(raw.value.offset, "published is kept to the millisecond: eq and ne take at most 3 fractional digits");
          }
          if (node.op === "ge") node.op = "gt";
          else if (node.op === "lt") node.op = "le";
        }
      }
      return node;
    }
  }
}

function resolvePath(token: RawToken): AttributePath {
  const path = canonicalAttributePath(token.text);
  if (path) return path;
  throw filterError(
    token.offset,
    `unknown attribute "${token.text}"`,
    `Allowed attributes: ${ALLOWED_ATTRIBUTES_TEXT} (key: letters, digits and underscores)`,
  );
}

function checkLeaf(node: CompareNode | PresentNode, raw: Extract<RawNode, { kind: "compare" | "present" }>): LeafPlan {
  const plan = planLeaf(node);
  if (!isProblem(plan)) return plan;
  const offset = plan.at === "path" || raw.kind === "present" ? raw.path.offset : raw[plan.at].offset;
  throw filterError(offset, plan.problem, plan.hint);
}

function filterError(position: number, reason: string, detail?: string): AppError {
  const message = `Invalid filter at position ${position}: ${reason}${detail ? `. ${detail}` : ""}`;
  return new AppError(ErrorCode.BAD_FILTER, message, { position, reason });
}

function syntaxErrorToAppError(error: peggy.SyntaxError, text: string): AppError {
  const position = error.location.start.offset;
  if (!error.expected) return filterError(position, error.message);
  return filterError(position, `expected ${describeExpectations(error.expected)} but found ${describeFoundToken(text, position)}`);
}

function describeExpectations(expectations: readonly peggy.Expectation[]): string {
  const descriptions = new Set<string>();
  for (const expectation of expectations) {
    const description = describeExpectation(expectation);
    // Whitespace is allowed almost everywhere; listing it would only add noise.
    if (description !== "whitespace") descriptions.add(description);
  }
  const list = [...descriptions];
  if (list.length <= 2) return list.join(" or ");
  return `${list.slice(0, -1).join(", ")}, or ${list[list.length - 1]}`;
}

function describeExpectation(expectation: peggy.Expectation): string {
  switch (expectation.type) {
    case "literal":
      return JSON.stringify(expectation.text);
    case "other":
      return expectation.description;
    case "end":
      return "end of input";
    case "any":
      return "any character";
    case "class":
      return "character";
  }
}

/** The whole word at the error position reads better than the single character peggy reports. */
function describeFoundToken(text: string, position: number): string {
  if (position >= text.length) return "end of input";
  const word = /[A-Za-z0-9_.]+/y;
  word.lastIndex = position;
  const match = word.exec(text);
  if (match) return JSON.stringify(match[0].length > 32 ? `${match[0].slice(0, 32)}...` : match[0]);
  return JSON.stringify(String.fromCodePoint(text.codePointAt(position) ?? 0));
}

const ISO_TIMESTAMP =
  /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})(?:[Tt](?<hour>\d{2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:\.(?<fraction>\d{1,9}))?)?(?:[Zz]|(?<sign>[+-])(?<offsetHour>\d{2}):(?<offsetMinute>\d{2})))?$/;

/** Whether an ISO-8601 timestamp names an instant between two milliseconds (a non-zero digit past the third). */
function beyondMillisecond(text: string): boolean {
  return /[1-9]/.test(ISO_TIMESTAMP.exec(text)?.groups?.fraction?.slice(3) ?? "");
}

/** Epoch ms of an ISO-8601 date or zoned date-time, or undefined when it is not a real instant. */
function parseIsoTimestamp(text: string): number | undefined {
  const parts = ISO_TIMESTAMP.exec(text)?.groups;
  if (!parts) return undefined;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const hour = Number(parts.hour ?? 0);
  const minute = Number(parts.minute ?? 0);
  const second = Number(parts.second ?? 0);
  const millisecond = Number((parts.fraction ?? "").padEnd(3, "0").slice(0, 3));
  const offsetHour = Number(parts.offsetHour ?? 0);
  const offsetMinute = Number(parts.offsetMinute ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHour > 23 || offsetMinute > 59) return undefined;

  const instant = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  instant.setUTCFullYear(year, month - 1, day);
  instant.setUTCHours(hour, minute, second, millisecond);
  const offsetMillis = (offsetHour * 60 + offsetMinute) * 60_000 * (parts.sign === "-" ? -1 : 1);
  return instant.getTime() - offsetMillis;
}

function daysInMonth(year: number, month: number): number {
  const isLeapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, isLeapYear ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

// ---------------------------------------------------------------------------------------------
// SQL compilation

const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A trailing digit would let prefix "f1" + 10 collide with prefix "f" + 110 in one query.
const PARAMETER_PREFIX = /^[A-Za-z_](?:[A-Za-z0-9_]*[A-Za-z_])?$/;

const SQL_COMPARISON: Record<OrderOperator, string> = { eq: "=", gt: ">", ge: ">=", lt: "<", le: "<=" };

/**
 * Compiles to a where-fragment over `log_events <alias>` with named parameters only.
 * Throws Error (not AppError) for an invalid alias, prefix or hand-built AST: those are bugs.
 */
export function compileLogFilter(node: FilterNode, options: LogFilterSqlOptions): CompiledLogFilter {
  const paramPrefix = options.paramPrefix ?? "f";
  if (!SQL_IDENTIFIER.test(options.alias)) throw new Error(`Invalid SQL alias "${options.alias}"`);
  if (!PARAMETER_PREFIX.test(paramPrefix)) throw new Error(`Invalid parameter prefix "${paramPrefix}"`);
  const compiler = new LogFilterSqlCompiler(options.dialect, options.alias, paramPrefix);
  const where = compiler.compile(node);
  return { where, parameters: compiler.parameters };
}

class LogFilterSqlCompiler {
  readonly parameters: Record<string, unknown> = {};
  private parameterCount = 0;
  private targetAliasCount = 0;

  constructor(
    private readonly dialect: SqlDialect,
    private readonly alias: string,
    private readonly paramPrefix: string,
  ) {}

  compile(node: FilterNode): string {
    switch (node.kind) {
      case "and":
      case "or": {
        // Flattened so that long chains stay shallow for SQLite's parser stack.
        const operands = flattenChain(node).map((operand) => this.compile(operand));
        return `(${operands.join(node.kind === "and" ? " AND " : " OR ")})`;
      }
      case "not":
        return `NOT (${this.compile(node.operand)})`;
      case "compare":
      case "present":
        return this.leaf(planValidLeaf(node));
    }
  }

  private leaf(plan: LeafPlan): string {
    const { attribute, predicate, negated } = plan;
    const negate = (condition: string): string => (negated ? `NOT (${condition})` : condition);
    switch (attribute.scope) {
      case "event":
        return negate(this.columnCondition(`${this.alias}.${attribute.column}`, attribute.nullable, predicate));
      case "target": {
        const target = `t_${this.targetAliasCount++}`;
        const condition = this.columnCondition(`${target}.${attribute.column}`, attribute.nullable, predicate);
        return (
          `EXISTS (SELECT 1 FROM log_event_targets ${target} ` + `WHERE ${target}.event_uuid = ${this.alias}.uuid AND ${negate(condition)})`
        );
      }
      case "debugContext":
        return negate(this.debugContextCondition(attribute.key, predicate));
    }
  }

  private columnCondition(column: string, nullable: boolean, predicate: LeafPredicate): string {
    const guarded = (condition: string): string => (nullable ? `(${column} IS NOT NULL AND ${condition})` : condition);
    switch (predicate.test) {
      case "present":
        return `${column} IS NOT NULL`;
      case "text":
        return guarded(this.textCondition(column, predicate));
      case "number":
        return guarded(`${column} ${SQL_COMPARISON[predicate.op]} ${this.bind(predicate.operand)}`);
      case "boolean":
        throw new Error("Boolean comparison on a column attribute");
    }
  }

  /**
   * Every branch is wrapped in COALESCE(..., FALSE) because a missing key, a JSON null or a
   * value of another JSON type yields NULL, and NULL would break `not`.
   */
  private debugContextCondition(key: string, predicate: LeafPredicate): string {
    const json = this.debugContextAccess(key);
    switch (predicate.test) {
      case "present":
        return `COALESCE(${json.type} <> 'null', FALSE)`;
      case "text": {
        const text = `CASE WHEN ${json.type} = ${json.stringType} THEN ${json.text} END`;
        return `COALESCE(${this.textCondition(text, predicate)}, FALSE)`;
      }
      case "number": {
        // CASE, not AND: PostgreSQL does not promise to evaluate the type check before the cast.
        const number = `CASE WHEN ${json.type} IN (${json.numberTypes}) THEN ${json.number} END`;
        return `COALESCE(${number} ${SQL_COMPARISON[predicate.op]} ${this.bind(predicate.operand)}, FALSE)`;
      }
      case "boolean": {
        const literal = this.bind(predicate.operand ? "true" : "false");
        return this.dialect === "sqlite"
          ? `COALESCE(${json.type} = ${literal}, FALSE)`
          : `COALESCE(${json.type} = 'boolean' AND ${json.text} = ${literal}, FALSE)`;
      }
    }
  }

  /**
   * The key is inlined into a SQL string literal rather than bound: it has been validated
   * against [A-Za-z0-9_]+ (DEBUG_CONTEXT_KEY), so it cannot contain a quote, and a literal JSON
   * path keeps the expression stable for the planner.
   */
  private debugContextAccess(key: string): {
    type: string;
    text: string;
    number: string;
    stringType: string;
    numberTypes: string;
  } {
    const column = `${this.alias}.debug_context`;
    if (this.dialect === "sqlite") {
      const path = `'$."${key}"'`;
      return {
        type: `json_type(${column}, ${path})`,
        text: `json_extract(${column}, ${path})`,
        number: `CAST(json_extract(${column}, ${path}) AS REAL)`,
        stringType: "'text'",
        numberTypes: "'integer', 'real'",
      };
    }
    // The cast is free on a jsonb column and lets the same SQL read JSON kept as text.
    const document = `CAST(${column} AS jsonb)`;
    return {
      type: `jsonb_typeof(${document} -> '${key}')`,
      text: `(${document} ->> '${key}')`,
      // double precision rather than numeric: the same IEEE-754 doubles as SQLite REAL and JS.
      number: `CAST(${document} ->> '${key}' AS double precision)`,
      stringType: "'string'",
      numberTypes: "'number'",
    };
  }

  private textCondition(value: string, predicate: Extract<LeafPredicate, { test: "text" }>): string {
    const postgres = this.dialect === "postgres";
    // COLLATE "C" makes PostgreSQL's lower() ASCII-only, as SQLite's is, and orders by code point.
    const subject = predicate.foldCase ? (postgres ? `lower(${value} COLLATE "C")` : `lower(${value})`) : value;
    const { op, operand } = predicate;
    switch (op) {
      case "eq":
        return `${subject} = ${this.bind(operand)}`;
      case "gt":
      case "ge":
      case "lt":
      case "le":
        return `${postgres ? `${subject} COLLATE "C"` : subject} ${SQL_COMPARISON[op]} ${this.bind(operand)}`;
      case "co":
      case "sw":
      case "ew":
        // SQLite's LIKE ignores ASCII case, so case-exact matching there needs GLOB.
        if (!postgres && !predicate.foldCase) return `${subject} GLOB ${this.bind(globPattern(op, operand))}`;
        return `${subject} LIKE ${this.bind(likePattern(op, operand))} ESCAPE '\\'`;
    }
  }

  private bind(value: string | number): string {
    const name = `${this.paramPrefix}${this.parameterCount++}`;
    this.parameters[name] = value;
    return `:${name}`;
  }
}

function flattenChain(node: LogicalNode): FilterNode[] {
  const operands: FilterNode[] = [];
  const pending: FilterNode[] = [node];
  for (let current = pending.pop(); current; current = pending.pop()) {
    if (current.kind === node.kind) pending.push(current.right, current.left);
    else operands.push(current);
  }
  return operands;
}

function likePattern(op: "co" | "sw" | "ew", literal: string): string {
  const escaped = literal.replace(/[\\%_]/g, "\\$&");
  return `${op === "sw" ? "" : "%"}${escaped}${op === "ew" ? "" : "%"}`;
}

function globPattern(op: "co" | "sw" | "ew", literal: string): string {
  const escaped = literal.replace(/[*?[]/g, "[$&]");
  return `${op === "sw" ? "" : "*"}${escaped}${op === "ew" ? "" : "*"}`;
}

// ---------------------------------------------------------------------------------------------
// In-memory evaluation

/** A JSON value as stored: scalars, null for absent, or an object/array (only `pr` matches it). */
type StoredValue = string | number | boolean | null | object;

export function matchesLogFilter(node: FilterNode, event: LogEventShape): boolean {
  switch (node.kind) {
    case "and":
      return matchesLogFilter(node.left, event) && matchesLogFilter(node.right, event);
    case "or":
      return matchesLogFilter(node.left, event) || matchesLogFilter(node.right, event);
    case "not":
      return !matchesLogFilter(node.operand, event);
    case "compare":
    case "present":
      return matchesLeaf(planValidLeaf(node), event);
  }
}

function matchesLeaf(plan: LeafPlan, event: LogEventShape): boolean {
  const { attribute, predicate, negated } = plan;
  const holds = (value: StoredValue): boolean => satisfies(predicate, value) !== negated;
  switch (attribute.scope) {
    case "event":
      return holds(attribute.read(event) ?? null);
    case "target":
      return event.target.some((target) => holds(attribute.read(target) ?? null));
    case "debugContext":
      return holds(debugContextValue(event.debugContext, attribute.key));
  }
}

function satisfies(predicate: LeafPredicate, value: StoredValue): boolean {
  switch (predicate.test) {
    case "present":
      return value !== null;
    case "text":
      return typeof value === "string" && textSatisfies(predicate, value);
    case "number":
      return typeof value === "number" && orderSatisfies(predicate.op, compareNumbers(value, predicate.operand));
    case "boolean":
      return value === predicate.operand;
  }
}

function textSatisfies(predicate: Extract<LeafPredicate, { test: "text" }>, value: string): boolean {
  const subject = predicate.foldCase ? asciiLowerCase(value) : value;
  const { op, operand } = predicate;
  switch (op) {
    case "co":
      return subject.includes(operand);
    case "sw":
      return subject.startsWith(operand);
    case "ew":
      return subject.endsWith(operand);
    default:
      return orderSatisfies(op, compareByCodePoint(subject, operand));
  }
}

function orderSatisfies(op: OrderOperator, difference: number): boolean {
  switch (op) {
    case "eq":
      return difference === 0;
    case "gt":
      return difference > 0;
    case "ge":
      return difference >= 0;
    case "lt":
      return difference < 0;
    case "le":
      return difference <= 0;
  }
}

/** Mirrors JSON.stringify, which is how debugContext is stored, so memory sees what SQL sees. */
function debugContextValue(context: Record<string, unknown> | null | undefined, key: string): StoredValue {
  if (!context || !Object.hasOwn(context, key)) return null;
  let value = context[key];
  if (typeof value === "object" && value !== null && "toJSON" in value && typeof value.toJSON === "function") {
    value = (value.toJSON as (key: string) => unknown)(key);
  }
  switch (typeof value) {
    case "string":
    case "boolean":
    case "object":
      return value;
    case "number":
      return Number.isFinite(value) ? value : null;
    default:
      return null;
  }
}

function compareNumbers(left: number, right: number): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** SQLite's lower() and PostgreSQL's lower(... COLLATE "C") only fold ASCII. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * Orders like UTF-8 bytes (SQLite BINARY, PostgreSQL "C"), i.e. by code point. Plain UTF-16
 * comparison puts U+E000..U+FFFF after astral characters; shifting the code units fixes that.
 */
function compareByCodePoint(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const leftUnit = left.charCodeAt(index);
    const rightUnit = right.charCodeAt(index);
    if (leftUnit !== rightUnit) return codePointOrderKey(leftUnit) - codePointOrderKey(rightUnit);
  }
  return left.length - right.length;
}

function codePointOrderKey(codeUnit: number): number {
  if (codeUnit >= 0xd800 && codeUnit <= 0xdfff) return codeUnit + 0x2000;
  if (codeUnit >= 0xe000) return codeUnit - 0x800;
  return codeUnit;
}
