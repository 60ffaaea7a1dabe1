import { createPubSub, type PubSub, type PubSubEventTarget } from "@graphql-yoga/subscription";

/** Payload of a message status change, as published by the dispatcher and receipt handlers. */
export interface MessageStatusEvent {
  messageId: string;
  challengeId: string | null;
}

/** Payload of a System Log event, published once its transaction committed. */
export interface LogEventPublished {
  uuid: string;
}

/**
 * Topics and their payloads. MESSAGE_STATUS is routed by challenge id so a login page
 * only ever receives its own challenge's messages.
 */
export type TopicPayloads = {
  MESSAGE_STATUS: [challengeId: string, event: MessageStatusEvent];
  LOG_EVENT: [event: LogEventPublished];
};

export type GatewayPubSub = PubSub<TopicPayloads>;

export function createGatewayPubSub(eventTarget?: PubSubEventTarget<TopicPayloads>): GatewayPubSub {
  return createPubSub<TopicPayloads>(eventTarget ? { eventTarget } : undefined);
}

/**
 * When fan-out may have dropped publications. Redis pub/sub keeps nothing for a subscriber
 * that is away: a live feed told that its channels are listened to again reads, from the
 * database, what it may have missed since `lostAt` (the gateway's clock).
 */
export interface FanOutGaps {
  /** Registers `listener`; resolves nothing, returns the function that unregisters it. */
  onResumed(listener: (lostAt: Date) => void): () => void;
}

/** One process: publications go from publisher to subscriber in memory and are never lost. */
export const noFanOutGaps: FanOutGaps = { onResumed: () => () => undefined };
