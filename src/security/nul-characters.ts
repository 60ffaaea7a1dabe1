import { BREAK, Kind, visit, type ASTNode, type DocumentNode } from "graphql";
import { AppError, ErrorCode } from "../platform/errors";

const NUL = "\u0000";
const REASON = "must not contain the NUL character (U+0000)";

/**
 * U+0000 in any string a request hands in, as a literal or in its variables. PostgreSQL cannot
 * store it in text (a request failed INTERNAL deep inside a write), SQLite would, and no login,
 * number, name or filter has a use for it: it is refused up front, alike on both engines.
 */
export class NulCharacters {
  /** Per document, the literal that holds one ("" for none): clients send the same few documents. */
  private readonly literals = new WeakMap<DocumentNode, string>();

  errorFor(document: DocumentNode, variables: Readonly<Record<string, unknown>> | null | undefined): AppError | null {
    let literal = this.literals.get(document);
    if (literal === undefined) {
      literal = literalWithNul(document) ?? "";
      this.literals.set(document, literal);
    }
    if (literal) return refusal(literal);
    const variable = variables ? valueWithNul(variables) : null;
    return variable === null ? null : refusal(variable);
  }
}

/** The whole request is refused before it runs: HTTP 400, as Apollo answers variables that do not coerce. */
function refusal(field: string): AppError {
  return new AppError(ErrorCode.BAD_USER_INPUT, `Invalid value for ${field}: ${REASON}`, { field, reason: REASON, http: { status: 400 } });
}

/** The argument path ("input.login") of the first string literal holding U+0000, or null. */
function literalWithNul(document: DocumentNode): string | null {
  let found: string | null = null;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (!node.value.includes(NUL)) return undefined;
      const names: string[] = [];
      for (const ancestor of [...ancestors, parent]) {
        if (!ancestor || Array.isArray(ancestor)) continue;
        const astNode = ancestor as ASTNode;
        if (astNode.kind === Kind.ARGUMENT || astNode.kind === Kind.OBJECT_FIELD) names.push(astNode.name.value);
      }
      found = names.join(".") || "query";
      return BREAK;
    },
  });
  return found;
}

/**
 * The path ("input.login", "numbers[2]") of the first string holding U+0000 in the variables, or
 * null. Walked with a stack of its own: the JSON a client sends may nest deeper than the call stack.
 */
function valueWithNul(variables: Readonly<Record<string, unknown>>): string | null {
  const pending: Array<[unknown, string]> = Object.entries(variables).map(([name, value]) => [value, name]);
  while (pending.length) {
    const [value, path] = pending.pop()!;
    if (typeof value === "string") {
      if (value.includes(NUL)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([item, `${path}[${index}]`]));
    } else if (value !== null && typeof value === "object") {
      for (const [name, item] of Object.entries(value)) pending.push([item, `${path}.${name}`]);
    }
  }
  return null;
}
