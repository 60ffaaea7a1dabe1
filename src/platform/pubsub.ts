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
