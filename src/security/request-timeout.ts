import type { ServerOptions } from "node:http";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { ErrorCode } from "../platform/errors";

/**
 * Options for `http.createServer`: a request whose headers and body have not all arrived within
 * `timeoutMs` is answered 408 by Node and its connection closed, so a client dribbling bytes
 * (slowloris) cannot hold a socket. Node checks every `connectionsCheckingInterval`, 30 s by
 * default, which would let a 15 s limit stretch to 45 s. An upgraded WebSocket is no longer an
 * HTTP request, so long-lived subscriptions are not cut.
 */
export function httpServerTimeouts(timeoutMs: number): ServerOptions {
  return {
    requestTimeout: timeoutMs,
    // Node refuses a headers timeout longer than the request timeout.
    headersTimeout: timeoutMs,
    connectionsCheckingInterval: Math.min(1_000, timeoutMs),
  };
}

/**
 * A request not answered within `timeoutMs` gets 503 with INTERNAL and its request id, and its
 * connection is closed, so a stalled resolver (a lock wait, an unreachable database) cannot hold
 * the client forever. The work under way is not cancelled: a mutation may still complete after
 * its client was told it failed, so the deadline is set well above any normal response time.
 */
export function responseDeadline(timeoutMs: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const timer = setTimeout(() => {
      // A body still arriving is Node's to refuse (408, from the server's requestTimeout).
      if (res.headersSent || !req.complete) return;
      res.locals.logger?.error({ timeoutMs }, "request timed out");
      res
        .status(503)
        .set("connection", "close")
        .json({ errors: [{ message: "The request took too long to answer", extensions: { code: ErrorCode.INTERNAL, requestId: res.locals.requestId } }] });
    }, timeoutMs);
    const clear = () => clearTimeout(timer);
    res.once("finish", clear);
    res.once("close", clear);
    next();
  };
}
