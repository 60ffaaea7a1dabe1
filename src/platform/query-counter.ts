import type { Logger as TypeOrmLogger } from "typeorm";
import type { Logger } from "./logger";

/** Counts SQL statements (tests assert that loaders batch), and traces them at `trace` level. */
export class QueryCounter implements TypeOrmLogger {
  count = 0;

  constructor(private readonly logger: Logger) {}

  logQuery(query: string): void {
    this.count += 1;
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
