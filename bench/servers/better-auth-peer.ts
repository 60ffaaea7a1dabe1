import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import Database from "better-sqlite3";
import { Client, Pool } from "pg";
import { announce, failStart, onStop } from "./child";

/** The gateway's own pool size on PostgreSQL, so neither side waits on connections the other has. */
const POSTGRES_POOL_SIZE = 20;

interface PeerDatabase {
  /** What better-auth takes as `database`: a better-sqlite3 handle, or a node-postgres pool (its Kysely adapter). */
  handle: Database.Database | Pool;
  close(): Promise<void>;
}

/**
 * SQLite in WAL mode with the gateway's own pragmas (synchronous=NORMAL) under DATA_DIR; or,
 * with PEER_DATABASE_URL and PEER_SCHEMA, a fresh PostgreSQL schema, which is dropped on stop.
 */
async function openDatabase(): Promise<PeerDatabase> {
  const url = process.env.PEER_DATABASE_URL;
  if (url) {
    const schema = process.env.PEER_SCHEMA;
    if (!schema || !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error("PEER_SCHEMA must name the peer's PostgreSQL schema");
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await admin.end();
    const pool = new Pool({ connectionString: url, max: POSTGRES_POOL_SIZE, options: `-c search_path=${schema}` });
    return {
      handle: pool,
      close: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    };
  }
  const dataDir = process.env.DATA_DIR;
  if (!dataDir) throw new Error("DATA_DIR must name a folder for the peer's database");
  fs.mkdirSync(dataDir, { recursive: true });
  const database = new Database(path.join(dataDir, "better-auth.sqlite"));
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 5000");
  return {
    handle: database,
    close: async () => {
      database.close();
    },
  };
}

/**
 * The peer: better-auth with its phone-number plugin, mounted on node:http as its docs show,
 * rate limiter off. sendOTP hands each code to the bench over IPC, as the gateway's simulator
 * hands codes to its inbox table: neither costs the server a request.
 */
async function main(): Promise<void> {
  const database = await openDatabase();

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
    database: database.handle,
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
    await database.close();
  });
  announce({ kind: "listening", url: `${baseURL}/api/auth` });
}

main().catch(failStart);
