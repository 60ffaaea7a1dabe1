import "reflect-metadata";
import { ConfigError, loadConfig } from "./platform/config";
import { createLogger } from "./platform/logger";
import { startGateway, type Gateway } from "./platform/server";

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
  // Listened for before the start, which takes a while: a signal meanwhile would otherwise end
  // the process at once, migrations or the first writes half done.
  let starting: Promise<Gateway> | null = null;
  let stopping = false;
  const shutdown = (signal: string) => {
    // A second signal: whoever sent it will not wait for a start or close that hangs.
    if (stopping) {
      logger.warn({ signal }, "stopping now, without finishing the shutdown");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    starting!
      .then((gateway) => gateway.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  starting = startGateway({ config, logger });
  const gateway = await starting;
  if (gateway.bootstrapToken) {
    // Printed once, on the first start, outside the JSON log so it is not shipped to a log store.
    process.stderr.write(
      `\nRingfence created the first admin API token. It is shown only this once:\n\n    ${gateway.bootstrapToken}\n\n` +
        `Use it as:  Authorization: SSWS <token>\n\n`,
    );
  }
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
