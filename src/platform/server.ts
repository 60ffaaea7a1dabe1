import { randomUUID } from "node:crypto";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import proxyaddr from "proxy-addr";
import express, { type NextFunction, type Request, type Response } from "express";
import { GraphQLError, type ExecutionResult } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { authenticate } from "../auth/authenticate";
import type { Viewer } from "../auth/viewer";
import { GraphQLLimits } from "../security/graphql-limits";
import { httpServerTimeouts, responseDeadline } from "../security/request-timeout";
import { systemClock, type Clock } from "./clock";
import type { Config } from "./config";
import type { Context } from "./context";
import { createDataSource, createReaderDataSource, ensureSchema, migrate, sqliteFile, withStartupLock } from "./data-source";
import { SqliteCheckpointer } from "./sqlite-checkpointer";
import { Database } from "./database";
import { AppError, ErrorCode } from "./errors";
import { BODY_FIELD, formatError, INTERNAL_MESSAGE, isInternal } from "./graphql-errors";
import { landingPage, landingPageHeaders } from "./landing-page";
import { createLoaders } from "./loaders";
import { createLogger, type Logger } from "./logger";
import { createGatewayPubSub, noFanOutGaps } from "./pubsub";
import { RedisConnections } from "./redis";
import { buildGatewaySchema, createResolverContainer } from "./schema";
import { createServices, type Services } from "./services";
import { sharedSubscribe } from "./shared-execution";
import { SocketOperations, SUBSCRIBER_ALREADY_EXISTS } from "./socket-operations";
import { QueryCounter } from "./query-counter";
import { telephonyWebhooks } from "../telephony/webhooks";
import { webPages } from "../web/static";

export interface GatewayOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
}

