import {
  CancelTransactionDocument,
  ChallengeFactorDocument,
  DemoSignedInUserDocument,
  EnrollFactorDocument,
  RecoverPasswordDocument,
  ResendFactorChallengeDocument,
  ResetPasswordDocument,
  SignInDocument,
  SignOutDocument,
  VerifyFactorDocument,
  type PhoneMethod,
  type TransactionFieldsFragment,
} from "../../src/generated/graphql";
import "../shared/base.css";
import { byId, h } from "../shared/dom";
import { asRequestError, connect, request, type GraphQLRequestError } from "../shared/graphql";
import { DeliveryLine } from "./delivery-line";
import "./login.css";
import { describeError, endsTheFlow, methodName } from "./messages";

/**
 * An example single-page login on the gateway's transactions: each answer carries a status,
 * and the status alone picks the next view (sign in, choose a factor, enroll a phone, enter
 * a code, reset the password, done). The page keeps only the stateHandle between steps.
 */

type Transaction = TransactionFieldsFragment;
type View = "sign-in" | "factor" | "enroll" | "code" | "recover" | "reset" | "done" | "stopped";
const VIEWS: View[] = ["sign-in", "factor", "enroll", "code", "recover", "reset", "done", "stopped"];

const flow = byId("flow", HTMLDivElement);
const errorBox = byId("error", HTMLParagraphElement);
// No credential on the socket: the delivery feed is authorized by the transaction's stateHandle.
const delivery = new DeliveryLine(connect(null));

let current: Transaction | null = null;
/** What the code view is for, which sets its words and what Resend may do. */
let recovery: { login: string; method: PhoneMethod } | null = null;
/** A new password was saved in this flow: a recovery's, or an expired one's replacement. */
let passwordReplaced = false;
let sessionToken: string | null = null;
/** The (masked) number the code went to, as the person chose or typed it. */
let sentTo: string | null = null;
/** Moved on by startOver: a step's answer that arrives after it belongs to a flow the person left. */
let generation = 0;

function show(view: View, focus?: HTMLElement): void {
  for (const name of VIEWS) byId(`view-${name}`, HTMLElement).hidden = name !== view;
  if (view !== "code") delivery.stop();
  // Focus follows the step, so keyboard and screen-reader users land where the work is.
  const target = focus ?? byId(`view-${view}`, HTMLElement).querySelector<HTMLElement>("input:not([type=radio]), input[type=radio]:checked") ?? heading(view);
  target.focus();
}

const heading = (view: View) => byId(`view-${view}`, HTMLElement).querySelector<HTMLElement>("h1")!;

function showError(error: GraphQLRequestError | string): void {
  errorBox.textContent = typeof error === "string" ? error : describeError(error);
}

function clearError(): void {
  errorBox.textContent = "";
}

/**
 * Runs one step with the whole flow busy; the answer's status decides where to go. Every button
 * waits, not only the form's: a resend while a code is checked may replace the code before it is
 * compared, and a Start over would be undone by the answer.
 */
async function step(work: () => Promise<Transaction | void>): Promise<void> {
  const started = generation;
  clearError();
  const buttons = [...flow.querySelectorAll("button")].filter((button) => !button.disabled);
  buttons.forEach((button) => (button.disabled = true));
  flow.setAttribute("aria-busy", "true");
  try {
    const next = await work();
    if (next && started === generation) render(next);
  } catch (caught) {
    if (started !== generation) return;
    const error = asRequestError(caught);
    showError(error);
    if (endsTheFlow(error)) startOver(false);
    // No more codes, but the last one still works: it stays, and so does the form to enter it.
    else if (error.code === "TOO_MANY_RESENDS") offerResends(false);
    else if (error.code === "INVALID_CODE") byId("code", HTMLInputElement).select();
  } finally {
    buttons.forEach((button) => (button.disabled = false));
    flow.setAttribute("aria-busy", "false");
  }
}

function render(transaction: Transaction): void {
  current = transaction;
  switch (transaction.status) {
    case "MFA_REQUIRED":
      return showFactors(transaction);
    case "MFA_ENROLL":
      return showEnroll(transaction);
    case "MFA_CHALLENGE":
    case "MFA_ENROLL_ACTIVATE":
    case "RECOVERY_CHALLENGE":
      return showCode(transaction);
    case "PASSWORD_RESET":
      return showReset("Choose a new password");
    case "PASSWORD_EXPIRED":
      return showReset("Your password has expired. Choose a new one");
    case "SUCCESS":
      return void showDone(transaction);
    case "DENIED":
      return showStopped("Your organization’s sign-on policy does not allow this sign-in.");
    case "LOCKED_OUT":
      return showStopped("This account is locked after too many failed sign-ins. Reset your password to unlock it.");
  }
}

