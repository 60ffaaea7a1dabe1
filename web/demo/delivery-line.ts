import type { Client } from "graphql-ws";
import { DemoDeliveryStatusDocument, type DemoDeliveryStatusSubscription, type MessageStatus } from "../../src/generated/graphql";
import { byId } from "../shared/dom";
import { subscribe } from "../shared/graphql";
import { deliveryText, failureReason } from "./messages";

type Message = DemoDeliveryStatusSubscription["deliveryStatus"];

const FINAL_FAILURES: ReadonlySet<MessageStatus> = new Set(["UNDELIVERED", "FAILED", "UNKNOWN"]);

/**
 * The live line under the code field: the status of the newest message of the challenge
 * (the text, then the call if the person asked for one), from `deliveryStatus`.
 *
 * It is a polite live region: a screen reader hears "sent", "Delivered" as they happen,
 * without losing its place in the form. The subscription authenticates with the
 * transaction's stateHandle, so it works before anyone is signed in.
 */
export class DeliveryLine {
  private readonly container = byId("delivery", HTMLDivElement);
  private readonly status = byId("delivery-status", HTMLParagraphElement);
  private readonly text = byId("delivery-text", HTMLSpanElement);
  private readonly callButton = byId("delivery-call", HTMLButtonElement);
  private readonly messages = new Map<string, Message>();
  private unsubscribe: (() => void) | null = null;
  private challengeId: string | null = null;
  private callOffered = true;

  constructor(private readonly client: Client) {}

  /** Follows a challenge; a new challenge id starts over, the same one keeps following. */
  follow(challengeId: string, stateHandle: string, initial: Message[]): void {
    if (this.challengeId !== challengeId) {
      this.stop();
      this.challengeId = challengeId;
      this.unsubscribe = subscribe(this.client, DemoDeliveryStatusDocument, { challengeId, stateHandle }, {
        next: ({ deliveryStatus }) => this.update(deliveryStatus),
        // The line is a convenience: without it the code still works, so it only says it stopped.
        error: () => this.render(null),
      });
    }
    for (const message of initial) this.update(message);
    this.container.hidden = false;
  }

  /** Whether a failed text may offer a call: not once no more codes can be sent, or a later push would offer it again. */
  offerCall(offered: boolean): void {
    this.callOffered = offered;
    this.callButton.hidden = !this.callWanted(this.newest());
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.challengeId = null;
    this.messages.clear();
    this.container.hidden = true;
    this.callButton.hidden = true;
    this.text.textContent = "";
  }

  private update(message: Message): void {
    const known = this.messages.get(message.id);
    // The feed only moves forward, but a mutation's answer may arrive after a newer push.
    if (known && rank(known.status) > rank(message.status)) return;
    this.messages.set(message.id, message);
    this.render(this.newest());
  }

  private newest(): Message | null {
    let newest: Message | null = null;
    for (const message of this.messages.values()) if (!newest || message.created >= newest.created) newest = message;
    return newest;
  }

  private render(message: Message | null): void {
    if (!message) {
      this.status.dataset.state = "unknown";
      this.text.textContent = "Live delivery status is not available.";
      return;
    }
    const reason = FINAL_FAILURES.has(message.status) ? failureReason(message.errorCode) : null;
    this.status.dataset.state = message.status.toLowerCase();
    this.text.textContent = `${deliveryText(message.channel, message.status)}${reason ? ` (${reason})` : ""}.`;
    this.callButton.hidden = !this.callWanted(message);
  }

  private callWanted(message: Message | null): boolean {
    return this.callOffered && message?.channel === "SMS" && FINAL_FAILURES.has(message.status);
  }
}

const rank = (status: MessageStatus) => (status === "QUEUED" ? 0 : status === "SENT" ? 1 : 2);
