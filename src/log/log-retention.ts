import type { Logger } from "../platform/logger";
import type { LogQueryService } from "./log-query.service";

export interface LogRetentionDependencies {
  queries: LogQueryService;
  logger: Logger;
  /** Events older than this many days are deleted (LOG_RETENTION_DAYS). */
  retentionDays: number;
  /** @default 3600000 (hourly) */
  intervalMs?: number;
}

const HOUR_MS = 3_600_000;

/**
 * Deletes System Log events past retention: once when the gateway starts, then hourly. Runs
 * never overlap, and stop() waits for the one in progress, so the database is not closed
 * under it.
 */
export class LogRetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private runs: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: LogRetentionDependencies) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runLogged(), this.deps.intervalMs ?? HOUR_MS);
    // A pending purge is no reason to keep the process alive.
    this.timer.unref();
    void this.runLogged();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.runs;
  }

  /** One purge, after any in progress; resolves with how many events it deleted. */
  runOnce(): Promise<number> {
    const run = this.runs.then(() => this.deps.queries.purgeOlderThan(this.deps.retentionDays));
    this.runs = run.catch(() => undefined);
    return run;
  }

  private async runLogged(): Promise<void> {
    try {
      const purged = await this.runOnce();
      if (purged) this.deps.logger.info({ purged, retentionDays: this.deps.retentionDays }, "System Log events past retention purged");
    } catch (error) {
      this.deps.logger.error({ err: error }, "System Log retention purge failed");
    }
  }
}
