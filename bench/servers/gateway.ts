import "reflect-metadata";
import { loadConfig } from "../../src/platform/config";
import { createLogger } from "../../src/platform/logger";
import { startGateway } from "../../src/platform/server";
import { announce, failStart, onStop } from "./child";

/**
 * The gateway as src/main.ts starts it, configured from the environment; it reports its
 * address over IPC because with PORT=0 and LOG_LEVEL=warn nothing else would say where it is.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const gateway = await startGateway({ config, logger: createLogger(config) });
  onStop(() => gateway.close());
  announce({ kind: "listening", url: gateway.url });
}

main().catch(failStart);
