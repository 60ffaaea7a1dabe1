import "reflect-metadata";
import { loadConfig } from "../../src/platform/config";
import { createLogger } from "../../src/platform/logger";
import { startGateway } from "../../src/platform/server";
import { announce, failStart, onStop } from "./child";

/**
 * The gateway as src/main.ts starts it, configured from the environment; it reports its
 * address over IPC because with PORT=0 and LOG_LEVEL=warn nothing else would say where it is.
 * With BENCH_HANDSET=ipc, its simulated handset hands each message to the bench over IPC as it
 * arrives, as the peer's sendOTP does, so that reading codes costs the database no queries.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const gateway = await startGateway({ config, logger: createLogger(config) });
  onStop(() => gateway.close());
  const simulator = process.env.BENCH_HANDSET === "ipc" ? gateway.services.simulator : null;
  simulator?.onMessage((message) =>
    announce({ kind: "handset", id: message.id, to: message.toE164, body: message.body, created: message.created.getTime() }),
  );
  announce({ kind: "listening", url: gateway.url, handset: simulator !== null });
}

main().catch(failStart);
