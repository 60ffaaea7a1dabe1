import { AppError, ErrorCode, badInput } from "../platform/errors";
import { SINGLE_SEGMENT_LIMIT, analyseSms, type SmsAnalysis } from "./segments";

/**
 * The whole template language: `${code}` and `${org.name}`, written exactly so (no spaces,
 * case-sensitive). Anything else between `${` and `}` is an error rather than literal text,
 * so that a typo never reaches a user's phone.
 */
export const TemplateVariable = {
  CODE: "code",
  ORG_NAME: "org.name",
} as const;
export type TemplateVariable = (typeof TemplateVariable)[keyof typeof TemplateVariable];

/** `extensions.reason` of TEMPLATE_INVALID. */
export const TemplateInvalidReason = {
  MISSING_CODE: "MISSING_CODE",
  UNKNOWN_VARIABLE: "UNKNOWN_VARIABLE",
  UNBALANCED_PLACEHOLDER: "UNBALANCED_PLACEHOLDER",
} as const;
export type TemplateInvalidReason = (typeof TemplateInvalidReason)[keyof typeof TemplateInvalidReason];

export interface TemplateValidationOptions {
  orgName: string;
  /** The longest code the phone authenticator may issue; the template must fit with it. */
  maxCodeLength: number;
  /** When set (non-empty), every SMS ends with the origin-bound line, which must fit too. */
  originDomain?: string | null;
}

export interface RenderSmsOptions {
  code: string;
  orgName: string;
  originDomain?: string | null;
}

interface Placeholder {
  name: string;
  start: number;
  /** Exclusive. */
  end: number;
}

interface ScannedTemplate {
  placeholders: Placeholder[];
  /** Where the first `${` without its own `}` starts, if any. */
  unbalancedAt: number | null;
}

const KNOWN_VARIABLES: ReadonlySet<string> = new Set(Object.values(TemplateVariable));

/**
 * A host as the origin-bound line may carry it: ASCII labels only (an IDN goes in its
 * punycode form), no scheme, port or path, since the line's parsers take the host up to the
 * first whitespace and Chrome's accepts only [A-Za-z0-9.-].
 */
const ORIGIN_HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Whether a domain may end an SMS as its origin line (WebOTP's `@host`): one rule, for the config check at start and for every SMS. */
export function isOriginHost(originDomain: string): boolean {
  return ORIGIN_HOST.test(originDomain);
}

/** The variables a template names, distinct, in order of first appearance, known or not. */
export function templateVariables(template: string): string[] {
  return [...new Set(scanTemplate(template).placeholders.map((placeholder) => placeholder.name))];
}

/**
 * Checks a template an admin is saving and returns the analysis of its worst case: rendered
 * for this org with the longest code (and the origin-bound line when the org binds codes to
 * its domain). That worst case must fit one segment, so every code costs exactly one SMS.
 */
export function validateTemplate(template: string, options: TemplateValidationOptions): SmsAnalysis {
  assertWellFormed(template);
  if (!Number.isInteger(options.maxCodeLength) || options.maxCodeLength < 1) {
    throw new RangeError(`maxCodeLength must be a positive integer, got ${options.maxCodeLength}`);
  }

  const longestCode = Array.from({ length: options.maxCodeLength }, (_, index) => String(index % 10)).join("");
  const worstCase = analyseSms(
    renderSms(template, { code: longestCode, orgName: options.orgName, originDomain: options.originDomain }),
  );

  const limit = SINGLE_SEGMENT_LIMIT[worstCase.encoding];
  if (worstCase.characters > limit) {
    throw new AppError(ErrorCode.TEMPLATE_TOO_LONG, tooLongMessage(worstCase, limit, options), {
      encoding: worstCase.encoding,
      characters: worstCase.characters,
      limit,
    });
  }
  return worstCase;
}

/**
 * The SMS body for one code. Substitution is a single pass over the template, so an org name
 * that itself contains `${code}` stays literal text.
 *
 * With `originDomain`, a last line `@<domain> #<code>` binds the code to the site (WICG
 * "Origin-bound one-time codes delivered via SMS", read by WebOTP and by iOS/macOS autofill).
 * The spec parses only the last line and calls everything above it explanatory text; the
 * blank line in its examples is not required, so one newline is used to save a character.
 *
 * Length is not checked here: a template saved before length validation (a legacy one) must
 * still send, as a concatenated SMS.
 */
export function renderSms(template: string, options: RenderSmsOptions): string {
  const { placeholders } = assertWellFormed(template);
  const values: Record<TemplateVariable, string> = { code: options.code, "org.name": options.orgName };

  let body = "";
  let cursor = 0;
  for (const { name, start, end } of placeholders) {
    body += template.slice(cursor, start) + (isTemplateVariable(name) ? values[name] : template.slice(start, end));
    cursor = end;
  }
  body += template.slice(cursor);

  if (!options.originDomain) return body;
  assertOriginHost(options.originDomain);
  return `${body}\n@${options.originDomain} #${options.code}`;
}

function scanTemplate(template: string): ScannedTemplate {
  const placeholders: Placeholder[] = [];
  let unbalancedAt: number | null = null;
  let cursor = 0;
  for (;;) {
    const start = template.indexOf("${", cursor);
    if (start === -1) break;
    const close = template.indexOf("}", start + 2);
    const nextOpen = template.indexOf("${", start + 2);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      unbalancedAt ??= start;
      cursor = start + 2;
      continue;
    }
    placeholders.push({ name: template.slice(start + 2, close), start, end: close + 1 });
    cursor = close + 1;
  }
  return { placeholders, unbalancedAt };
}

