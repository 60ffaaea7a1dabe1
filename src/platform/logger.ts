import pino, { type Logger } from "pino";
import type { Config } from "./config";

export type { Logger };

export function createLogger(config: Pick<Config, "logLevel" | "nodeEnv">): Logger {
  return pino({
    level: config.logLevel,
    base: { service: "ringfence" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      // Credentials must never reach a log line, whatever a caller passes in.
      paths: ["req.headers.authorization", "authorization", "password", "*.password", "token", "code", "*.code"],
      censor: "[redacted]",
    },
  });
}
