/**
 * The gateway as it runs in production, stopped as a process manager stops it. Apollo Server
 * stops itself on SIGTERM and SIGINT and then kills the process with the same signal, unless
 * told not to, outside NODE_ENV=test: the gateway's own shutdown (the dispatcher finishing its
 * sends, the database closed) would be cut short.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { withTimeout } from "../../support/deferred";

async function stoppedBy(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; messages: string[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-shutdown-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "src/main.ts"], {
    cwd: path.join(__dirname, "..", "..", ".."),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const messages: string[] = [];
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const { msg } = JSON.parse(line) as { msg?: string };
        if (msg) messages.push(msg);
        if (msg === "Ringfence gateway listening") resolve();
      } catch {
        // not a log line
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code} before listening`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal })),
  );
  try {
    await withTimeout(listening, 60_000, "the gateway to listen");
    child.kill(signal);
    return { ...(await withTimeout(exited, 30_000, "the gateway to exit")), messages };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("stopping the gateway process", () => {
  test.each(["SIGTERM", "SIGINT"] as const)(
    "%s runs the gateway's own shutdown to its end, and the process exits 0",
    async (signal) => {
      const stopped = await stoppedBy(signal);
      expect(stopped).toMatchObject({ code: 0, signal: null });
      expect(stopped.messages).toEqual(expect.arrayContaining(["shutting down", "Ringfence gateway closed"]));
    },
    90_000,
  );
});
