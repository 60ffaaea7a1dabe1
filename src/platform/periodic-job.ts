import type { Logger } from "./logger";
import { SerialQueue } from "./serial-queue";

export interface PeriodicJobOptions<T> {
  /** What the logs call it. */
  name: string;
  run: () => Promise<T>;
  intervalMs: number;
  logger: Logger;
  /** Logs a run's result when it is worth a line. */
  report?: (result: T, logger: Logger) => void;
}

/**
 * Housekeeping that runs once when the gateway starts, then every interval. Runs never
 * overlap, and stop() waits for the one in progress, so the database is not closed under it.
 */
export class PeriodicJob<T> {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly runs = new SerialQueue();

  constructor(private readonly options: PeriodicJobOptions<T>) {}

  start(): void {
    if (this.timer) return;
    // A run still going when the next is due stands for it: queued instead, slow runs would pile up.
    this.timer = setInterval(() => {
      if (!this.running) void this.runLogged();
    }, this.options.intervalMs);
    // A pending run is no reason to keep the process alive.
    this.timer.unref();
    void this.runLogged();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.runs.idle();
  }

  /** One run, after any in progress. */
  runOnce(): Promise<T> {
    return this.runs.run(() => this.options.run());
  }

  private async runLogged(): Promise<void> {
    this.running = true;
    try {
      const result = await this.runOnce();
      this.options.report?.(result, this.options.logger);
    } catch (error) {
      this.options.logger.error({ err: error, job: this.options.name }, `${this.options.name} failed`);
    } finally {
      this.running = false;
    }
  }
}
