import { GraphQLError } from "graphql";
import { AppError, ErrorCode } from "./errors";

/** graphql-ws's close code for an operation id already in use on the socket. */
export const SUBSCRIBER_ALREADY_EXISTS = 4409;

/**
 * What one graphql-ws socket has running, by operation id, from its Subscribe message until
 * graphql-ws has finished with it.
 *
 * graphql-ws forgets an id as soon as the client completes it, even while the operation is still
 * being set up (ours authenticates first, asynchronously). The same id subscribed again then ran
 * twice: the second run took the id's slot, and the first, which nothing referred to any more,
 * went on streaming into the socket after it had closed, for as long as the process lived. An id
 * is therefore refused here until its earlier operation has ended, as the protocol asks (4409).
 */
export class SocketOperations {
  private readonly running = new Map<string, AsyncGenerator | null>();

  constructor(private readonly max: number) {}

  /**
   * Claims `id` for a new operation, or says why it may not run: the id is still in use, or the
   * socket has as many operations running as it may (each holds a listener, and every event it
   * matches costs a read, so one socket could otherwise hold thousands).
   */
  begin(id: string): "DUPLICATE" | "FULL" | null {
    if (this.running.has(id)) return "DUPLICATE";
    if (this.running.size >= this.max) return "FULL";
    this.running.set(id, null);
    return null;
  }

  /** The operation's result, once executed: a subscription's stream, to end with the socket. */
  started(id: string, result: unknown): void {
    if (this.running.has(id) && isAsyncGenerator(result)) this.running.set(id, result);
  }

  ended(id: string): void {
    this.running.delete(id);
  }

  /** Ends every stream still running: graphql-ws ends those it still refers to, and this the rest. */
  async closeAll(): Promise<void> {
    const streams = [...this.running.values()];
    this.running.clear();
    await Promise.all(streams.map((stream) => stream?.return(undefined).catch(() => undefined)));
  }

  tooMany(): GraphQLError {
    const refusal = new AppError(ErrorCode.RATE_LIMITED, `At most ${this.max} operations may run at once on one connection; complete one first`, {
      limit: "SOCKET_OPERATIONS",
      retryAfterSeconds: 1,
    });
    return new GraphQLError(refusal.message, { originalError: refusal });
  }
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value && typeof (value as AsyncGenerator).return === "function";
}
