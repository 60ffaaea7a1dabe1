/**
 * Peggy grammar of the System Log `filter` language (Okta / SCIM RFC 7644 §3.4.2.2 style).
 *
 * It is a TS constant rather than a .peggy file so that `tsc` carries it into dist/ and the
 * parser can be generated once at module load without reading files at runtime.
 *
 * The grammar is purely syntactic: it yields a raw tree whose leaves keep the source offsets
 * of their attribute, operator and literal, and src/log/filter.ts resolves attribute names
 * and type-checks literals so that those errors can point at the offending token.
 *
 * Keywords are rules named after their quoted spelling so that a near miss such as `eqx`
 * reports every keyword expected at that position, not just the ones peggy tried last.
 *
 * Parse options: `maxDepth` (number) bounds nesting of parentheses and `not`. The counter is
 * checked while descending, so a hostile filter fails at the first level too deep instead of
 * recursing until the stack overflows. Each `enter()` is paired with exactly one `leave()`
 * whether or not the nested expression matched (hence the optional-then-check shape of Group
 * and Negation), so backtracking cannot leave the counter inflated.
 */
export const LOG_FILTER_GRAMMAR = String.raw`
{
  const maxDepth = options.maxDepth;
  let depth = 0;

  function enter() {
    depth += 1;
    if (depth > maxDepth) {
      error("nesting deeper than " + maxDepth + " levels", location());
    }
  }

  function leave() {
    depth -= 1;
  }

  function chain(kind, head, tail) {
    return tail.reduce((left, right) => ({ kind, left, right }), head);
  }
}

Filter
  = _ @Or _

Or
  = head:And tail:(_ OrKeyword _ @And)* { return chain("or", head, tail); }

And
  = head:Unary tail:(_ AndKeyword _ @Unary)* { return chain("and", head, tail); }

Unary
  = Negation
  / !NotKeyword @Primary

Negation
  = NotOpening operand:(_ @Unary)? &{ leave(); return operand !== null; } { return { kind: "not", operand }; }

NotOpening
  = NotKeyword { enter(); }

Primary
  = Group
  / Comparison

Group
  = GroupOpening inner:(_ @Or _ ")")? &{ leave(); return inner !== null; } { return inner; }

GroupOpening
  = "(" { enter(); }

Comparison
  = path:AttributePath _ op:ComparisonOperator _ value:Literal { return { kind: "compare", path, op, value }; }
  / path:AttributePath _ PresentOperator { return { kind: "present", path }; }

AttributePath "attribute"
  = [A-Za-z_] [A-Za-z0-9_]* ("." [A-Za-z0-9_]+)* { return { text: text(), offset: offset() }; }

ComparisonOperator
  = op:(Eq / Ne / Co / Sw / Ew / Gt / Ge / Lt / Le) { return { text: op, offset: offset() }; }

Eq '"eq"' = "eq"i !WordCharacter { return "eq"; }
Ne '"ne"' = "ne"i !WordCharacter { return "ne"; }
Co '"co"' = "co"i !WordCharacter { return "co"; }
Sw '"sw"' = "sw"i !WordCharacter { return "sw"; }
Ew '"ew"' = "ew"i !WordCharacter { return "ew"; }
Gt '"gt"' = "gt"i !WordCharacter { return "gt"; }
Ge '"ge"' = "ge"i !WordCharacter { return "ge"; }
Lt '"lt"' = "lt"i !WordCharacter { return "lt"; }
Le '"le"' = "le"i !WordCharacter { return "le"; }

PresentOperator '"pr"'
  = "pr"i !WordCharacter

Literal
  = value:(StringLiteral / NumberLiteral / BooleanLiteral / NullLiteral) { return { value, offset: offset() }; }

StringLiteral
  = open:OpeningQuote characters:StringCharacter* ('"' / !. { error("unterminated string literal", open); }) {
      return characters.join("");
    }

OpeningQuote "string"
  = '"' { return location(); }

StringCharacter
  = [^"\\]
  / "\\" @(EscapeSequence / UnicodeEscape)

EscapeSequence "escape sequence"
  = '"'
  / "\\"
  / "/"
  / "b" { return "\b"; }
  / "f" { return "\f"; }
  / "n" { return "\n"; }
  / "r" { return "\r"; }
  / "t" { return "\t"; }

UnicodeEscape
  = UnicodeEscapeMarker digits:$(HexDigit HexDigit HexDigit HexDigit) {
      const code = parseInt(digits, 16);
      // No event holds U+0000 (PostgreSQL's text cannot), and SQLite's LIKE would stop reading the pattern there.
      if (code === 0) error("the NUL character (\\u0000) is not allowed", location());
      return String.fromCharCode(code);
    }

UnicodeEscapeMarker "escape sequence"
  = "u"

HexDigit "hex digit"
  = [0-9A-Fa-f]

NumberLiteral "number"
  = "-"? [0-9]+ ("." [0-9]+)? ([eE] [+-]? [0-9]+)? !WordCharacter { return Number(text()); }

BooleanLiteral
  = TrueKeyword { return true; }
  / FalseKeyword { return false; }

NullLiteral
  = NullKeyword { return null; }

TrueKeyword '"true"' = "true"i !WordCharacter
FalseKeyword '"false"' = "false"i !WordCharacter
NullKeyword '"null"' = "null"i !WordCharacter
AndKeyword '"and"' = "and"i !WordCharacter
OrKeyword '"or"' = "or"i !WordCharacter
NotKeyword '"not"' = "not"i !WordCharacter

WordCharacter
  = [A-Za-z0-9_]

_ "whitespace"
  = [ \t\r\n]*
`;
