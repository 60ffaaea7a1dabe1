import { ApiTokenService } from "../auth/api-token.service";
import { GroupService } from "../groups/group.service";
import { LogService } from "../log/log.service";
import { createLogServices } from "../log/log-services";
import { ChallengeService } from "../phone/challenge.service";
import { FactorService } from "../phone/factor.service";
import { PhoneAuthenticatorService } from "../phone/phone-authenticator.service";
import { PhoneNumberService } from "../phone/phone-number.service";
import { MessageComposer } from "../templates/composer";
import { DatabaseTemplateSource, SmsTemplateService } from "../templates/sms-template.service";
import { Dispatcher } from "../telephony/dispatcher";
import { Outbox, type DispatchSignal } from "../telephony/outbox";
import { createTelephony } from "../telephony/provider-config";
import { ReceiptProcessor } from "../telephony/receipts";
import { PolicyService } from "../policies/policy.service";
import { SessionService } from "../sessions/session.service";
import { TransactionService } from "../transactions/transaction.service";
import { UserService } from "../users/user.service";
import { memoryLimiters, RateLimits, type LimiterFactory } from "../security/rate-limits";
import { SecuritySettingsService } from "../security/security-settings";
import { SendGuard } from "../security/send-guard";
import { TrafficCounters } from "../security/traffic-counters";
import { PeriodicJob } from "./periodic-job";
import { DAY_MS, HOUR_MS, type Clock } from "./clock";
import type { Config } from "./config";
import type { Database } from "./database";
import type { Logger } from "./logger";
import { PublicUrl } from "./public-url";
import type { FanOutGaps, GatewayPubSub } from "./pubsub";
import { ServerSecrets } from "./secrets";

export interface ServiceDependencies {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  pubsub: GatewayPubSub;
  /** When publications may have been lost (Redis was away); never, on one instance. */
  fanOutGaps: FanOutGaps;
  instanceId: string;
  /** Where rate limits are counted: in process by default, Redis in scale-out mode. */
  limiterFactory?: LimiterFactory;
}

/** The outbox wakes the dispatcher, which is built after it: this forwards to it once it exists. */
class ForwardingSignal implements DispatchSignal {
  target: DispatchSignal | null = null;
  wake(): void {
    this.target?.wake();
  }
}

/** The gateway's services, wired once at start; resolvers reach them, never the reverse. */
export function createServices(deps: ServiceDependencies) {
  const { config, db, clock, logger, pubsub } = deps;
  const secrets = ServerSecrets.load(config);
  const log = new LogService(clock, pubsub, db.statements);
  const signal = new ForwardingSignal();
  const outbox = new Outbox(clock, secrets, pubsub, signal, db.statements);
  const phoneAuthenticator = new PhoneAuthenticatorService(db, clock, log);
  const phoneNumbers = new PhoneNumberService(db, clock, phoneAuthenticator, log);
  const smsTemplates = new SmsTemplateService({ db, clock, org: config, authenticator: phoneAuthenticator, log });
  const composer = new MessageComposer(new DatabaseTemplateSource(db), config);
  const securitySettings = new SecuritySettingsService(db, clock, config.securityDefaults, log);
  const rateLimits = new RateLimits(deps.limiterFactory ?? memoryLimiters);
  const guard = new SendGuard({
    db,
    clock,
    log,
    logger,
    settings: securitySettings,
    limits: rateLimits,
    counters: new TrafficCounters(db),
    homeCountry: config.homeCountry,
  });
  const counterPurge = new PeriodicJob({
    name: "traffic counter and fraud block purge",
    run: async () => {
      await guard.purgeCounters();
      return guard.purgeLapsedBlocks();
    },
    intervalMs: HOUR_MS,
    logger,
  });
  const challenges = new ChallengeService({
    guard,
    pubsub,
    maxConsecutiveFailures: async () => (await securitySettings.get()).maxConsecutiveFailedPasscodes,
    db,
    clock,
    secrets,
    outbox,
    log,
    composer,
    authenticator: phoneAuthenticator,
    numbers: phoneNumbers,
    homeCountry: config.homeCountry,
  });
  const sessions = new SessionService(db, clock, log);
  const policies = new PolicyService(db, clock, log);
  const factors = new FactorService({
    db,
    clock,
    log,
    authenticator: phoneAuthenticator,
    numbers: phoneNumbers,
    challenges,
    sessions,
    policies,
  });

  const publicUrl = new PublicUrl(config.publicUrl);
  const telephony = createTelephony(config, { db, clock, logger, publicUrl });
  const simulator = telephony.simulator;
  const receipts = new ReceiptProcessor({ db, clock, logger, pubsub, log });
  const dispatcher = new Dispatcher({
    db,
    clock,
    logger,
    pubsub,
    log,
    secrets,
    router: telephony.router,
    receipts,
    instanceId: deps.instanceId,
    pollIntervalMs: config.dispatchIntervalMs,
    receiptWindowMs: config.receiptWindowMs,
    leaseMs: config.dispatchLeaseMs,
  });
  signal.target = dispatcher;

  const transactions = new TransactionService({
    db,
    clock,
    log,
    policies,
    sessions,
    factors,
    challenges,
    authenticator: phoneAuthenticator,
    limits: rateLimits,
    recoveryResponseFloorMs: config.recoveryResponseFloorMs,
  });

  // Hourly, and once at start. A day's grace after the end, so that a support request about a
  // sign-in that just failed still finds its challenge and transaction.
  const endedRecordPurge = new PeriodicJob({
    name: "ended session, transaction and challenge purge",
    run: async () => {
      const before = new Date(clock.now().getTime() - DAY_MS);
      return {
        sessions: await sessions.purgeEndedBefore(before),
        transactions: await transactions.purgeExpiredBefore(before),
        challenges: await challenges.purgeExpiredBefore(before),
        simulatorMessages: simulator ? await simulator.purgeReceivedBefore(before) : 0,
      };
    },
    intervalMs: HOUR_MS,
    logger,
    report: (purged, log) => {
      if (Object.values(purged).some((count) => count > 0)) log.info({ purged }, "ended sessions, transactions and challenges purged");
    },
  });

  return {
    ...deps,
    secrets,
    log,
    outbox,
    users: new UserService(db, clock, log, sessions, policies),
    groups: new GroupService(db, clock, log, policies),
    apiTokens: new ApiTokenService(db, clock, log),
    phoneAuthenticator,
    phoneNumbers,
    smsTemplates,
    challenges,
    factors,
    policies,
    sessions,
    transactions,
    securitySettings,
    guard,
    counterPurge,
    endedRecordPurge,
    simulator,
    publicUrl,
    telephony,
    receipts,
    dispatcher,
    ...createLogServices({ config, db, clock, logger, pubsub, fanOutGaps: deps.fanOutGaps, sessions }),
  };
}

export type Services = ReturnType<typeof createServices>;
