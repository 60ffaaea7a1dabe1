import { randomUUID } from "node:crypto";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type NextFunction, type Request, type Response } from "express";
import type { ExecutionResult } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { authenticate } from "../auth/authenticate";
import type { Viewer } from "../auth/viewer";
import { systemClock, type Clock } from "./clock";
import type { Config } from "./config";
import type { Context } from "./context";
import { createDataSource, ensureSchema } from "./data-source";
import { Database } from "./database";
import { ErrorCode } from "./errors";
import { formatError, isInternal } from "./graphql-errors";
import { landingPage } from "./landing-page";
import { createLoaders } from "./loaders";
import { createLogger, type Logger } from "./logger";
import { createGatewayPubSub } from "./pubsub";
import { buildGatewaySchema, createResolverContainer } from "./schema";
import { createServices, type Services } from "./services";
import { QueryCounter } from "./query-counter";

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
  /** Set when this start made the first admin token; printed once by main. */
  bootstrapToken: string | null;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;

export async function startGateway({ config, clock = systemClock, logger = createLogger(config) }: GatewayOptions): Promise<Gateway> {
  const queries = new QueryCounter(logger);
  await ensureSchema(config);
  const dataSource = createDataSource(config);
  dataSource.setOptions({ logger: queries, logging: ["query", "error"] });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  const db = new Database(dataSource);

  const pubsub = createGatewayPubSub();
  const instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const services = createServices({ config, db, clock, logger, pubsub, instanceId });
  const bootstrap = await services.apiTokens.bootstrap(config.bootstrapAdminToken);
  await services.policies.ensureDefaults();

  const schema = await buildGatewaySchema(pubsub);
  const container = createResolverContainer(services);

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
    viewer: request.viewer ?? (await authenticate(request.authorization, services.apiTokens, services.sessions)),
    client: { ipAddress: request.ipAddress, userAgent: request.userAgent },
    loaders: createLoaders(db),
    container,
  });

  const app = express();
  app.disable("x-powered-by");
  if (config.trustProxy) app.set("trust proxy", true);
  const httpServer = http.createServer(app);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const offered = req.header("x-request-id");
    const requestId = offered && REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.locals.logger = logger.child({ requestId });
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      res.locals.logger.info({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
    });
    queries.track(requestId, (onFinish) => res.on("finish", onFinish), next);
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await dataSource.query("SELECT 1");
      const pending = await dataSource.showMigrations();
      if (pending) {
        res.status(503).json({ status: "unavailable", database: "ok", migrations: "pending" });
        return;
      }
      res.json({ status: "ok", database: "ok", migrations: "applied" });
    } catch (error) {
      res.locals.logger.warn({ err: error }, "readiness check failed");
      res.status(503).json({ status: "unavailable", database: "unreachable" });
    }
  });

  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const wsCleanup = useServer<Record<string, unknown>, { viewer?: Viewer; requestId?: string }>(
    {
      schema,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          ctx.extra.viewer = await authenticate(typeof authorization === "string" ? authorization : null, services.apiTokens, services.sessions);
          ctx.extra.requestId = randomUUID();
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) =>
        buildContext({
          authorization: null,
          viewer: ctx.extra.viewer,
          requestId: ctx.extra.requestId ?? randomUUID(),
          logger: logger.child({ requestId: ctx.extra.requestId, transport: "ws" }),
          ipAddress: ctx.extra.request.socket.remoteAddress ?? null,
          userAgent: ctx.extra.request.headers["user-agent"] ?? null,
        }),
      onNext: (ctx, _id, _payload, _args, result) => withFormattedErrors(result as ExecutionResult, ctx.extra.requestId),
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
    introspection: config.nodeEnv !== "production" || config.introspection,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { drainServer: async () => { await wsCleanup.dispose(); } }; } },
      landingPage(),
      requestErrorLogging(),
    ],
  });
  await apollo.start();

  app.use(
    "/graphql",
    express.json({ limit: config.maxBodyBytes }),
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
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  // Malformed JSON, oversized bodies: refused as a whole, in the contract's error shape.
  app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
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
      errors: [{ message, extensions: { code, ...(status === 500 ? { requestId: res.locals.requestId } : { reason: error.type ?? "malformed" }) } }],
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  const hostForUrl = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/graphql`;
  await services.dispatcher.start();
  logger.info({ url, engine: config.engine }, "Ringfence gateway listening");

  let closing: Promise<void> | null = null;
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    port,
    services,
    db,
    queries,
    bootstrapToken: bootstrap?.token ?? null,
    close: () =>
      (closing ??= (async () => {
        await apollo.stop();
        wsServer.close();
        await services.dispatcher.stop();
        await dataSource.destroy();
      })()),
  };

  function withFormattedErrors(result: ExecutionResult, requestId: string | undefined): ExecutionResult {
    if (!result.errors?.length) return result;
    return {
      ...result,
      errors: result.errors.map((error) => {
        const formatted = formatError(error.toJSON(), error);
        return (isInternal(formatted) ? { ...formatted, extensions: { ...formatted.extensions, requestId } } : formatted) as never;
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
