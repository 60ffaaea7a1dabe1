import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";
import { createClient, type Client } from "graphql-ws";

/** The gateway that served the page: the pages never talk to another origin (the CSP forbids it). */
export const GRAPHQL_PATH = "/graphql";

export function graphqlWsUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${GRAPHQL_PATH}`;
}

/**
 * What to send as Authorization for a pasted credential. The gateway accepts an admin token
 * or a session token as `Bearer`; a value that already names its scheme is sent as it is.
 */
export function authorizationFor(credential: string): string | null {
  const trimmed = credential.trim();
  if (!trimmed) return null;
  return /^(SSWS|Bearer)\s+\S/i.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
}

/** A GraphQL error as the contract shapes it: pages branch on `code`, never on the message. */
export class GraphQLRequestError extends Error {
  readonly code: string;
  readonly extensions: Record<string, unknown>;

  constructor(error: GraphQLFormattedError | { message: string; extensions?: Record<string, unknown> }) {
    super(error.message);
    this.extensions = { ...(error.extensions ?? {}) };
    this.code = typeof this.extensions.code === "string" ? this.extensions.code : "INTERNAL";
  }

  /** An extension read as a number, for `attemptsRemaining`, `retryAfterSeconds`, `position`. */
  numberAt(name: string): number | null {
    const value = this.extensions[name];
    return typeof value === "number" ? value : null;
  }
}

/** The first error of a result, or a socket failure, as a GraphQLRequestError. */
export function asRequestError(error: unknown): GraphQLRequestError {
  if (error instanceof GraphQLRequestError) return error;
  if (Array.isArray(error) && error.length && typeof error[0] === "object" && error[0] && "message" in error[0]) {
    return new GraphQLRequestError(error[0] as GraphQLFormattedError);
  }
  if (typeof CloseEvent !== "undefined" && error instanceof CloseEvent) {
    const code = error.code === 4403 ? "FORBIDDEN" : error.code === 4401 ? "UNAUTHENTICATED" : "INTERNAL";
    return new GraphQLRequestError({ message: `The connection closed (${error.code}${error.reason ? `: ${error.reason}` : ""})`, extensions: { code } });
  }
  return new GraphQLRequestError({ message: error instanceof Error ? error.message : "The gateway could not be reached", extensions: { code: "NETWORK" } });
}

/** One operation over HTTP with a typed document from codegen; the data, or the first error thrown. */
export async function request<T, V>(document: TypedDocumentNode<T, V>, variables: V, authorization?: string | null): Promise<T> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
  } catch (error) {
    throw asRequestError(error);
  }
  let body: { data?: T | null; errors?: GraphQLFormattedError[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new GraphQLRequestError({ message: `The gateway answered ${response.status} without JSON`, extensions: { code: "INTERNAL" } });
  }
  if (body.errors?.length) throw new GraphQLRequestError(body.errors[0]!);
  if (!body.data) throw new GraphQLRequestError({ message: `The gateway answered ${response.status} without data`, extensions: { code: "INTERNAL" } });
  return body.data;
}

/** A graphql-ws client of this gateway; `authorization` travels as connectionParams, as the server reads it. */
export function connect(authorization: string | null, options: { onConnected?: () => void; onClosed?: () => void } = {}): Client {
  return createClient({
    url: graphqlWsUrl(),
    connectionParams: authorization ? { authorization } : {},
    lazy: true,
    retryAttempts: 3,
    on: {
      connected: () => options.onConnected?.(),
      closed: () => options.onClosed?.(),
    },
  });
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  error(error: GraphQLRequestError): void;
  complete?(): void;
}

/** Subscribes with a typed document; returns the function that ends the subscription. */
export function subscribe<T, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
  handlers: SubscriptionHandlers<T>,
): () => void {
  return client.subscribe<T>(
    { query: print(document), variables },
    {
      next: (result) => {
        if (result.errors?.length) handlers.error(new GraphQLRequestError(result.errors[0]!));
        else if (result.data) handlers.next(result.data as T);
      },
      error: (error) => handlers.error(asRequestError(error)),
      complete: () => handlers.complete?.(),
    },
  );
}
