import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import Database from "better-sqlite3";
import { announce, failStart, onStop } from "./child";

/**
 * The peer: better-auth with its phone-number plugin, mounted on node:http as its docs show,
 * on SQLite in WAL mode with the gateway's own pragmas (synchronous=NORMAL), rate limiter off.
 * sendOTP hands each code to the bench over IPC, as the gateway's simulator hands codes to
 * its inbox table: neither costs the server a request.
 */
async function main(): Promise<void> {
  const dataDir = process.env.DATA_DIR;
  if (!dataDir) throw new Error("DATA_DIR must name a folder for the peer's database");
  fs.mkdirSync(dataDir, { recursive: true });
  const database = new Database(path.join(dataDir, "better-auth.sqlite"));
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 5000");

  // better-auth ships ES modules only; this file is CommonJS, hence the dynamic imports.
  const { betterAuth } = await import("better-auth");
  const { phoneNumber } = await import("better-auth/plugins/phone-number");
  const { toNodeHandler } = await import("better-auth/node");
  const { getMigrations } = await import("better-auth/db/migration");

  let handle: ((request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>) | null = null;
  const server = http.createServer((request, response) => {
    if (!handle) {
      response.writeHead(503).end();
      return;
    }
    handle(request, response).catch((error: unknown) => {
      console.error(error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const baseURL = `http://127.0.0.1:${port}`;

  const auth = betterAuth({
    baseURL,
    secret: process.env.PEER_SECRET ?? randomBytes(32).toString("hex"),
    database,
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { level: "error" },
    plugins: [
      phoneNumber({
        sendOTP: ({ phoneNumber: to, code }) => announce({ kind: "code", phoneNumber: to, code }),
        // The first verification of a number creates its user; the bench warms every number up first.
        signUpOnVerification: { getTempEmail: (to) => `${to.replace(/\D/g, "")}@peer.invalid` },
      }),
    ],
  });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  handle = toNodeHandler(auth);

  onStop(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    database.close();
  });
  announce({ kind: "listening", url: `${baseURL}/api/auth` });
}

main().catch(failStart);
