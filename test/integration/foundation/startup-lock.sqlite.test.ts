/**
 * `npm run migration:run` beside a starting gateway on one SQLite data directory. Each reads
 * the migrations already applied before applying the rest: at once, both applied the same one,
 * and the second failed on its duplicate column. They take turns under a lock the operating
 * system releases with its holder.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDataSource, withStartupLock } from "../../../src/platform/data-source";

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function newDataDir(): string {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rf-startup-lock-"));
  dataDirs.push(dataDir);
  return dataDir;
}

const sqliteIn = (dataDir: string) => createDataSource({ engine: "sqlite", databaseUrl: null, databaseSchema: null, dataDir });

describe("the startup lock on SQLite", () => {
  test("two migrators on one database take turns: the second starts once the first has ended", async () => {
    const dataDir = newDataDir();
    const [first, second] = [sqliteIn(dataDir), sqliteIn(dataDir)];
    await Promise.all([first.initialize(), second.initialize()]);
    try {
      const happened: string[] = [];
      const turn = (name: string) => async () => {
        happened.push(`${name} starts`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        happened.push(`${name} ends`);
      };
      await Promise.all([
        withStartupLock(first, turn("first")),
        new Promise((resolve) => setTimeout(resolve, 50)).then(() => withStartupLock(second, turn("second"))),
      ]);
      expect(happened).toEqual(["first starts", "first ends", "second starts", "second ends"]);
    } finally {
      await Promise.all([first.destroy(), second.destroy()]);
    }
  });

  test("a holder that dies without letting go frees the lock with its process", async () => {
    const dataDir = newDataDir();
    const dataSource = sqliteIn(dataDir);
    const lockFile = `${path.join(dataDir, "ringfence.sqlite")}.startup-lock`;
    // Another process takes the lock and is killed while holding it.
    const holder = spawn(process.execPath, ["-e", `const db = new (require(${JSON.stringify(require.resolve("better-sqlite3"))}))(${JSON.stringify(lockFile)}); db.exec("BEGIN EXCLUSIVE"); console.log("held"); setInterval(() => {}, 1000);`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
    await dataSource.initialize();
    try {
      let ran = false;
      const migrating = withStartupLock(dataSource, async () => {
        ran = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ran).toBe(false);
      holder.kill("SIGKILL");
      await migrating;
      expect(ran).toBe(true);
    } finally {
      holder.kill("SIGKILL");
      await dataSource.destroy();
    }
  });
});
