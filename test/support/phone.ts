import {
  ActivatePhoneFactorDocument,
  ChallengePhoneFactorDocument,
  CreateUserDocument,
  EnrollPhoneFactorDocument,
  SimulatorMessagesDocument,
  type PhoneMethod,
} from "../../src/generated/graphql";
import { Message } from "../../src/telephony/message.entity";
import { deferred, withTimeout } from "./deferred";
import type { TestGateway } from "./gateway";

let sequence = 0;

export async function createUser(gateway: TestGateway, overrides: { locale?: string; password?: string } = {}) {
  sequence += 1;
  const { createUser } = await gateway.admin.ok(CreateUserDocument, {
    input: { login: `user${sequence}-${Date.now()}@example.com`, password: overrides.password ?? "a long enough password", locale: overrides.locale },
  });
  return createUser;
}

/** The newest message the simulator's handset at `to` received. */
export async function latestSimulated(gateway: TestGateway, to: string) {
  const { simulatorMessages } = await gateway.admin.ok(SimulatorMessagesDocument, { to, first: 1 });
  return simulatorMessages[0];
}

/**
 * Waits until the outbox satisfies `predicate` (by default: every message final), re-checking
 * after each publication of the gateway, bounded in time.
 */
export async function settleMessages(gateway: TestGateway, predicate: (messages: Message[]) => boolean = allFinal, timeoutMs = 10_000): Promise<Message[]> {
  const settled = deferred<Message[]>();
  let checking = false;
  let again = false;
  const check = async (): Promise<void> => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        const messages = await gateway.db.manager.find(Message, { order: { created: "ASC" } });
        if (predicate(messages)) settled.resolve(messages);
      } while (again);
    } catch (error) {
      settled.reject(error);
    } finally {
      checking = false;
    }
  };
  const listener = () => void check();
  gateway.events.on("published", listener);
  void check();
  try {
    return await withTimeout(settled.promise, timeoutMs, "messages to settle");
  } finally {
    gateway.events.off("published", listener);
  }
}

const FINAL = new Set(["DELIVERED", "UNDELIVERED", "FAILED", "UNKNOWN"]);
export const allFinal = (messages: Message[]) => messages.every((message) => FINAL.has(message.status));

/** Waits for the simulator to receive a message at `to` and returns its passcode. */
export async function receivedCode(gateway: TestGateway, to: string, codeLength = 6): Promise<string> {
  await settleMessages(gateway, (messages) => messages.filter((m) => m.toE164 === to).every((m) => m.status !== "QUEUED"));
  const message = await latestSimulated(gateway, to);
  if (!message) throw new Error(`No simulated message to ${to}`);
  return codeIn(message.body, codeLength);
}

/** The code in an SMS ("… is 123456") or a call script ("1, 2, 3, 4, 5, 6"). */
export function codeIn(body: string, codeLength = 6): string {
  const digits = body.replace(/[^0-9]/g, "");
  const direct = new RegExp(`\\b\\d{${codeLength}}\\b`).exec(body);
  if (direct) return direct[0];
  if (digits.length >= codeLength) return digits.slice(0, codeLength);
  throw new Error(`No ${codeLength}-digit code in: ${body}`);
}

export async function enroll(gateway: TestGateway, userId: string, phoneNumber: string, method: PhoneMethod = "SMS") {
  const { enrollPhoneFactor } = await gateway.admin.ok(EnrollPhoneFactorDocument, { input: { userId, phoneNumber, method } });
  return enrollPhoneFactor;
}

/** An active factor for a new user, with a fresh FACTOR_VERIFY challenge and its code. */
export async function openChallenge(gateway: TestGateway, phoneNumber: string) {
  const user = await createUser(gateway);
  const { factor } = await enroll(gateway, user.id, phoneNumber, "SMS");
  await gateway.admin.ok(ActivatePhoneFactorDocument, { input: { factorId: factor.id, code: await receivedCode(gateway, phoneNumber) } });
  const { challengePhoneFactor } = await gateway.admin.ok(ChallengePhoneFactorDocument, { input: { factorId: factor.id } });
  return { user, factor, challenge: challengePhoneFactor, code: await receivedCode(gateway, phoneNumber) };
}

export const wrongCodeFor = (code: string, offset = 1) => String((Number(code) + offset) % 10 ** code.length).padStart(code.length, "0");
