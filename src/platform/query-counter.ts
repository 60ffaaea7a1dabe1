import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger as TypeOrmLogger } from "typeorm";
import type { Logger } from "./logger";

const REMEMBERED_REQUESTS = 200;

/**
 * Records the SQL statements of each request (tests assert that loaders batch; background work
 * such as the dispatcher is not counted against a request), and traces them at `trace` level.
 */
export class QueryCounter implements TypeOrmLogger {
  private readonly current = new AsyncLocalStorage<{ statements: string[] }>();
  private readonly finished = new Map<string, readonly string[]>();

  constructor(private readonly logger: Logger) {}

  /** Runs a request's work with its own statement record, kept under its request id once it finishes. */
  track(requestId: string, finished: (onFinish: () => void) => void, work: () => void): void {
    const counter = { statements: [] as string[] };
    finished(() => {
      this.finished.set(requestId, counter.statements);
      if (this.finished.size > REMEMBERED_REQUESTS) this.finished.delete(this.finished.keys().next().value!);
    });
    this.current.run(counter, work);
  }

  statementsFor(requestId: string): readonly string[] | undefined {
    return this.finished.get(requestId);
  }

  logQuery(query: string): void {
    const counter = this.current.getStore();
    if (counter) counter.statements.push(query);
    if (this.logger.isLevelEnabled("trace")) this.logger.trace({ query }, "sql");
  }
  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ err: error, query }, "sql failed");
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ ms: time, query }, "slow sql");
  }
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.logger.info({ migration: message }, "migration");
  }
  log(level: "log" | "info" | "warn", message: unknown): void {
    if (level === "warn") this.logger.warn({ message }, "typeorm");
  }
}
