import type { Environment } from "monaco-editor";

/** Hashed worker URLs, written in by scripts/build-web.mjs once the workers are bundled. */
declare const RINGFENCE_MONACO_WORKERS: Record<"editor.worker" | "json.worker" | "graphql.worker", string>;

/**
 * GraphiQL 5 edits with Monaco, whose language services run in web workers. Its shipped
 * setups load them from a CDN (esm.sh) or through a bundler's worker syntax; ours are
 * bundled as plain files and loaded from the gateway itself. This module is imported
 * before GraphiQL, so the environment is in place before the first editor asks for one.
 */
const environment: Environment = {
  getWorker(_workerId: string, label: string): Worker {
    const url =
      label === "graphql" ? RINGFENCE_MONACO_WORKERS["graphql.worker"] : label === "json" ? RINGFENCE_MONACO_WORKERS["json.worker"] : RINGFENCE_MONACO_WORKERS["editor.worker"];
    return new Worker(url, { name: label });
  },
};
(globalThis as { MonacoEnvironment?: Environment }).MonacoEnvironment = environment;