function showReset(title: string): void {
  heading("reset").textContent = title;
  show("reset");
}

function showFactors(transaction: Transaction): void {
  const list = byId("factor-list", HTMLDivElement);
  list.replaceChildren(
    ...transaction.factors.map((factor, index) =>
      h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "factor", value: factor.factorId, checked: index === 0, required: true }),
        ` ${factor.phoneNumber}`,
      ),
    ),
  );
  show("factor");
}

function showEnroll(transaction: Transaction): void {
  const methods = byId("enroll-methods", HTMLDivElement);
  methods.replaceChildren(
    ...transaction.enrollMethods.map((method, index) =>
      h("label", { class: "choice" }, h("input", { type: "radio", name: "enroll-method", value: method, checked: index === 0, required: true }), ` ${capitalize(methodName(method))}`),
    ),
  );
  show("enroll");
}

function showCode(transaction: Transaction): void {
  const challenge = transaction.challenge;
  const intro = byId("code-intro", HTMLParagraphElement);
  const method = challenge?.method ?? recovery?.method ?? "SMS";
  if (transaction.status === "RECOVERY_CHALLENGE") {
    // The gateway answers the same whether or not the account exists; so does this page.
    intro.textContent = `If ${recovery?.login ?? "that account"} has a phone on file, we sent it a code by ${methodName(method)}.`;
  } else {
    intro.textContent = `We sent a code by ${methodName(method)}${sentTo ? ` to ${sentTo}` : ""}.`;
  }
  if (challenge) delivery.follow(challenge.id, transaction.stateHandle, challenge.messages);
  else delivery.stop();
  offerResends(true);
  byId("call-instead", HTMLButtonElement).hidden = method === "VOICE";
  const code = byId("code", HTMLInputElement);
  const wasShowing = !byId("view-code", HTMLElement).hidden;
  code.value = "";
  if (!wasShowing) show("code", code);
  else code.focus();
}

async function showDone(transaction: Transaction): Promise<void> {
  const started = generation;
  sessionToken = transaction.sessionToken;
  byId("session-token", HTMLElement).textContent = sessionToken ?? "";
  const message = byId("done-message", HTMLParagraphElement);
  // The password policy's warning: this page has no password form of its own, an app would offer changePassword here.
  const expiry = transaction.passwordExpiresAt
    ? ` Your password expires on ${new Date(transaction.passwordExpiresAt).toLocaleDateString("en", { dateStyle: "long" })}; change it before then.`
    : "";
  message.textContent = (passwordReplaced ? "Your password was changed." : "") + expiry;
  show("done");
  if (!sessionToken) return;
  try {
    // The session token is a credential like any other: ask the gateway who it belongs to.
    const { me } = await request(DemoSignedInUserDocument, {}, `Bearer ${sessionToken}`);
    // Signed out meanwhile: the answer is about a session this page no longer shows.
    if (started !== generation) return;
    if (me) message.textContent = `${passwordReplaced ? "Your password was changed. " : ""}Signed in as ${me.firstName ? `${me.firstName} (${me.login})` : me.login}.${expiry}`;
  } catch (error) {
    if (started === generation) showError(asRequestError(error));
  }
}

function showStopped(message: string): void {
  byId("stopped-message", HTMLParagraphElement).textContent = message;
  show("stopped");
}

function startOver(clearErrors = true): void {
  generation += 1;
  const handle = current?.status !== "SUCCESS" ? current?.stateHandle : undefined;
  // Best effort: an abandoned transaction also ends by itself when it expires.
  if (handle) void request(CancelTransactionDocument, { stateHandle: handle }).catch(() => undefined);
  current = null;
  recovery = null;
  passwordReplaced = false;
  sentTo = null;
  if (clearErrors) clearError();
  byId("password", HTMLInputElement).value = "";
  byId("session-token", HTMLElement).textContent = "";
  show("sign-in");
}

const stateHandle = () => {
  if (!current) throw asRequestError({ message: "This sign-in has expired. Start over.", extensions: { code: "TRANSACTION_EXPIRED" } });
  return current.stateHandle;
};