function assertWellFormed(template: string): ScannedTemplate {
  const scanned = scanTemplate(template);
  if (scanned.unbalancedAt !== null) {
    throw templateInvalid(
      TemplateInvalidReason.UNBALANCED_PLACEHOLDER,
      `The template opens a variable with "\${" at position ${scanned.unbalancedAt} but never closes it with "}".`,
    );
  }
  const unknown = scanned.placeholders.find((placeholder) => !isTemplateVariable(placeholder.name));
  if (unknown) {
    throw templateInvalid(
      TemplateInvalidReason.UNKNOWN_VARIABLE,
      `The template uses the unknown variable "\${${unknown.name}}"; only \${code} and \${org.name} exist, written without spaces.`,
    );
  }
  if (!scanned.placeholders.some((placeholder) => placeholder.name === TemplateVariable.CODE)) {
    throw templateInvalid(TemplateInvalidReason.MISSING_CODE, "The template must contain ${code}.");
  }
  return scanned;
}

function isTemplateVariable(name: string): name is TemplateVariable {
  return KNOWN_VARIABLES.has(name);
}

function assertOriginHost(originDomain: string): void {
  if (!isOriginHost(originDomain)) {
    throw badInput("originDomain", "must be a bare ASCII host name such as login.example.com");
  }
}

function templateInvalid(reason: TemplateInvalidReason, message: string): AppError {
  return new AppError(ErrorCode.TEMPLATE_INVALID, message, { reason });
}

function tooLongMessage(worstCase: SmsAnalysis, limit: number, options: TemplateValidationOptions): string {
  const renderedWith = options.originDomain
    ? `a ${options.maxCodeLength}-digit code and the origin-bound line`
    : `a ${options.maxCodeLength}-digit code`;
  const encodingName = worstCase.encoding === "GSM_7" ? "GSM-7" : "UCS-2";
  let message =
    `The message is ${worstCase.characters} characters (${encodingName}) when rendered with ${renderedWith}; ` +
    `one SMS holds ${limit}.`;
  if (worstCase.nonGsmCharacters.length > 0) {
    const forcing = worstCase.nonGsmCharacters.map(describeCharacter).join(", ");
    message +=
      ` These characters are outside the GSM-7 alphabet and force UCS-2: ${forcing}.` +
      ` Without them one SMS holds ${SINGLE_SEGMENT_LIMIT.GSM_7}.`;
  }
  return message;
}

/** Shows the code points too, since many of these (’, a no-break space) look like GSM-7 ones. */
function describeCharacter(character: string): string {
  const codePoints = [...character].map(
    (codePoint) => `U+${(codePoint.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`,
  );
  return `"${character}" (${codePoints.join(" ")})`;
}
