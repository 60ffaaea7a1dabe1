import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import type { PubSubEventTarget } from "@graphql-yoga/subscription";
import { Redis, type Command, type RedisOptions } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import type { Clock } from "./clock";
import type { Logger } from "./logger";
import type { FanOutGaps, TopicPayloads } from "./pubsub";
import type { LimiterFactory } from "../security/rate-limits";

/**
 * The Redis side of scale-out: pub/sub fan-out between instances and shared rate-limit
 * counters. Three connections, because a subscribed connection can do nothing else.
 */
export class RedisConnections implements FanOutGaps {
  readonly publisher: Redis;
  readonly subscriber: Redis;
  readonly commands: Redis;
  private lastError: string | null = null;
  /** When the subscriber connection was lost, until its channels are listened to again. */
  private subscriberLostAt: Date | null = null;
  private readonly resumedListeners = new Set<(lostAt: Date) => void>();
  /** The channels this instance listens to, subscribed again whenever the connection comes back. */
  private readonly listened = new Set<string>();

  /** `instanceId` names the connections in CLIENT LIST, so an operator can tell instances apart. */
  constructor(
    url: string,
    readonly keyPrefix: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
    instanceId: string,
  ) {
    const options: RedisOptions = {
      // Commands fail fast while disconnected, so a request is not held hostage by Redis;
      // the connection itself keeps retrying with backoff.
      maxRetriesPerRequest: 1,
      // A Redis that stops answering (a partition) fails commands as one that refuses them does,
      // so the in-memory limiters take over rather than every request waiting on TCP.
      commandTimeout: 2_000,
      connectTimeout: 5_000,
      enableOfflineQueue: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
      lazyConnect: false,
    };
    // Client names may not hold spaces; a host name has none.
    const named = (role: string) => `ringfence-${role}/${instanceId}`.replace(/\s/g, "_");
    this.publisher = new Redis(url, { ...options, connectionName: named("pub") });
    this.subscriber = new Redis(url, { ...options, connectionName: named("sub") });
    this.commands = new CommandConnection(url, { ...options, connectionName: named("cmd") }, this.logger);
    for (const connection of [this.publisher, this.subscriber, this.commands]) {
      connection.on("error", (error: Error) => {
        if (this.lastError !== error.message) this.logger.error({ err: error }, "Redis connection error: fan-out and shared limits are degraded");
        this.lastError = error.message;
      });
      connection.on("ready", () => {
        if (this.lastError) this.logger.warn("Redis connection restored");
        this.lastError = null;
      });
    }
    this.subscriber.on("close", () => {
      this.subscriberLostAt ??= this.clock.now();
    });
    this.subscriber.on("ready", () => void this.resubscribe());
  }

  onResumed(listener: (lostAt: Date) => void): () => void {
    this.resumedListeners.add(listener);
    return () => this.resumedListeners.delete(listener);
  }

  /** Listens to the channels again after a loss, then tells the live feeds from when they may have missed publications. */
  private async resubscribe(): Promise<void> {
    const lostAt = this.subscriberLostAt;
    if (!lostAt) return;
    if (this.listened.size) {
      try {
        await this.subscriber.subscribe(...this.listened);
      } catch (error) {
        // The connection went again: its next "ready" tries once more, from the first loss.
        this.logger.warn({ err: error }, "Redis subscribe failed: events do not reach other instances until it is back");
        return;
      }
    }
    this.subscriberLostAt = null;
    for (const listener of [...this.resumedListeners]) {
      try {
        listener(lostAt);
      } catch (error) {
        this.logger.error({ err: error }, "a live feed failed to catch up after Redis came back");
      }
    }
  }

