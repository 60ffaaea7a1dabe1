import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";
import { once } from "node:events";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { deferred, withTimeout, type Deferred } from "./deferred";
import type { TestGateway } from "./gateway";

export interface SubscriptionResult<T> {
  data?: T | null;
  errors?: readonly GraphQLFormattedError[];
}

/** How a subscription ended: `complete`, or an `error` message / socket failure. */
export type SubscriptionEnding = { kind: "complete" } | { kind: "error"; error: unknown };

/** A graphql-ws client of the test gateway, with `authorization` as its connection credential. */
export function wsClient(gateway: TestGateway, authorization?: string): Client {
  return createClient({
    url: gateway.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
  });
}

/** A graphql-transport-ws message as a bare client reads it. */
export interface ProtocolMessage {
  type: string;
  id?: string;
  /** A next's result; an error message's payload is its list of errors instead. */
  payload?: { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
}

/**
 * A bare graphql-transport-ws client, acknowledged, that records every message: for what a
 * well-behaved client never does (stop reading its socket, use an operation id again).
 */
export async function bareSocket(gateway: TestGateway, authorization: string) {
  const socket = new WebSocket(gateway.wsUrl, "graphql-transport-ws");
  const messages: ProtocolMessage[] = [];
  const acknowledged = deferred<void>();
  const closed = deferred<number>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as ProtocolMessage;
    messages.push(message);
    if (message.type === "connection_ack") acknowledged.resolve();
  });
  socket.on("close", (code) => closed.resolve(code));
  await once(socket, "open");
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } }));
  await withTimeout(acknowledged.promise, 5_000, "connection_ack");
  return {
    socket,
    messages,
    closed: closed.promise,
    subscribe: (id: string, document: TypedDocumentNode<unknown, Record<string, unknown>>, variables: Record<string, unknown> = {}) =>
      socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: print(document), variables } })),
    complete: (id: string) => socket.send(JSON.stringify({ id, type: "complete" })),
  };
}

/**
 * Records every result of one subscription and lets a test wait, bounded in time, for the
 * results it expects, or for the end.
 */
export class RecordedSubscription<T> {
  readonly results: SubscriptionResult<T>[] = [];
  private ending: SubscriptionEnding | null = null;
  private readonly endingArrived = deferred<SubscriptionEnding>();
  private waiters: Array<{ ready: (results: SubscriptionResult<T>[]) => boolean; what: string; arrived: Deferred<void> }> = [];
  private readonly unsubscribe: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          this.results.push(result as SubscriptionResult<T>);
          this.wake();
        },
        error: (error) => this.end({ kind: "error", error }),
        complete: () => this.end({ kind: "complete" }),
      },
    );
  }

  /** The data of every result that carried some, in order. */
  get data(): T[] {
    return this.results.flatMap((result) => (result.data ? [result.data] : []));
  }

  /** Waits until `ready` holds for the results so far; fails if the subscription ends first. */
  async until(ready: (results: SubscriptionResult<T>[]) => boolean, what: string, timeoutMs = 10_000): Promise<SubscriptionResult<T>[]> {
    const waiter = { ready, what, arrived: deferred<void>() };
    this.waiters.push(waiter);
    this.wake();
    try {
      await withTimeout(waiter.arrived.promise, timeoutMs, what);
    } finally {
      this.waiters = this.waiters.filter((other) => other !== waiter);
    }
    return this.results;
  }

  /** Waits for `count` results in all. */
  count(count: number, what = `${count} results`, timeoutMs?: number): Promise<SubscriptionResult<T>[]> {
    return this.until((results) => results.length >= count, what, timeoutMs);
  }

  /** The first error of the first result that has one: how a refusal at subscribe time arrives. */
  async firstError(timeoutMs = 10_000): Promise<GraphQLFormattedError> {
    const results = await this.until((all) => all.some((result) => result.errors?.length), "an error result", timeoutMs);
    return results.find((result) => result.errors?.length)!.errors![0]!;
  }

  ended(timeoutMs = 10_000): Promise<SubscriptionEnding> {
    return withTimeout(this.endingArrived.promise, timeoutMs, "the subscription to end");
  }

  stop(): void {
    this.unsubscribe();
  }

  private end(ending: SubscriptionEnding): void {
    this.ending = ending;
    this.endingArrived.resolve(ending);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters) {
      if (waiter.ready(this.results)) waiter.arrived.resolve();
      else if (this.ending) {
        waiter.arrived.reject(
          new Error(
            `The subscription ended (${this.ending.kind}) before ${waiter.what}; last result: ${JSON.stringify(this.results.at(-1))}`,
          ),
        );
      }
    }
  }
}

export function record<T, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
): RecordedSubscription<T> {
  return new RecordedSubscription<T>(client, print(document), variables);
}
