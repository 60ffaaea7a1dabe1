import type { GraphQLFormattedError } from "graphql";
import { withTimeout } from "./deferred";
import type { TestGateway } from "./gateway";
import { wsClient } from "./subscriptions";

export interface WsOutcome {
  data?: unknown;
  errors: readonly GraphQLFormattedError[];
}

/**
 * Sends one operation over graphql-ws and resolves with its first answer: a result (its errors,
 * if any) or the errors of an `error` message. A socket failure rejects.
 */
export async function wsOnce(gateway: TestGateway, query: string, variables: Record<string, unknown> = {}, authorization?: string): Promise<WsOutcome> {
  const client = wsClient(gateway, authorization);
  try {
    const outcome = new Promise<WsOutcome>((resolve, reject) => {
      client.subscribe(
        { query, variables },
        {
          next: (result) => resolve({ data: result.data, errors: result.errors ?? [] }),
          error: (error) => (Array.isArray(error) ? resolve({ errors: error as GraphQLFormattedError[] }) : reject(error)),
          complete: () => resolve({ errors: [] }),
        },
      );
    });
    return await withTimeout(outcome, 10_000, "an answer over graphql-ws");
  } finally {
    await client.dispose();
  }
}

/** The `limit` of each QUERY_TOO_COMPLEX error among `errors`. */
export const refusedLimits = (errors: readonly GraphQLFormattedError[] | undefined): string[] =>
  (errors ?? []).filter((error) => error.extensions?.code === "QUERY_TOO_COMPLEX").map((error) => String(error.extensions?.limit));
