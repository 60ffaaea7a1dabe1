import { CredentialRevalidator, REVALIDATE_AFTER_MS, type SessionLiveness } from "../auth/credential-revalidation";
import { HOUR_MS, type Clock } from "../platform/clock";
import type { Config } from "../platform/config";
import type { Database } from "../platform/database";
import type { Logger } from "../platform/logger";
import { PeriodicJob } from "../platform/periodic-job";
import type { FanOutGaps, GatewayPubSub } from "../platform/pubsub";
import { DeliveryStatusFeed } from "../telephony/delivery-status";
import { LiveLogFeed } from "./live-log";
import { LogQueryService } from "./log-query.service";
import { UsageReportService } from "./usage-report";

export interface LogServiceDependencies {
  config: Pick<Config, "logRetentionDays" | "subscriptionBufferSize">;
  db: Database;
  clock: Clock;
  logger: Logger;
  pubsub: GatewayPubSub;
  fanOutGaps: FanOutGaps;
  sessions: SessionLiveness;
}

/** The System Log's readers, its retention job, the usage report and the live subscriptions' sources. */
export function createLogServices({ config, db, clock, logger, pubsub, fanOutGaps, sessions }: LogServiceDependencies) {
  const logQueries = new LogQueryService(db, clock);
  const subscriptionCredentials = new CredentialRevalidator(db, clock, sessions, logger);
  return {
    logQueries,
    // Hourly, and once at start: events older than LOG_RETENTION_DAYS are deleted.
    logRetention: new PeriodicJob({
      name: "System Log retention purge",
      run: () => logQueries.purgeOlderThan(config.logRetentionDays),
      intervalMs: HOUR_MS,
      logger,
      report: (purged, log) => {
        if (purged) log.info({ purged, retentionDays: config.logRetentionDays }, "System Log events past retention purged");
      },
    }),
    liveLog: new LiveLogFeed({ pubsub, fanOutGaps, clock, queries: logQueries, logger, bufferSize: config.subscriptionBufferSize }),
    deliveryStatus: new DeliveryStatusFeed({ db, clock, pubsub, fanOutGaps, logger, bufferSize: config.subscriptionBufferSize }),
    subscriptionCredentials,
    // Ends the running subscriptions whose credential has lapsed though no event came to check it at.
    credentialSweep: new PeriodicJob({
      name: "subscription credential sweep",
      run: () => subscriptionCredentials.sweep(),
      intervalMs: REVALIDATE_AFTER_MS,
      logger,
    }),
    usageReport: new UsageReportService(db),
  };
}
