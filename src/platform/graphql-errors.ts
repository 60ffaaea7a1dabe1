import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, Kind, parse, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { writtenArgumentPath } from "./argument-path";
import { AppError, ErrorCode } from "./errors";

/** Apollo's own codes for requests that never reached a resolver: all malformed input to a client. */
const MALFORMED_REQUEST_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));

export const INTERNAL_MESSAGE = "Internal server error";

/**
 * Maps every error to a code of errors.md. What is not ours, and not a malformed request, is
 * an INTERNAL error whose message says nothing of the internals; the request id (added when
 * the response is sent) ties it to the server log, where the cause is written.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  // Refusals by our validation rules (query limits) reach us inside Apollo's ValidationError.
  const original = unwrapped instanceof GraphQLError && unwrapped.originalError instanceof AppError ? unwrapped.originalError : unwrapped;
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };

  if (original instanceof AppError) {
    const { http: _http, ...extensions } = original.extensions as Record<string, unknown>;
    return { ...base, message: original.message, extensions };
  }
  if (original instanceof ArgumentValidationError) {
    const first = original.extensions.validationErrors?.[0];
    const field = first ? argumentPath(error, pathOf(first)) : "input";
    const reason = first ? Object.values(first.constraints ?? {})[0] ?? "invalid value" : "invalid value";
    return { ...base, message: `Invalid value for ${field}: ${reason}`, extensions: { code: ErrorCode.BAD_USER_INPUT, field, reason } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && MALFORMED_REQUEST_CODES.has(code)) {
    // Apollo's BAD_REQUEST is about the body around the document: a batch, no query, variables not an object.
    const field = variablePath(formatted.message) ?? literalPath(unwrapped, formatted.message) ?? (code === "BAD_REQUEST" ? BODY_FIELD : DOCUMENT_FIELD);
    return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT, field, reason: formatted.message } };
  }
  if (typeof code === "string" && CONTRACT_CODES.has(code) && code !== ErrorCode.INTERNAL) {
    return { ...base, extensions: { ...formatted.extensions } };
  }
  return { message: INTERNAL_MESSAGE, locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL } };
}

interface ValidationErrorLike {
  property: string;
  children?: ValidationErrorLike[];
  constraints?: Record<string, string>;
}

/** Written as graphql-js writes a variable's path, and as our services name fields: `rules[0].name`. */
function pathOf(error: ValidationErrorLike): string {
  let path = error.property;
  let node = error;
  while (!node.constraints && node.children?.length) {
    node = node.children[0]!;
    path += /^\d+$/.test(node.property) ? `[${node.property}]` : `.${node.property}`;
  }
  return path;
}

/**
 * class-validator names a field from inside the argument it checks ("rules[0].name"); errors.md
 * names it from the field's arguments ("input.rules[0].name"). Flat arguments (`logs(since:)`)
 * are named by themselves; anything else is inside `input`, as every input object of the schema is.
 */
function argumentPath(error: unknown, path: string): string {
  const node = error instanceof GraphQLError ? error.nodes?.[0] : undefined;
  const argumentNames = node?.kind === Kind.FIELD ? (node.arguments ?? []).map((argument) => argument.name.value) : [];
  const head = path.split(/[.[]/)[0]!;
  return !argumentNames.includes(head) && argumentNames.includes("input") ? `input.${path}` : path;
}

/**
 * graphql-js names a variable it could not coerce only in its message: `Variable "$input" got
 * invalid value 5 at "input.login"; ...` or `Variable "$id" of required type "ID!" was not
 * provided.`, and names a field an input object lacks or does not know after the path. The path
 * is the variable's, so it is the argument's whenever the variable is named after its argument,
 * as generated clients name them. The inspected value comes first and writes its quotes escaped,
 * so it cannot pass for a path.
 */
function variablePath(message: string): string | undefined {
  const variable = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/.exec(message)?.[1];
  if (!variable) return undefined;
  const at = new RegExp(` at "(${variable}(?:\\.[_A-Za-z][_0-9A-Za-z]*|\\[\\d+\\])*)"; `).exec(message);
  const path = at?.[1] ?? variable;
  // A field missing from, or unknown to, an input object is named in the reason, not the path.
  const field = /; Field "([_A-Za-z][_0-9A-Za-z]*)" (?:of required type|is not defined by type)/.exec(message)?.[1];
  return field ? `${path}.${field}` : path;
}

/** What `field` names when the document itself is at fault (it does not parse, or asks for a field there is not), not one of its arguments. */
export const DOCUMENT_FIELD = "query";
/** What `field` names when the request's body is at fault: not JSON, too large, a batch, no query. */
export const BODY_FIELD = "body";

/**
 * An argument written in the document, not passed as a variable, is named by graphql-js only by
 * its place in the document (`String cannot represent a non string value: 5`): its path is read
 * from the document, from the argument down to the value refused. A required argument left out
 * is named in the message, as is a field an input object lacks.
 */
function literalPath(error: unknown, message: string): string | undefined {
  const missingArgument = /^Field "[^"]+" argument "([_A-Za-z][_0-9A-Za-z]*)" of type "[^"]+" is required/.exec(message)?.[1];
  if (missingArgument) return missingArgument;
  const target = error instanceof GraphQLError ? error.nodes?.[0] : undefined;
  if (!target?.loc) return undefined;
  let path: string | undefined;
  try {
    path = writtenArgumentPath(parse(target.loc.source), target);
  } catch {
    return undefined;
  }
  const lacking = /^Field "[_A-Za-z][_0-9A-Za-z]*\.([_A-Za-z][_0-9A-Za-z]*)" of required type "[^"]+" was not provided/.exec(message)?.[1];
  return path && lacking ? `${path}.${lacking}` : path;
}

export function isInternal(error: GraphQLFormattedError): boolean {
  return error.extensions?.code === ErrorCode.INTERNAL;
}
