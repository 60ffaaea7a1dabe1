import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";

/** Debian's Chromium: no browser is downloaded for the tests, none can be fetched here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const BROWSER_TEST_TIMEOUT_MS = 90_000;
const BROWSER_STEP_TIMEOUT_MS = 30_000;

export const ARTIFACTS = path.resolve(__dirname, "..", "..", "test-artifacts");

/** Why the browser suites cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    return `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  }
  return null;
}

/**
 * `describe`, or `describe.skip` with a warning that names the reason: a run without a browser
 * must say that it did not test the pages, not pass quietly.
 */
export function describeInBrowser(name: string, body: () => void): void {
  const reason = browserUnavailable();
  if (reason) {
    const warning = `Skipping the browser suite "${name}": ${reason}`;
    console.warn(warning);
    // Jest drops the console output of a file whose tests were all skipped once it runs several
    // files; stderr still reaches the terminal and CI's log.
    process.stderr.write(`\n${warning}\n`);
    describe.skip(`${name} (skipped: ${reason})`, body);
  } else {
    describe(name, () => {
      // A test here is several page loads and clicks: on two busy cores (the other Jest worker,
      // a first Chromium start) their sum can pass the 30 s that suits a test over HTTP.
      jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);
      body();
    });
  }
}

/**
 * The built pages. Jest runs without `npm run build`, so a suite builds them itself unless a
 * build newer than their sources is there (CI builds before it tests). Suites in parallel
 * workers take turns through a lock folder: a build empties dist/web/ first.
 */
export function ensureWebBuild(): void {
  const root = path.resolve(__dirname, "..", "..");
  const lock = path.join(root, "dist", ".web-build.lock");
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock left by a killed run would otherwise stall every later one.
      const held = fs.statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 5 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (webBuildIsCurrent(root)) return;
    const result = spawnSync(process.execPath, [path.join(root, "scripts", "build-web.mjs")], { cwd: root, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`scripts/build-web.mjs failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function webBuildIsCurrent(root: string): boolean {
  const built = fs.statSync(path.join(root, "dist", "web", "admin.html"), { throwIfNoEntry: false });
  if (!built) return false;
  const sources = [path.join(root, "web"), path.join(root, "src", "generated"), path.join(root, "scripts", "build-web.mjs")];
  return sources.every((source) => newestSource(source) <= built.mtimeMs);
}

function newestSource(source: string): number {
  const stat = fs.statSync(source);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(source, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export interface TestBrowser {
  context: BrowserContext;
  /** Console errors and CSP violations the pages reported: a page that works must report none. */
  problems: string[];
  newPage(): Promise<Page>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Chromium with a new, empty profile, closed (and its profile removed) by `close`. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: LAUNCH_ARGS,
    headless: true,
    viewport: { width: 1280, height: 860 },
    locale: "en-US",
  });
  const problems: string[] = [];
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      // Below the test's own timeout, so that a step that hangs is named in the failure.
      page.setDefaultTimeout(BROWSER_STEP_TIMEOUT_MS);
      page.on("console", (message: ConsoleMessage) => {
        if (message.type() === "error") problems.push(`${page.url()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
      return page;
    },
    async screenshot(page, name) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
