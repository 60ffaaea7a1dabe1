import { AppError, ErrorCode } from "./errors";

/** The last item a channel yields when it ends for a reason the client must hear. */
export class SubscriptionEnd {
  constructor(readonly error: AppError) {}
}

export interface SubscriptionChannelOptions {
  /** Items held for a reader that has not taken them yet; one more ends the channel. */
  capacity: number;
  /** The error that ends the channel when its buffer overflows. */
  overflowError: () => AppError;
  /**
   * Runs before each item is handed over; an AppError it resolves with ends the channel
   * instead. Used to re-check the subscriber's credential, so a revoked one stops receiving.
   */
  admit?: () => Promise<AppError | null>;
  /** Runs once, however the channel ends: unsubscribe from sources here. */
  onClose?: () => void;
}

type ChannelState = "open" | "ending" | "closed";

/**
 * How a subscription that fell `capacity` items behind is ended. RATE_LIMITED is the contract's
 * code for a limit the client ran into; the client resubscribes and fills the gap by query.
 */
export function bufferOverflow(capacity: number, items: string): AppError {
  return new AppError(ErrorCode.RATE_LIMITED, `This subscription fell more than ${capacity} ${items} behind and was ended`, {
    limit: "SUBSCRIPTION_BUFFER",
    retryAfterSeconds: 1,
  });
}

/**
 * The source of one GraphQL subscription: a bounded FIFO that producers push into without
 * waiting, and graphql-ws pulls from at the pace the client's socket drains (it awaits each
 * send before asking for the next item).
 *
 * A reader that falls `capacity` items behind (a client that stopped reading, or reads slower
 * than events arrive) neither holds unbounded memory nor slows the producers: its backlog is
 * dropped and the channel ends with `overflowError`, delivered as that subscription's last
 * result (a GraphQL error, then `complete`). Other subscriptions, and other operations on the
 * same socket, go on. The client is expected to subscribe again and fill the gap with a query.
 *
 * Not an async generator on purpose: an async generator's return() waits for its pending
 * next() to settle, so a client that unsubscribes while nothing is published would never
 * release its source. Here return() ends the channel at once.
 */
export class SubscriptionChannel<T extends object> implements AsyncIterableIterator<T | SubscriptionEnd> {
  private readonly queue: T[] = [];
  private state: ChannelState = "open";
  private ending: SubscriptionEnd | null = null;
  private waitingReader: ((result: IteratorResult<T | SubscriptionEnd>) => void) | null = null;
  private onClose: (() => void) | undefined;

  constructor(private readonly options: SubscriptionChannelOptions) {
    this.onClose = options.onClose;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  push(item: T): void {
    if (this.state !== "open") return;
    const reader = this.takeWaitingReader();
    if (reader) {
      void this.admitted(item).then(reader);
    } else if (this.queue.length >= this.options.capacity) {
      this.fail(this.options.overflowError());
    } else {
      this.queue.push(item);
    }
  }

  /** Drops what is queued and ends the channel with `error` as its last result. */
  fail(error: AppError): void {
    if (this.state !== "open") return;
    this.queue.length = 0;
    this.state = "ending";
    this.ending = new SubscriptionEnd(error);
    this.unsubscribe();
    this.takeWaitingReader()?.(this.takeEnding());
  }

  next(): Promise<IteratorResult<T | SubscriptionEnd>> {
    if (this.state === "ending") return Promise.resolve(this.takeEnding());
    if (this.state === "closed") return Promise.resolve(done());
    const item = this.queue.shift();
    if (item !== undefined) return this.admitted(item);
    return new Promise((resolve) => {
      this.waitingReader = resolve;
    });
  }

  return(): Promise<IteratorResult<T | SubscriptionEnd>> {
    this.queue.length = 0;
    this.state = "closed";
    this.ending = null;
    this.unsubscribe();
    this.takeWaitingReader()?.(done());
    return Promise.resolve(done());
  }

  throw(error?: unknown): Promise<IteratorResult<T | SubscriptionEnd>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async admitted(item: T): Promise<IteratorResult<T | SubscriptionEnd>> {
    let refusal: AppError | null = null;
    try {
      refusal = this.options.admit ? await this.options.admit() : null;
    } catch {
      // Unable to tell whether the credential still holds: fail closed; the client may resubscribe.
      refusal = new AppError(ErrorCode.INTERNAL, "Internal server error");
    }
    if (!refusal) return { value: item, done: false };
    this.fail(refusal);
    return this.state === "ending" ? this.takeEnding() : done();
  }

  private takeEnding(): IteratorResult<T | SubscriptionEnd> {
    const ending = this.ending;
    this.ending = null;
    this.state = "closed";
    return ending ? { value: ending, done: false } : done();
  }

  private takeWaitingReader(): ((result: IteratorResult<T | SubscriptionEnd>) => void) | null {
    const reader = this.waitingReader;
    this.waitingReader = null;
    return reader;
  }

  private unsubscribe(): void {
    const onClose = this.onClose;
    this.onClose = undefined;
    onClose?.();
  }
}

function done<T>(): IteratorResult<T> {
  return { value: undefined, done: true };
}
