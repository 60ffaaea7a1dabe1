import { Worker } from "node:worker_threads";
import type { Logger } from "./logger";

/** What `PRAGMA wal_checkpoint` reports: WAL frames in all, and how many of them are now in the database file. */
export interface CheckpointResult {
  busy: boolean;
  walFrames: number;
  checkpointedFrames: number;
}

type WorkerReply = { id: number; result: CheckpointResult } | { id: number; error: string } | { failed: string };

// Plain JavaScript run with `eval`, so that it works the same compiled and under ts-jest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const checkpoint = () => {
  const [row] = db.pragma("wal_checkpoint(PASSIVE)");
  return { busy: row.busy === 1, walFrames: row.log, checkpointedFrames: row.checkpointed };
};
const timer = setInterval(() => {
  try { checkpoint(); } catch (error) { parentPort.postMessage({ failed: String(error && error.message || error) }); }
}, workerData.intervalMs);
parentPort.on("message", (request) => {
  if (request.stop) {
    clearInterval(timer);
    db.close();
    parentPort.close();
    return;
  }
  try { parentPort.postMessage({ id: request.id, result: checkpoint() }); }
  catch (error) { parentPort.postMessage({ id: request.id, error: String(error && error.message || error) }); }
});
`;

/**
 * Copies the SQLite WAL into the database file from a worker thread with its own connection.
 *
 * Left to SQLite, the commit that takes the WAL past `wal_autocheckpoint` pages does the copy
 * itself, and the fsyncs that go with it, on the event loop: with synchronous=NORMAL that is the
 * only commit that waits for the disk, and under load one in a few hundred took over 20 ms while
 * every request queued behind it. A PASSIVE checkpoint never waits for readers or the writer, so
 * the gateway's connection carries on while the worker copies; once the copy has caught up, the
 * next commit starts the WAL over from its beginning, and it stays small. The gateway's own
 * connection keeps a high `wal_autocheckpoint` (see data-source.ts) in case this worker stalls.
 */
export class SqliteCheckpointer {
  private readonly pending = new Map<number, { resolve: (result: CheckpointResult) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private stopped = false;
  /** Settles when the worker ends, whether asked to or not: stop() must not wait for an exit already past. */
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
  ) {
    worker.on("message", (reply: WorkerReply) => this.onReply(reply));
    worker.on("error", (error) => {
      this.logger.error({ err: error }, "the SQLite checkpoint worker stopped; SQLite's own checkpoints take over");
      this.rejectAll(error);
    });
    this.exited = new Promise((resolve) =>
      worker.once("exit", () => {
        this.rejectAll(new Error("the checkpoint worker has exited"));
        resolve();
      }),
    );
    // Housekeeping must not keep the process alive.
    worker.unref();
  }

  static start(options: { file: string; intervalMs: number; logger: Logger }): SqliteCheckpointer {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: options.file, intervalMs: options.intervalMs, driver: require.resolve("better-sqlite3") },
    });
    return new SqliteCheckpointer(worker, options.logger);
  }

  /** One checkpoint now, besides the periodic ones. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.stopped) return Promise.reject(new Error("the checkpointer is stopped"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id });
    });
  }

  /** Closes the worker's connection; the gateway's own close checkpoints what is left. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Waited for now: unreferenced, its exit would not keep the process alive to hear of it, and
    // a shutdown with nothing else left to do would end there, its database never closed.
    this.worker.ref();
    this.worker.postMessage({ stop: true });
    await this.exited;
  }

  private onReply(reply: WorkerReply): void {
    if ("failed" in reply) {
      this.logger.warn({ reason: reply.failed }, "a background SQLite checkpoint failed");
      return;
    }
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if ("error" in reply) waiter.reject(new Error(reply.error));
    else waiter.resolve(reply.result);
  }

  private rejectAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
