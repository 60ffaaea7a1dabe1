#!/usr/bin/env node
// Builds the pages the gateway serves (/playground, /demo/login, /admin) into dist/web/.
// Everything they load is bundled here: the gateway often runs with no internet, and the
// Content-Security-Policy it serves them with allows its own origin only.
//
//   dist/web/<page>.html           no-cache: names the hashed assets of this build (the
//                                  template is web/<page>/index.html, with %CSS% %JS% %ICON%)
//   dist/web/assets/*-<hash>.*     immutable: scripts, styles, fonts, the editor's workers
//
// The page sources (web/) are type-checked first: esbuild strips types without reading them.
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sources = path.join(root, "web");
const out = path.join(root, "dist", "web");
const ASSETS = "assets";

/** The pages, by output name: the index.html beside each entry is its template. */
const PAGES = {
  playground: "playground/main.tsx",
  "demo-login": "demo/main.ts",
  admin: "admin/main.ts",
};

/** GraphiQL 5 edits with Monaco, which runs its language services in these web workers. */
const WORKERS = {
  "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
  "json.worker": "monaco-editor/esm/vs/language/json/json.worker.js",
  "graphql.worker": "monaco-graphql/esm/graphql.worker.js",
};

const started = Date.now();
typecheck();
fs.rmSync(out, { recursive: true, force: true });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-web-"));
try {
  const workerUrls = await buildWorkers();
  const outputs = await buildPages(workerUrls);
  const icon = copyHashed(path.join(sources, "shared", "favicon.svg"));
  for (const [page, entry] of Object.entries(PAGES)) writeHtml(page, entry, outputs, icon);
  console.log(`web pages built into ${path.relative(root, out)}/ in ${Date.now() - started} ms`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

function typecheck() {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", path.join(sources, "tsconfig.json")], { stdio: "inherit" });
  if (result.status !== 0) {
    console.error("web/: type errors (above); the pages were not built");
    process.exit(result.status ?? 1);
  }
}

/** Classic (IIFE) workers: `new Worker(url)` loads them from our origin, no module workers needed. */
async function buildWorkers() {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(WORKERS).map(([name, file]) => [name, resolvePackageFile(file)])),
    bundle: true,
    format: "iife",
    minify: true,
    target: "es2022",
    outdir: out,
    entryNames: `${ASSETS}/[name]-[hash]`,
    metafile: true,
    logLevel: "warning",
  });
  const urls = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    const name = Object.keys(WORKERS).find((worker) => output.entryPoint && path.resolve(root, output.entryPoint) === resolvePackageFile(WORKERS[worker]));
    if (name) urls[name] = `/${path.relative(out, path.resolve(root, file)).split(path.sep).join("/")}`;
  }
  return urls;
}

async function buildPages(workerUrls) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(PAGES).map(([page, entry]) => [page, path.join(sources, entry)])),
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    sourcemap: "linked",
    // Maps point into node_modules by path; shipping every source inside them would triple the size.
    sourcesContent: false,
    target: ["es2022", "chrome110", "firefox110", "safari16"],
    outdir: out,
    entryNames: `${ASSETS}/[name]-[hash]`,
    chunkNames: `${ASSETS}/chunk-[hash]`,
    assetNames: `${ASSETS}/[name]-[hash]`,
    jsx: "automatic",
    loader: { ".ttf": "file", ".woff": "file", ".woff2": "file", ".png": "file", ".svg": "file" },
    define: {
      "process.env.NODE_ENV": JSON.stringify("production"),
      RINGFENCE_MONACO_WORKERS: JSON.stringify(workerUrls),
    },
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
    plugins: [monacoCssAlreadyInGraphiql(), dataUrlsToFiles()],
  });
  return result.metafile.outputs;
}

/**
 * graphiql/style.css already holds Monaco's styles; the editor's own `import "./x.css"`
 * lines would add the same rules a second time.
 */
function monacoCssAlreadyInGraphiql() {
  return {
    name: "monaco-css-already-in-graphiql",
    setup(build) {
      build.onLoad({ filter: /[\\/]monaco-editor[\\/]esm[\\/].*\.css$/ }, () => ({ contents: "", loader: "css" }));
    },
  };
}

/**
 * GraphiQL's stylesheet inlines its fonts and a few images as data: URLs, which a CSP of
 * `'self'` refuses. They are written out as files, so the browser fetches them from us.
 */
function dataUrlsToFiles() {
  const DATA_URL = /url\((["']?)data:([a-z]+\/[a-z0-9.+-]+)(;[^,]*)?,([^)"']+)\1\)/gi;
  const EXTENSIONS = { "font/ttf": ".ttf", "font/woff": ".woff", "font/woff2": ".woff2", "image/png": ".png", "image/svg+xml": ".svg" };
  return {
    name: "data-urls-to-files",
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/].*\.css$/ }, async (args) => {
        const css = await fs.promises.readFile(args.path, "utf8");
        const contents = css.replace(DATA_URL, (whole, _quote, type, parameters = "", data) => {
          const extension = EXTENSIONS[type.toLowerCase()];
          if (!extension) return whole;
          const bytes = /;base64/i.test(parameters) ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data), "utf8");
          const file = path.join(scratch, `${type.split("/")[0]}-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}${extension}`);
          if (!fs.existsSync(file)) fs.writeFileSync(file, bytes);
          return `url(${JSON.stringify(file)})`;
        });
        return { contents, loader: "css", resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** A file the pages name directly (not through a bundle), copied under a content-hashed name. */
function copyHashed(file) {
  const bytes = fs.readFileSync(file);
  const extension = path.extname(file);
  const name = `${path.basename(file, extension)}-${createHash("sha256").update(bytes).digest("hex").slice(0, 8)}${extension}`;
  fs.writeFileSync(path.join(out, ASSETS, name), bytes);
  return `/${ASSETS}/${name}`;
}

function writeHtml(page, entry, outputs, icon) {
  const entryPoint = path.relative(root, path.join(sources, entry)).split(path.sep).join("/");
  const [file, output] = Object.entries(outputs).find(([, candidate]) => candidate.entryPoint === entryPoint) ?? [];
  if (!file) throw new Error(`no output for ${entryPoint}`);
  const url = (built) => `/${path.relative(out, path.resolve(root, built)).split(path.sep).join("/")}`;
  const template = fs.readFileSync(path.join(sources, path.dirname(entry), "index.html"), "utf8");
  for (const placeholder of ["%JS%", "%CSS%", "%ICON%"]) {
    if (!template.includes(placeholder)) throw new Error(`${entry}: index.html must name ${placeholder}`);
  }
  const html = template
    .replaceAll("%JS%", url(file))
    .replaceAll("%CSS%", output.cssBundle ? url(output.cssBundle) : "")
    .replaceAll("%ICON%", icon);
  fs.writeFileSync(path.join(out, `${page}.html`), html);
}

function resolvePackageFile(specifier) {
  return createRequire(import.meta.url).resolve(specifier);
}
