import DataLoader from "dataloader";
import type { Clock } from "../platform/clock";
import type { Logger } from "../platform/logger";
import { AppError, ErrorCode } from "../platform/errors";
import type { FanOutGaps, GatewayPubSub, LogEventPublished } from "../platform/pubsub";
import { bufferOverflow, SubscriptionChannel } from "../platform/subscription-channel";
import { matchesLogFilter, type FilterNode } from "./filter";
import type { LogQueryService } from "./log-query.service";
import type { LogEvent } from "./log.types";

export interface LiveLogDependencies {
  pubsub: GatewayPubSub;
  fanOutGaps: FanOutGaps;
  clock: Clock;
  queries: LogQueryService;
  logger: Logger;
  /** Events a subscription may fall behind before it is ended (see SubscriptionChannel). */
  bufferSize: number;
}

/**
 * How far before the fan-out was seen to go the catch-up reads, and before a subscription
 * began it delivers: events published just before (the loss is noticed late), stamped before
 * their transaction committed, or by another instance with a clock a little behind.
 */
const CATCH_UP_MARGIN_MS = 5_000;
/** Events a catch-up delivers at most; past this many missed, the feeds end instead. */
const MAX_CATCH_UP = 10_000;
/** Events remembered as delivered, so a catch-up sends none twice. */
const REMEMBERED = 20_000;

interface LiveLogSubscriber {
  filter: FilterNode | null;
  /**
   * When it subscribed (epoch ms): a catch-up brings it nothing stamped a margin before. An
   * event is stamped before its transaction commits, perhaps by another instance's clock, and
   * published after: the live feed brings those that commit after this, and so must a catch-up.
   */
  since: number;
  channel: SubscriptionChannel<LogEvent>;
}

/**
 * Fans System Log events out to `systemLog` subscriptions. One listener per gateway takes the
 * { uuid } publications, loads each event once (publications that arrive together are loaded
 * in one batch), and hands it to every subscription whose filter matches, in publication
 * order. So the database sees the same work for one dashboard as for a thousand, and a
 * subscription's cost per event is one in-memory filter evaluation and a push into its own
 * bounded buffer; no subscriber waits on another.
 */
export class LiveLogFeed {
  private readonly subscribers = new Set<LiveLogSubscriber>();
  private readonly loader: DataLoader<string, LogEvent | null>;
  private source: AsyncIterator<LogEventPublished> | null = null;
  /** The tail of the delivery chain: each event is delivered after the one published before it. */
  private deliveries: Promise<void> = Promise.resolve();
  /** The events taken in lately, oldest first: a catch-up skips them. */
  private readonly taken = new Set<string>();
  private stopCatchingUp: (() => void) | null = null;

  constructor(private readonly deps: LiveLogDependencies) {
    this.loader = new DataLoader(
      async (uuids: readonly string[]) => {
        const events = await deps.queries.loadEvents(uuids);
        return uuids.map((uuid) => events.get(uuid) ?? null);
      },
      // Batching only: each event is loaded once by construction, and caching would keep them all.
      { cache: false, maxBatchSize: 500 },
    );
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** A subscription's source: every event published from now on that `filter` (null: all) accepts. */
  open(filter: FilterNode | null, admit: () => Promise<AppError | null>): SubscriptionChannel<LogEvent> {
    this.listen();
    const subscriber: LiveLogSubscriber = {
      filter,
      since: this.deps.clock.now().getTime(),
      channel: new SubscriptionChannel<LogEvent>({
        capacity: this.deps.bufferSize,
        overflowError: () => bufferOverflow(this.deps.bufferSize, "events"),
        admit,
        onClose: () => this.subscribers.delete(subscriber),
      }),
    };
    this.subscribers.add(subscriber);
    return subscriber.channel;
  }

  /** Stops listening and ends every subscription (the gateway is closing). */
  stop(): void {
    void this.source?.return?.();
    this.source = null;
    this.stopCatchingUp?.();
    this.stopCatchingUp = null;
    for (const { channel } of [...this.subscribers]) void channel.return();
  }

  private listen(): void {
    this.stopCatchingUp ??= this.deps.fanOutGaps.onResumed((lostAt) => void this.catchUp(lostAt));
    if (this.source) return;
    const source = this.deps.pubsub.subscribe("LOG_EVENT")[Symbol.asyncIterator]();
    this.source = source;
    void (async () => {
      try {
        // Awaits nothing but the next publication, so the pubsub's own buffer never builds up.
        for (let next = await source.next(); !next.done; next = await source.next()) this.accept(next.value.uuid);
      } catch (error) {
        this.deps.logger.error({ err: error }, "the System Log live feed stopped");
      } finally {
        if (this.source === source) this.source = null;
      }
    })();
  }

  /**
   * Redis pub/sub keeps nothing for a subscriber that is away: once the fan-out is back, the
   * events published since it went are read from the log and delivered, after those that came
   * meanwhile (a dashboard sees them late, never not at all), each once. Too many to catch up
   * on, and the feeds end, as a feed that fell behind does.
   */
  private async catchUp(lostAt: Date): Promise<void> {
    if (!this.subscribers.size) return;
    let missed: string[];
    try {
      missed = await this.deps.queries.publishedSince(new Date(lostAt.getTime() - CATCH_UP_MARGIN_MS), MAX_CATCH_UP + 1);
    } catch (error) {
      this.deps.logger.error({ err: error }, "the System Log events missed while Redis was away could not be read");
      this.failAll(new AppError(ErrorCode.INTERNAL, "Internal server error"));
      return;
    }
    if (missed.length > MAX_CATCH_UP) {
      this.failAll(bufferOverflow(MAX_CATCH_UP, "events"));
      return;
    }
    for (const uuid of missed) this.accept(uuid, { caughtUp: true });
  }

  private failAll(error: AppError): void {
    for (const { channel } of [...this.subscribers]) if (channel.isOpen) channel.fail(error);
  }

  /**
   * Called in publication order; delivers in that order, however the loads interleave. Each
   * event once: a catch-up may read one whose publication is still on its way.
   */
  private accept(uuid: string, { caughtUp = false } = {}): void {
    if (!this.subscribers.size || this.taken.has(uuid)) return;
    this.taken.add(uuid);
    if (this.taken.size > REMEMBERED) this.taken.delete(this.taken.values().next().value!);
    // Those subscribed when the event was published, and no one who subscribed after.
    const audience = [...this.subscribers];
    const loading = this.loader.load(uuid);
    // Awaited only once the events before it are delivered: a failure before then would be an
    // unhandled rejection meanwhile, which ends the process. The await below still sees it.
    loading.catch(() => undefined);
    this.deliveries = this.deliveries.then(async () => {
      let event: LogEvent | null;
      try {
        event = await loading;
      } catch (error) {
        // Skipped, the event would be missing from these feeds with nothing to tell: they end
        // instead, and a client subscribes again and reads the log since its last event.
        this.deps.logger.error({ err: error, uuid }, "a System Log event could not be loaded for live subscribers");
        for (const { channel } of audience) if (channel.isOpen) channel.fail(new AppError(ErrorCode.INTERNAL, "Internal server error"));
        return;
      }
      if (!event) return;
      const published = event.published.getTime();
      for (const { filter, channel, since } of audience) {
        if (caughtUp && published < since - CATCH_UP_MARGIN_MS) continue;
        if (channel.isOpen && (!filter || matchesLogFilter(filter, event))) channel.push(event);
      }
    });
  }
}
