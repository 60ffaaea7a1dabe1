import "reflect-metadata";
import { ConfigError, loadConfig } from "./platform/config";
import { createLogger } from "./platform/logger";
import { startGateway } from "./platform/server";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  const gateway = await startGateway({ config, logger });
  if (gateway.bootstrapToken) {
    // Printed once, on the first start, outside the JSON log so it is not shipped to a log store.
    process.stderr.write(
      `\nRingfence created the first admin API token. It is shown only this once:\n\n    ${gateway.bootstrapToken}\n\n` +
        `Use it as:  Authorization: SSWS <token>\n\n`,
    );
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  // A configuration found wrong only while starting (a provider file) reads like any other.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