const checked = (form: HTMLFormElement, name: string) => form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? null;
const asMethod = (value: string | null): PhoneMethod => (value === "VOICE" ? "VOICE" : "SMS");
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function onSubmit(id: string, handler: (form: HTMLFormElement) => Promise<Transaction | void>): void {
  const form = byId(id, HTMLFormElement);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void step(() => handler(form));
  });
}

onSubmit("sign-in-form", async () => {
  recovery = null;
  passwordReplaced = false;
  const login = byId("login", HTMLInputElement).value.trim();
  const password = byId("password", HTMLInputElement).value;
  return (await request(SignInDocument, { input: { login, password } })).signIn;
});

onSubmit("factor-form", async (form) => {
  const factorId = checked(form, "factor");
  if (!factorId) return showError("Choose a phone to send the code to.");
  const method = asMethod(checked(form, "factor-method"));
  sentTo = current?.factors.find((factor) => factor.factorId === factorId)?.phoneNumber ?? null;
  return (await request(ChallengeFactorDocument, { input: { stateHandle: stateHandle(), factorId, method } })).challengeFactor;
});

onSubmit("enroll-form", async (form) => {
  const phoneNumber = byId("enroll-phone", HTMLInputElement).value.trim();
  const method = asMethod(checked(form, "enroll-method"));
  sentTo = phoneNumber;
  return (await request(EnrollFactorDocument, { input: { stateHandle: stateHandle(), phoneNumber, method } })).enrollFactor;
});

onSubmit("code-form", async () => {
  const code = byId("code", HTMLInputElement).value.replace(/\s+/g, "");
  return (await request(VerifyFactorDocument, { input: { stateHandle: stateHandle(), code } })).verifyFactor;
});

onSubmit("recover-form", async (form) => {
  const login = byId("recover-login", HTMLInputElement).value.trim();
  const method = asMethod(checked(form, "recover-method"));
  recovery = { login, method };
  return (await request(RecoverPasswordDocument, { input: { login, method } })).recoverPassword;
});

onSubmit("reset-form", async () => {
  const newPassword = byId("new-password", HTMLInputElement).value;
  if (newPassword !== byId("confirm-password", HTMLInputElement).value) {
    showError("The two passwords are not the same.");
    byId("confirm-password", HTMLInputElement).focus();
    return;
  }
  const { resetPassword } = await request(ResetPasswordDocument, { input: { stateHandle: stateHandle(), newPassword } });
  passwordReplaced = true;
  return resetPassword;
});

/** Shows or hides the ways to ask for another code (the delivery line shows its own button when a text fails). */
function offerResends(offered: boolean): void {
  byId("resend", HTMLButtonElement).hidden = !offered;
  byId("call-instead", HTMLButtonElement).hidden = !offered;
  delivery.offerCall(offered);
}

/** A new code by the same method, or by voice: "call me instead". Busy meanwhile, so a double click asks once. */
function resend(method: PhoneMethod | null): void {
  void step(async () => {
    const next = (await request(ResendFactorChallengeDocument, { input: { stateHandle: stateHandle(), method } })).resendFactorChallenge;
    if (method && recovery) recovery = { ...recovery, method };
    return next;
  });
}

byId("resend", HTMLButtonElement).addEventListener("click", () => resend(null));
byId("call-instead", HTMLButtonElement).addEventListener("click", () => resend("VOICE"));
byId("delivery-call", HTMLButtonElement).addEventListener("click", () => resend("VOICE"));

byId("forgot", HTMLButtonElement).addEventListener("click", () => {
  clearError();
  byId("recover-login", HTMLInputElement).value = byId("login", HTMLInputElement).value;
  show("recover");
});

byId("sign-out", HTMLButtonElement).addEventListener("click", () => {
  void step(async () => {
    if (sessionToken) {
      try {
        await request(SignOutDocument, {}, `Bearer ${sessionToken}`);
      } catch (caught) {
        // Already ended (expired, or revoked by an admin): signed out is where this was going.
        // Any other failure keeps the token, so that Sign out again still ends the session.
        if (asRequestError(caught).code !== "UNAUTHENTICATED") throw caught;
      }
    }
    sessionToken = null;
    startOver();
  });
});

for (const button of document.querySelectorAll<HTMLButtonElement>("[data-action=start-over]")) {
  button.addEventListener("click", () => startOver());
}

// The code field takes digits only, however they arrive (typed, pasted, autofilled from the SMS).
byId("code", HTMLInputElement).addEventListener("input", (event) => {
  const input = event.currentTarget as HTMLInputElement;
  const digits = input.value.replace(/\D+/g, "");
  if (digits !== input.value) input.value = digits;
});

show("sign-in");
