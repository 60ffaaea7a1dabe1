import { execSync } from "node:child_process";
import WebSocket, { type RawData } from "ws";
import { summarize, type LatencySummary } from "./stats";
import { pollUntil } from "./timing";

const NEXT_PREFIX = Buffer.from('{"id":"1","type":"next"');

interface Arrival {
  at: number;
  data: Buffer;
}

/** The open-file limit this process (and the servers it starts) run under. */
export function openFileLimit(): number {
  try {
    const value = execSync("ulimit -n", { shell: "/bin/sh", encoding: "utf8" }).trim();
    return value === "unlimited" ? Number.POSITIVE_INFINITY : Number(value);
  } catch {
    return Number.NaN;
  }
}

export class TooManyOpenFiles extends Error {
  constructor(opened: number) {
    super(
      `EMFILE after ${opened} WebSockets: the open-file limit (ulimit -n, now ${openFileLimit()}) is too low for this many ` +
        "subscribers. Raise it in the shell that runs the bench (e.g. `ulimit -n 65536`) and run again.",
    );
  }
}

/**
 * Many graphql-transport-ws clients, each one socket holding one `systemLog` subscription,
 * spoken by hand on `ws` (no client library per socket). While recording, a message's arrival
 * time is taken before anything else is done with it, and it is parsed only afterwards, so the
 * bench's own work weighs as little as it can on the latencies it reports.
 */
export class SubscriberGroup {
  private readonly sockets: WebSocket[] = [];
  private readonly counts: number[] = [];
  private arrivals: Arrival[] = [];
  private failure: Error | null = null;
  private closing = false;
  /** Per-socket counts when mark() was called: waits count from there. */
  private marks: number[] = [];

  constructor(
    private readonly url: string,
    private readonly authorization: string,
    private readonly query: string,
  ) {}

  get size(): number {
    return this.sockets.length;
  }

  /** Opens sockets until there are `total`, `batch` at a time, each resolved once its subscribe was sent. */
  async growTo(total: number, batch = 200, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.length < total) {
      if (Date.now() > deadline) throw new Error(`Only ${this.sockets.length} of ${total} subscribers opened in ${timeoutMs} ms`);
      const count = Math.min(batch, total - this.sockets.length);
      await Promise.all(Array.from({ length: count }, () => this.openOne()));
      if (this.failure) throw this.failure;
    }
  }

  private openOne(): Promise<void> {
    const index = this.sockets.length;
    this.counts[index] = 0;
    const socket = new WebSocket(this.url, "graphql-transport-ws", { perMessageDeflate: false, skipUTF8Validation: true });
    this.sockets.push(socket);
    return new Promise<void>((resolve, reject) => {
      let subscribed = false;
      const timer = setTimeout(() => reject(new Error(`subscriber ${index} got no connection_ack within 30 s`)), 30_000);
      socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: this.authorization } })));
      socket.on("message", (data: RawData) => {
        const at = Date.now();
        const buffer = data as Buffer;
        if (subscribed && buffer.subarray(0, NEXT_PREFIX.length).equals(NEXT_PREFIX)) {
          this.counts[index]! += 1;
          this.arrivals.push({ at, data: buffer });
          return;
        }
        const message = JSON.parse(buffer.toString("utf8")) as { type: string; payload?: unknown };
        if (message.type === "connection_ack") {
          subscribed = true;
          socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: this.query } }));
          clearTimeout(timer);
          resolve();
        } else if (message.type === "ping") {
          socket.send(JSON.stringify({ type: "pong" }));
        } else if (message.type === "error" || message.type === "complete") {
          this.failure ??= new Error(`subscriber ${index} was refused or ended: ${buffer.toString("utf8").slice(0, 300)}`);
        }
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const failure = error.code === "EMFILE" ? new TooManyOpenFiles(index) : error;
        this.failure ??= failure;
        reject(failure);
      });
      socket.on("close", (code) => {
        if (!subscribed) {
          clearTimeout(timer);
          reject(new Error(`subscriber ${index} closed with ${code} before connection_ack`));
        } else if (!this.closing) this.failure ??= new Error(`subscriber ${index} closed with ${code}`);
      });
    });
  }

  /** Remembers how many events each socket has had, for everyoneReceived. */
  mark(): void {
    this.marks = [...this.counts];
  }

  /** Resolves once every socket has received `events` more since mark(), or fails naming how many lag. */
  async everyoneReceived(events: number, timeoutMs: number): Promise<void> {
    const behind = () => this.counts.filter((count, index) => count - (this.marks[index] ?? 0) < events).length;
    try {
      await pollUntil("every subscriber's events", async () => (this.failure || behind() === 0 ? true : null), timeoutMs, 5);
    } catch {
      throw new Error(`${behind()} of ${this.counts.length} subscribers lack event ${events} after ${timeoutMs} ms`);
    }
    if (this.failure) throw this.failure;
  }

  /** Forgets what arrived so far (a readiness probe is not measured). */
  clearArrivals(): void {
    this.arrivals = [];
  }

  /** Delivery latency of every event received since the last clear: arrival minus the event's `published`. */
  latencies(): LatencySummary {
    const values = this.arrivals.map(({ at, data }) => {
      const message = JSON.parse(data.toString("utf8")) as { payload: { data: { systemLog: { published: string } } } };
      return at - Date.parse(message.payload.data.systemLog.published);
    });
    return summarize(values);
  }

  async close(): Promise<void> {
    this.closing = true;
    const closing = this.sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once("close", () => resolve());
          socket.terminate();
        }),
    );
    await Promise.all(closing);
    this.sockets.length = 0;
  }
}