  healthy(): boolean {
    return [this.publisher, this.subscriber, this.commands].every((connection) => connection.status === "ready");
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.commands.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  /**
   * Pub/sub across instances; channels carry the key prefix so deployments sharing a Redis stay
   * apart. The event target fires its commands without waiting for them: while Redis is away
   * they fail, and a failure nobody handles would end the process. They are logged instead, and
   * the channels listened to are subscribed again once the connection is back.
   */
  eventTarget(): PubSubEventTarget<TopicPayloads> {
    const listened = this.listened;
    const failed = (command: string) => (error: unknown) => {
      this.logger.warn({ err: error }, `Redis ${command} failed: events do not reach other instances until it is back`);
      return 0;
    };
    const publishClient = { publish: (channel: string, message: string) => this.publisher.publish(channel, message).catch(failed("publish")) };
    const subscribeClient = {
      on: (event: "message", listener: (channel: string, message: string) => void) => this.subscriber.on(event, listener),
      subscribe: (channel: string) => {
        listened.add(channel);
        return this.subscriber.subscribe(channel).catch(failed("subscribe"));
      },
      unsubscribe: (channel: string) => {
        listened.delete(channel);
        return this.subscriber.unsubscribe(channel).catch(failed("unsubscribe"));
      },
    };
    const target = createRedisEventTarget<CustomEvent>({ publishClient: publishClient as unknown as Redis, subscribeClient: subscribeClient as unknown as Redis });
    return prefixedEventTarget(target as unknown as MinimalEventTarget, `${this.keyPrefix}:`) as unknown as PubSubEventTarget<TopicPayloads>;
  }

  /**
   * Shared counters: a limit of 5 holds across instances. While Redis is unreachable each
   * instance counts in memory (the insurance limiter), so limits still hold per instance.
   */
  limiterFactory(): LimiterFactory {
    return (options) =>
      new RateLimiterRedis({
        ...options,
        keyPrefix: `${this.keyPrefix}:${options.keyPrefix}`,
        storeClient: this.commands,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(options),
      });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit(), this.commands.quit()]);
  }
}

interface TopicEvent {
  type: string;
  detail?: unknown;
}
type TopicListener = ((event: TopicEvent) => void) | { handleEvent(event: TopicEvent): void };

interface MinimalEventTarget {
  addEventListener(type: string, listener: TopicListener | null): void;
  removeEventListener(type: string, listener: TopicListener | null): void;
  dispatchEvent(event: TopicEvent): boolean;
}

/** Renames event types on the way in and out, so channels are namespaced by deployment. */
function prefixedEventTarget(target: MinimalEventTarget, prefix: string): MinimalEventTarget {
  const wrapped = new Map<TopicListener, (event: TopicEvent) => void>();
  const inner = (listener: TopicListener) => {
    let callback = wrapped.get(listener);
    if (!callback) {
      callback = (event: TopicEvent) => {
        const renamed = new CustomEvent(event.type.slice(prefix.length), { detail: event.detail });
        if (typeof listener === "function") listener(renamed);
        else listener.handleEvent(renamed);
      };
      wrapped.set(listener, callback);
    }
    return callback;
  };
  return {
    addEventListener: (type, listener) => {
      if (listener) target.addEventListener(prefix + type, inner(listener));
    },
    removeEventListener: (type, listener) => {
      if (!listener) return;
      target.removeEventListener(prefix + type, inner(listener));
      wrapped.delete(listener);
    },
    dispatchEvent: (event) => target.dispatchEvent(new CustomEvent(prefix + event.type, { detail: event.detail })),
  };
}

/**
 * The limiters' connection. A Redis that stops answering (a partition, a stuck server) keeps the
 * connection "ready", so each limiter command waited out its timeout, and a send counts four
 * windows one after another. The first timeout drops the connection instead: while it connects
 * again (and its ready check waits on a Redis that still does not answer) the limiters see it
 * not ready and count in memory at once (rejectIfRedisNotReady), until Redis answers.
 */
class CommandConnection extends Redis {
  constructor(
    url: string,
    options: RedisOptions,
    private readonly logger: Logger,
  ) {
    super(url, options);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis["sendCommand"]>[1]): unknown {
    const sent = super.sendCommand(command, stream);
    command.promise.catch((error: unknown) => {
      if (!(error instanceof Error) || error.message !== "Command timed out" || this.status !== "ready") return;
      this.logger.error("Redis stopped answering: limits are counted in memory until it answers again");
      this.disconnect(true);
    });
    return sent;
  }
}
