import type { PhoneMethod } from "../phone/phone.enums";
import type { TelephonyProvider } from "./provider";

/** What a router may look at: enough to pick a provider, not the number or the body. */
export interface RoutableMessage {
  channel: PhoneMethod;
  /** ISO 3166-1 alpha-2 country of the number. */
  country: string;
}

/** Decides which providers may carry a message, best first; the dispatcher fails over along the list. */
export interface ProviderRouter {
  /** Every provider this router can ever name: the dispatcher starts and stops them. */
  readonly providers: readonly TelephonyProvider[];
  /** Candidates in the order to try them; empty when no provider carries the channel there. */
  route(message: RoutableMessage): TelephonyProvider[];
}

/** One ordered list for every country; the first provider that offers the channel is preferred. */
export class StaticRouter implements ProviderRouter {
  constructor(readonly providers: readonly TelephonyProvider[]) {
    const names = providers.map((provider) => provider.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    // Attempts, receipts and circuit breakers are keyed by provider name.
    if (repeated) throw new Error(`Telephony provider "${repeated}" is configured twice`);
  }

  route(message: RoutableMessage): TelephonyProvider[] {
    return this.providers.filter((provider) => provider.channels.includes(message.channel));
  }
}
