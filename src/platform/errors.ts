import { GraphQLError } from "graphql";

/**
 * The closed set of error codes of the public contract (../shared/contract/errors.md).
 * Clients branch on these, never on the message.
 */
export const ErrorCode = {
  BAD_USER_INPUT: "BAD_USER_INPUT",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INVALID_PHONE_NUMBER: "INVALID_PHONE_NUMBER",
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  INVALID_CODE: "INVALID_CODE",
  CODE_EXPIRED: "CODE_EXPIRED",
  TOO_MANY_ATTEMPTS: "TOO_MANY_ATTEMPTS",
  RESEND_TOO_SOON: "RESEND_TOO_SOON",
  TOO_MANY_RESENDS: "TOO_MANY_RESENDS",
  RATE_LIMITED: "RATE_LIMITED",
  NUMBER_BLOCKED: "NUMBER_BLOCKED",
  TRANSACTION_EXPIRED: "TRANSACTION_EXPIRED",
  INVALID_TRANSITION: "INVALID_TRANSITION",
  INVALID_CREDENTIALS: "INVALID_CREDENTIALS",
  LOCKED_OUT: "LOCKED_OUT",
  PASSWORD_POLICY: "PASSWORD_POLICY",
  TEMPLATE_TOO_LONG: "TEMPLATE_TOO_LONG",
  TEMPLATE_INVALID: "TEMPLATE_INVALID",
  BAD_FILTER: "BAD_FILTER",
  QUERY_TOO_COMPLEX: "QUERY_TOO_COMPLEX",
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Delivery failure codes: `Message.errorCode` and `debugContext.errorCode` of receive_status events. */
export const DeliveryErrorCode = {
  PROVIDER_UNREACHABLE: "PROVIDER_UNREACHABLE",
  NUMBER_INACTIVE: "NUMBER_INACTIVE",
  COUNTRY_UNSUPPORTED: "COUNTRY_UNSUPPORTED",
  TIMEOUT: "TIMEOUT",
  BLOCKED_SUSPICIOUS: "BLOCKED_SUSPICIOUS",
  PROVIDER_REJECTED: "PROVIDER_REJECTED",
} as const;
export type DeliveryErrorCode = (typeof DeliveryErrorCode)[keyof typeof DeliveryErrorCode];

/** HTTP status for errors that refuse a request as a whole (errors.md); others ride on 200. */
const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  QUERY_TOO_COMPLEX: 400,
};

export type ErrorExtensions = Record<string, unknown>;

/**
 * The one error type services throw. Everything in `extensions` is client-safe by
 * construction: it is what errors.md promises for the code, nothing internal.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, extensions: ErrorExtensions = {}) {
    const status = httpStatusOf[code];
    super(message, {
      extensions: {
        ...extensions,
        code,
        ...(status ? { http: httpHead(status, extensions) } : {}),
      },
    });
    this.code = code;
    this.name = "AppError";
  }
}

/** Apollo reads `extensions.http` to set the response status and headers, then strips it. */
function httpHead(status: number, extensions: ErrorExtensions): { status: number; headers?: Map<string, string> } {
  const retryAfter = extensions.retryAfterSeconds;
  return typeof retryAfter === "number"
    ? { status, headers: new Map([["retry-after", String(Math.max(1, Math.ceil(retryAfter)))]]) }
    : { status };
}

export const badInput = (field: string, reason: string): AppError =>
  new AppError(ErrorCode.BAD_USER_INPUT, `Invalid value for ${field}: ${reason}`, { field, reason });

export const notFound = (what: string): AppError => new AppError(ErrorCode.NOT_FOUND, `${what} not found`);

export const conflict = (reason: string, message = reason): AppError =>
  new AppError(ErrorCode.CONFLICT, message, { reason });
