import { Writable } from "node:stream";
import pino from "pino";
import { CredentialRevalidator } from "../../../src/auth/credential-revalidation";
import { ManualClock } from "../../../src/platform/clock";
import type { Database } from "../../../src/platform/database";

describe("CredentialRevalidator when the database cannot answer", () => {
  test("the subscription's admission fails, and the cause is written to the log beside it", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "error" },
      new Writable({
        write: (chunk, _encoding, done) => {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const db = { manager: { existsBy: () => Promise.reject(new Error("connection terminated unexpectedly")) } } as unknown as Database;
    const revalidator = new CredentialRevalidator(
      db,
      new ManualClock(new Date("2031-01-01T00:00:00Z")),
      { isLive: async () => true },
      logger,
    );
    await expect(revalidator.admitWhile({ kind: "apiToken", tokenId: "tok_1" })()).rejects.toThrow("connection terminated unexpectedly");
    expect(lines.map((line) => JSON.parse(line) as { err?: { message?: string } }).map((entry) => entry.err?.message)).toEqual([
      "connection terminated unexpectedly",
    ]);
  });
});
