import fs from "node:fs";
import path from "node:path";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "../platform/logger";

export interface WebPagesOptions {
  /**
   * The folder `npm run build` writes the pages into (scripts/build-web.mjs).
   * @default "<package root>/dist/web"
   */
  root?: string;
  logger?: Logger;
}

interface Page {
  file: string;
  /**
   * GraphiQL's editor (Monaco) writes `<style>` elements and style attributes at run time
   * (themes, decorations, measured layout); it cannot work under `style-src 'self'`.
   */
  inlineStyles?: boolean;
}

/** The pages and their paths; everything they load lives under /assets/. */
const PAGES: Record<string, Page> = {
  "/playground": { file: "playground.html", inlineStyles: true },
  "/demo/login": { file: "demo-login.html" },
  "/admin": { file: "admin.html" },
};

const NOT_BUILT =
  "The gateway's web pages have not been built. Run `npm run build` (it bundles them into dist/web/), then reload this page.\n";

/** A Host header we are willing to repeat inside a policy: a name or address, and a port. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Serves the pages built by scripts/build-web.mjs: /playground (where `/` leads), /demo/login
 * and /admin.
 *
 * Their HTML is revalidated on every load (`no-cache`) and names content-hashed assets,
 * which are cached for a year and never change. Every response carries a
 * Content-Security-Policy that allows the gateway's own origin only: the pages bundle
 * everything they use, so they also work on a machine with no internet.
 */
export function webPages(options: WebPagesOptions = {}): Router {
  const root = options.root ?? path.join(packageRoot(), "dist", "web");
  const router = express.Router();
  if (!fs.existsSync(path.join(root, PAGES["/playground"]!.file))) {
    options.logger?.warn({ root }, "the web pages are not built: /playground, /demo/login and /admin answer 503 until `npm run build` has run");
  }

  router.use(
    "/assets",
    (req, res, next) => {
      setSecurityHeaders(req, res, {});
      next();
    },
    express.static(path.join(root, "assets"), { immutable: true, maxAge: "365d", index: false, redirect: false, dotfiles: "ignore" }),
    (_req, res, next) => {
      // An asset that is missing because nothing was built says so; one missing from a build is a plain 404.
      if (!fs.existsSync(root)) notBuilt(res);
      else next();
    },
  );

  // Someone who opens the gateway's bare address in a browser has come to look around.
  router.get("/", (_req, res) => res.redirect(302, "/playground"));

  for (const [route, page] of Object.entries(PAGES)) {
    router.get(route, (req, res, next) => {
      setSecurityHeaders(req, res, page);
      // Revalidated each time: the HTML is what points at the assets of the current build.
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(path.join(root, page.file), { cacheControl: false, dotfiles: "deny" }, (error?: NodeJS.ErrnoException) => {
        if (!error) return;
        if (error.code === "ENOENT" && !res.headersSent) notBuilt(res);
        else next(error);
      });
    });
  }
  return router;
}

function setSecurityHeaders(req: Request, res: Response, page: Pick<Page, "inlineStyles">): void {
  setPageHeaders(res, contentSecurityPolicy(req.headers.host, page));
}

/** What every HTML page the gateway sends carries: its policy, and no sniffing, referrer or framing. */
export function setPageHeaders(res: Response, policy: string): void {
  res.setHeader("Content-Security-Policy", policy);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
}

/**
 * Only the gateway's origin. `'self'` covers ws:/wss: to the same host in CSP 3 browsers;
 * the explicit ws URLs are for those that predate it, and are built from the Host header the
 * page was loaded with, so they name no other host.
 */
export function contentSecurityPolicy(host: string | undefined, page: Pick<Page, "inlineStyles">): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${page.inlineStyles ? " 'unsafe-inline'" : ""}`,
    "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function notBuilt(res: Response): void {
  res.status(503).setHeader("Cache-Control", "no-store").type("text/plain; charset=utf-8").send(NOT_BUILT);
}

/** The folder holding package.json: `src/web` under ts-node, `dist/src/web` once compiled. */
function packageRoot(): string {
  for (let folder = __dirname; ; folder = path.dirname(folder)) {
    if (fs.existsSync(path.join(folder, "package.json"))) return folder;
    if (path.dirname(folder) === folder) return process.cwd();
  }
}
