import type { MessageStatus, PhoneMethod } from "../../src/generated/graphql";
import type { GraphQLRequestError } from "../shared/graphql";

const METHOD_NAMES: Record<PhoneMethod, string> = { SMS: "text message", VOICE: "voice call" };

export const methodName = (method: PhoneMethod) => METHOD_NAMES[method];

const TOO_MANY_ATTEMPTS = "Too many wrong codes. Start over to get a new one.";

/** Only a code that ran out of time has a replacement: one used, cancelled, or of a factor since removed has none. */
const codeCanBeReplaced = (error: GraphQLRequestError) => error.extensions.reason === "EXPIRED";

/** What a person reads for an error: by the contract's code, never by the server's message. */
export function describeError(error: GraphQLRequestError): string {
  const seconds = error.numberAt("retryAfterSeconds");
  switch (error.code) {
    case "INVALID_CREDENTIALS":
      return "That username and password do not match.";
    case "INVALID_CODE": {
      const left = error.numberAt("attemptsRemaining");
      if (left === 0) return TOO_MANY_ATTEMPTS;
      return `That code is not right.${left === null ? "" : ` ${left} ${left === 1 ? "try" : "tries"} left.`}`;
    }
    case "CODE_EXPIRED":
      return codeCanBeReplaced(error) ? "That code has expired. Send a new one." : "That code can no longer be used. Start over to get a new one.";
    case "TOO_MANY_ATTEMPTS":
      return TOO_MANY_ATTEMPTS;
    case "RESEND_TOO_SOON":
      return `A code was just sent. Wait${seconds ? ` ${seconds} seconds` : " a moment"} before asking for another.`;
    case "TOO_MANY_RESENDS":
      return "No more codes can be sent for this sign-in. Enter the last one you received, or start over.";
    case "RATE_LIMITED":
      return `Too many requests. Try again${seconds ? ` in ${seconds} seconds` : " later"}.`;
    case "TRANSACTION_EXPIRED":
      return "This sign-in has expired. Start over.";
    case "LOCKED_OUT":
      return "This account is locked. Reset your password to unlock it.";
    case "METHOD_NOT_ALLOWED": {
      const allowed = error.extensions.allowedMethods;
      const names = Array.isArray(allowed) ? allowed.filter((m): m is PhoneMethod => m === "SMS" || m === "VOICE").map(methodName) : [];
      return `That is not allowed here.${names.length ? ` Use a ${names.join(" or a ")}.` : ""}`;
    }
    case "INVALID_PHONE_NUMBER":
      return "That number cannot receive codes. Check it, with its country code.";
    case "NUMBER_BLOCKED":
      return "That number cannot be used.";
    case "PASSWORD_POLICY":
      return passwordRuleText(typeof error.extensions.reason === "string" ? error.extensions.reason : null);
    case "NETWORK":
      return "The sign-in service could not be reached. Check your connection and try again.";
    default:
      return error.message || "Something went wrong. Try again.";
  }
}

/** Errors after which this sign-in cannot go on, so the page starts over rather than offer what would fail again. */
export function endsTheFlow(error: GraphQLRequestError): boolean {
  switch (error.code) {
    case "TRANSACTION_EXPIRED":
    case "TOO_MANY_ATTEMPTS":
      return true;
    // The wrong code spent the last try: the challenge has already failed, and a resend is refused.
    case "INVALID_CODE":
      return error.numberAt("attemptsRemaining") === 0;
    case "CODE_EXPIRED":
      return !codeCanBeReplaced(error);
    default:
      return false;
  }
}

/** The rule a new password broke, from PASSWORD_POLICY's reason (`MIN_LENGTH:12`, `COMMON_PASSWORD`, ...). */
export function passwordRuleText(reason: string | null): string {
  const [rule, limit] = (reason ?? "").split(":");
  switch (rule) {
    case "MIN_LENGTH":
      return `That password is too short. Use at least ${limit} characters.`;
    case "MAX_LENGTH":
      return `That password is too long. Use at most ${limit} characters.`;
    case "UPPERCASE":
      return "That password needs an uppercase letter.";
    case "LOWERCASE":
      return "That password needs a lowercase letter.";
    case "NUMBER":
      return "That password needs a number.";
    case "SYMBOL":
      return "That password needs a symbol.";
    case "CONTAINS_USERNAME":
      return "That password contains your username. Choose one that does not.";
    case "CONTAINS_NAME":
      return "That password contains your name. Choose one that does not.";
    case "COMMON_PASSWORD":
      return "That password is one of the most common, and easy to guess. Choose another.";
    case "HISTORY":
      return `That password is one of your last ${limit}. Choose one you have not used recently.`;
    case "SAME_AS_CURRENT":
      return "That is your current password. Choose a new one.";
    default:
      return "That password is not allowed.";
  }
}

/** The delivery line's words: where the text or call is, as the provider reported it. */
export function deliveryText(channel: PhoneMethod, status: MessageStatus): string {
  const what = channel === "SMS" ? "Text message" : "Voice call";
  switch (status) {
    case "QUEUED":
      return `${what}: queued`;
    case "SENT":
      return `${what}: sent`;
    case "DELIVERED":
      return `${what}: Delivered`;
    case "UNDELIVERED":
      return `${what}: not delivered`;
    case "FAILED":
      return `${what}: not sent`;
    case "UNKNOWN":
      return `${what}: no delivery report`;
  }
}

const FAILURE_REASONS: Record<string, string> = {
  NUMBER_INACTIVE: "the number is not in service",
  PROVIDER_UNREACHABLE: "the phone network could not be reached",
  COUNTRY_UNSUPPORTED: "this is not offered in your country",
  TIMEOUT: "no report came back",
  BLOCKED_SUSPICIOUS: "it was held back as suspicious",
  PROVIDER_REJECTED: "the phone network refused it",
};

export const failureReason = (errorCode: string | null) => (errorCode ? (FAILURE_REASONS[errorCode] ?? null) : null);
