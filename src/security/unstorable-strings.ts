import { BREAK, visit, type DocumentNode } from "graphql";
import { writtenArgumentPath } from "../platform/argument-path";
import { AppError, ErrorCode } from "../platform/errors";
import { DOCUMENT_FIELD } from "../platform/graphql-errors";

const NUL = "\u0000";
const NUL_REASON = "must not contain the NUL character (U+0000)";
const SURROGATE_REASON = "must be well-formed Unicode (no lone surrogate such as \\ud800)";

/**
 * Strings a request hands in, as literals or in its variables, that cannot be stored alike on
 * both engines. PostgreSQL cannot store U+0000 in text (a request failed INTERNAL deep inside a
 * write), SQLite would. A lone UTF-16 surrogate is stored, but PostgreSQL then refuses the JSON
 * holding it: one sign-in with such a client id broke every System Log filter on debugContext.
 * No login, number, name or filter has a use for either: they are refused up front.
 */
export class UnstorableStrings {
  /** Per document, the literal that holds one ("" for none): clients send the same few documents. */
  private readonly literals = new WeakMap<DocumentNode, string>();

  errorFor(document: DocumentNode, variables: Readonly<Record<string, unknown>> | null | undefined): AppError | null {
    let literal = this.literals.get(document);
    if (literal === undefined) {
      literal = literalWithNul(document) ?? "";
      this.literals.set(document, literal);
    }
    if (literal) return refusal(literal);
    const variable = variables ? unstorableValue(variables) : null;
    return variable === null ? null : refusal(variable.path, variable.reason);
  }
}

/** The whole request is refused before it runs: HTTP 400, as Apollo answers variables that do not coerce. */
function refusal(field: string, reason = NUL_REASON): AppError {
  return new AppError(ErrorCode.BAD_USER_INPUT, `Invalid value for ${field}: ${reason}`, { field, reason, http: { status: 400 } });
}

/** Why a string cannot be stored, or null when it can. */
function unstorable(value: string): string | null {
  if (value.includes(NUL)) return NUL_REASON;
  return value.isWellFormed() ? null : SURROGATE_REASON;
}

/** The argument path ("input.login") of the first string literal holding U+0000, or null (graphql's parser refuses lone surrogates). */
function literalWithNul(document: DocumentNode): string | null {
  let found: string | null = null;
  visit(document, {
    StringValue(node) {
      if (!node.value.includes(NUL)) return undefined;
      found = writtenArgumentPath(document, node) ?? DOCUMENT_FIELD;
      return BREAK;
    },
  });
  return found;
}

/**
 * The path ("input.login", "numbers[2]") of the first string in the variables that cannot be
 * stored, and why, or null. Walked with a stack of its own: the JSON a client sends may nest
 * deeper than the call stack.
 */
function unstorableValue(variables: Readonly<Record<string, unknown>>): { path: string; reason: string } | null {
  const pending: Array<[unknown, string]> = Object.entries(variables).map(([name, value]) => [value, name]);
  while (pending.length) {
    const [value, path] = pending.pop()!;
    if (typeof value === "string") {
      const reason = unstorable(value);
      if (reason) return { path, reason };
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([item, `${path}[${index}]`]));
    } else if (value !== null && typeof value === "object") {
      for (const [name, item] of Object.entries(value)) pending.push([item, `${path}.${name}`]);
    }
  }
  return null;
}