export interface Gateway {
  url: string;
  wsUrl: string;
  port: number;
  services: Services;
  db: Database;
  /** SQL statements per request id, for tests that assert batching. */
  queries: QueryCounter;
  /** Scale-out mode's connections; null on one instance without Redis. */
  redis: RedisConnections | null;
  /** Set when this start made the first admin token; printed once by main. */
  bootstrapToken: string | null;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Often enough that each checkpoint copies little, and the WAL it lets start over stays small. */
const CHECKPOINT_INTERVAL_MS = 250;

export async function startGateway({ config, clock = systemClock, logger = createLogger(config) }: GatewayOptions): Promise<Gateway> {
  const queries = new QueryCounter(logger);
  // Counting statements per request costs an AsyncLocalStorage context on every request: only
  // tests and development read the counts. SQL is traced at LOG_LEVEL=trace in any mode.
  const countQueries = config.nodeEnv !== "production";
  await ensureSchema(config);
  const dataSource = createDataSource(config);
  dataSource.setOptions({ logger: queries, logging: countQueries || logger.isLevelEnabled("trace") ? ["query", "error"] : ["error"] });
  await dataSource.initialize();
  await migrate(dataSource);
  const reader = createReaderDataSource(config);
  reader?.setOptions({ logger: queries, logging: dataSource.options.logging });
  await reader?.initialize();
  const db = new Database(dataSource, reader ?? dataSource);
  const checkpointer =
    config.engine === "sqlite" ? SqliteCheckpointer.start({ file: sqliteFile(config), intervalMs: CHECKPOINT_INTERVAL_MS, logger }) : null;

  // Several instances share subscriptions and limits through Redis; one instance needs none.
  const instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const redis = config.redisUrl ? new RedisConnections(config.redisUrl, config.redisKeyPrefix, logger, clock, instanceId) : null;
  const pubsub = createGatewayPubSub(redis?.eventTarget());
  const services = createServices({ config, db, clock, logger, pubsub, fanOutGaps: redis ?? noFanOutGaps, instanceId, limiterFactory: redis?.limiterFactory() });
  const bootstrap = await withStartupLock(dataSource, async () => {
    await services.policies.ensureDefaults();
    return services.apiTokens.bootstrap(config.bootstrapAdminToken);
  });

  const schema = await buildGatewaySchema(pubsub);
  const container = createResolverContainer(services);
  const limits = GraphQLLimits.fromConfig(config);

  const buildContext = async (request: {
    authorization: string | null | undefined;
    requestId: string;
    logger: Logger;
    ipAddress: string | null;
    userAgent: string | null;
    viewer?: Viewer;
  }): Promise<Context> => ({
    requestId: request.requestId,
    logger: request.logger,
    viewer: request.viewer ?? (await authenticateLogged(request.authorization, request.requestId, request.logger)),
    client: { ipAddress: request.ipAddress, userAgent: request.userAgent },
    loaders: createLoaders(db),
    container,
  });

  /**
   * A credential refused is the client's UNAUTHENTICATED; a check that could not be made (the
   * database unreachable) is ours: logged with its cause, INTERNAL with the request id to quote.
   */
  const authenticateLogged = async (authorization: string | null | undefined, requestId: string, requestLogger: Logger): Promise<Viewer> => {
    try {
      return await authenticate(authorization, services.apiTokens, services.sessions);
    } catch (error) {
      if (error instanceof AppError) throw error;
      requestLogger.error({ err: error }, "credential check failed");
      throw new AppError(ErrorCode.INTERNAL, INTERNAL_MESSAGE, { requestId });
    }
  };

  const app = express();
  app.disable("x-powered-by");
  // Answers are per credential and mostly to POSTs: no cache revalidates them, so hashing every
  // body for an ETag is wasted work.
  app.set("etag", false);
  // One rule for both transports: HTTP through Express, WebSocket operations below.
  const trustProxy = proxyTrust(config.trustProxy);
  app.set("trust proxy", trustProxy);
  const httpServer = http.createServer(httpServerTimeouts(config.requestTimeoutMs), app);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const offered = req.header("x-request-id");
    const requestId = offered && REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.locals.logger = logger.child({ requestId });
    res.setHeader("x-request-id", requestId);
    // The access line is at info: below that level, no timing and no listener.
    if (logger.isLevelEnabled("info")) {
      const started = process.hrtime.bigint();
      res.on("finish", () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        res.locals.logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
      });
    }
    if (countQueries) queries.track(requestId, (onFinish) => res.on("finish", onFinish), next);
    else next();
  });
  app.use(responseDeadline(config.requestTimeoutMs));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await dataSource.query("SELECT 1");
      // On SQLite the reads outside transactions have a connection of their own: it must answer too.
      await reader?.query("SELECT 1");
      const pending = await dataSource.showMigrations();
      if (pending) {
        res.status(503).json({ status: "unavailable", database: "ok", migrations: "pending" });
        return;
      }
      // The subscriber connection too: without it, this instance hears nothing the others publish.
      if (redis && !(redis.healthy() && (await redis.ping()))) {
        // Still serving HTTP, but subscriptions and limits are no longer shared: let the balancer know.
        res.status(503).json({ status: "degraded", database: "ok", migrations: "applied", redis: "unreachable" });
        return;
      }
      res.json({ status: "ok", database: "ok", migrations: "applied", ...(redis ? { redis: "ok" } : {}) });
    } catch (error) {
      res.locals.logger.warn({ err: error }, "readiness check failed");
      res.status(503).json({ status: "unavailable", database: "unreachable" });
    }
  });

  // Providers' delivery reports: signed by the provider, not by a gateway credential.
  app.use(
    "/webhooks",
    telephonyWebhooks({
      twilio: services.telephony.twilio,
      hooks: services.telephony.hooks,
      publicUrl: services.publicUrl,
      logger,
      maxBodyBytes: config.maxBodyBytes,
    }),
  );

  // A message is held to the HTTP body's limit: ws would otherwise buffer and parse 100 MiB.
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxBodyBytes });
  const wsCleanup = useServer<Record<string, unknown>, { authorization?: string | null; requestId?: string; operations?: SocketOperations }>(
    {
      schema,
      onSubscribe: async (ctx, id, payload) => {
        const operations = (ctx.extra.operations ??= new SocketOperations(config.maxOperationsPerSocket));
        const claim = operations.begin(id);
        if (claim === "DUPLICATE") {
          ctx.extra.socket.close(SUBSCRIBER_ALREADY_EXISTS, `Subscriber for ${id} already exists`);
          return [new GraphQLError(`Subscriber for ${id} already exists`)];
        }
        if (claim === "FULL") return [operations.tooMany()];
        const refused = (errors: readonly GraphQLError[]) => {
          operations.ended(id);
          return errors;
        };
        // The limits hold over WebSocket too: parsed and validated here, as Apollo does over HTTP.
        const args = limits.subscribeArgs(schema, payload);
        if (Array.isArray(args)) return refused(args);
        // Each operation is authenticated again, as each HTTP request is: a socket opened before
        // its token was revoked or its session ended must not go on querying, or minting tokens.
        let viewer: Viewer;
        const requestId = ctx.extra.requestId ?? randomUUID();
        const operationLogger = logger.child({ requestId, transport: "ws" });
        try {
          viewer = await authenticateLogged(ctx.extra.authorization ?? null, requestId, operationLogger);
        } catch (error) {
          return refused([new GraphQLError(error instanceof Error ? error.message : "Unauthenticated", { originalError: error instanceof Error ? error : undefined })]);
        }
        const contextValue = await buildContext({
          authorization: null,
          viewer,
          requestId,
          logger: operationLogger,
          ipAddress: proxyaddr(ctx.extra.request, trustProxy),
          userAgent: ctx.extra.request.headers["user-agent"] ?? null,
        });
        return { ...args, contextValue };
      },
      // Admins watching the System Log with the same document share each event's execution.
      subscribe: sharedSubscribe((contextValue) => ((contextValue as Context).viewer.kind === "admin" ? "admin" : null)),
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        ctx.extra.authorization = typeof authorization === "string" ? authorization : null;
        ctx.extra.requestId = randomUUID();
        try {
          // Refused at connect too, so that a bad credential fails fast rather than per operation.
          await authenticateLogged(ctx.extra.authorization, ctx.extra.requestId, logger.child({ requestId: ctx.extra.requestId, transport: "ws" }));
          return true;
        } catch (error) {
          // 4403 says the credential is bad, and clients sign out on it; a check that could not be
          // made is thrown, and graphql-ws closes with 4500 instead.
          if (error instanceof AppError && error.code === ErrorCode.UNAUTHENTICATED) return false;
          throw error;
        }
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        ctx.extra.operations?.started(id, result);
      },
      onComplete: (ctx, id) => {
        ctx.extra.operations?.ended(id);
      },
      onClose: (ctx) => ctx.extra.operations?.closeAll(),
      onNext: (ctx, _id, _payload, args, result) =>
        withFormattedErrors(result as ExecutionResult, ctx.extra.requestId, (args.contextValue as Context | undefined)?.logger ?? logger),
      onError: (ctx, _id, _payload, errors) =>
        errors.map((error) => formatError(error.toJSON(), error)).map((error) =>
          isInternal(error) ? { ...error, extensions: { ...error.extensions, requestId: ctx.extra.requestId } } : error,
        ),
    },
    wsServer,
  );

  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    logger,
    allowBatchedHttpRequests: false,
    // main stops the whole gateway on SIGTERM and SIGINT. Apollo's own handlers (on outside
    // NODE_ENV=test) stop only Apollo, then kill the process before the rest can finish.
    stopOnTerminationSignals: false,
    // No client of ours uses automatic persisted queries; off, a stray hash cannot reach Apollo's uncoded errors.
    persistedQueries: false,
    validationRules: [...limits.validationRules],
    introspection: limits.settings.introspection,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Nothing here is cacheable by an HTTP cache (every answer depends on its credential), and
      // the cache-control plugin would otherwise wrap every field resolver to compute a policy.
      ApolloServerPluginCacheControlDisabled(),
      { async serverWillStart() { return { drainServer: async () => { await wsCleanup.dispose(); } }; } },
      landingPage(),
      requestErrorLogging(),
      ...limits.apolloPlugins<Context>(),
    ],
  });
  await apollo.start();

  app.use(
    "/graphql",
    landingPageHeaders(),
    express.json({ limit: config.maxBodyBytes }),
    limits.tokenGuard(),
    expressMiddleware(apollo, {
      context: async ({ req, res }) =>
        buildContext({
          authorization: req.header("authorization"),
          requestId: res.locals.requestId as string,
          logger: res.locals.logger as Logger,
          ipAddress: req.ip ?? null,
          userAgent: req.header("user-agent") ?? null,
        }),
    }),
  );
  app.use(webPages({ logger }));
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  // Malformed JSON, oversized bodies: refused as a whole, in the contract's error shape.
  app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    // Already answered (the response deadline passed): a late write has nothing left to say.
    if (res.headersSent) return;
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) res.locals.logger?.error({ err: error }, "unhandled error");
    const message =
      error.type === "entity.too.large"
        ? `The request body is larger than ${config.maxBodyBytes} bytes`
        : status === 500
          ? "Internal server error"
          : "The request body is not valid JSON";
    const code = status === 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_USER_INPUT;
    res.status(status).json({
      errors: [{ message, extensions: { code, ...(status === 500 ? { requestId: res.locals.requestId } : { field: BODY_FIELD, reason: error.type ?? "malformed" }) } }],
    });
  });

  services.dispatcher.takePostedReceipts();
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/graphql`;
  services.publicUrl.bindListeningAddress(`http://${hostForUrl}:${port}`);
  if (config.dispatchEnabled) await services.dispatcher.start();
  // A warning, never a reason not to start.
  await services.smsTemplates.beyondOneSegment().then(
    (found) => {
      for (const template of found) {
        logger.warn(template, "an SMS template no longer fits one segment with this ORG_NAME, ORIGIN_DOMAIN and code length: its messages go out in several parts");
      }
    },
    (error: unknown) => logger.warn({ err: error }, "the SMS templates could not be checked against this ORG_NAME"),
  );
  services.logRetention.start();
  services.counterPurge.start();
  services.endedRecordPurge.start();
  services.credentialSweep.start();
  logger.info({ url, playground: `http://${hostForUrl}:${port}/playground`, engine: config.engine }, "Ringfence gateway listening");

  let closing: Promise<void> | null = null;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    port,
    services,
    db,
    queries,
    redis,
    bootstrapToken: bootstrap?.token ?? null,
    close: () =>
      (closing ??= (async () => {
        await apollo.stop();
        wsServer.close();
        await services.dispatcher.stop();
        services.liveLog.stop();
        await services.logRetention.stop();
        await services.counterPurge.stop();
        await services.endedRecordPurge.stop();
        await services.credentialSweep.stop();
        await checkpointer?.stop();
        await reader?.destroy();
        await dataSource.destroy();
        await redis?.close();
        logger.info("Ringfence gateway closed");
      })()),
  };

  /** Over WebSocket, as requestErrorLogging over HTTP: what became INTERNAL is logged with its cause, and the client gets the request id. */
  function withFormattedErrors(result: ExecutionResult, requestId: string | undefined, operationLogger: Logger): ExecutionResult {
    if (!result.errors?.length) return result;
    return {
      ...result,
      errors: result.errors.map((error) => {
        const formatted = formatError(error.toJSON(), error);
        if (!isInternal(formatted)) return formatted as never;
        operationLogger.error({ err: error.originalError ?? error, path: error.path, transport: "ws" }, "internal error");
        return { ...formatted, extensions: { ...formatted.extensions, requestId } } as never;
      }),
    };
  }
}

/** Logs what became INTERNAL with its cause, and gives the client the request id to quote. */
function requestErrorLogging(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = error.originalError ?? error;
            const formatted = formatError(error.toJSON(), error);
            if (isInternal(formatted)) contextValue.logger?.error({ err: original, path: error.path }, "internal error");
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== "single") return;
          const errors = response.body.singleResult.errors;
          if (!errors) return;
          response.body.singleResult.errors = errors.map((error) =>
            isInternal(error) ? { ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } } : error,
          );
        },
      };
    },
  };
}

/** As Express compiles its "trust proxy" setting: a hop count trusts that many proxies in front. */
function proxyTrust(setting: Config["trustProxy"]): (address: string, hop: number) => boolean {
  if (setting === false) return () => false;
  if (typeof setting === "number") return (_address, hop) => hop < setting;
  return proxyaddr.compile(setting);
}
