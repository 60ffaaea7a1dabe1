import { createHash } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler } from "express";
import { setPageHeaders } from "../web/static";

const STYLE = "body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}code{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}";

/**
 * Apollo's default landing page loads from a CDN; the gateway often runs with no internet, so
 * a browser that opens /graphql gets this self-contained page instead.
 */
export function landingPage(): ApolloServerPlugin {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Ringfence GraphQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style>
</head>
<body>
<h1>Ringfence GraphQL endpoint</h1>
<p>POST GraphQL requests to this URL with <code>Content-Type: application/json</code>. Subscriptions use the
<code>graphql-transport-ws</code> WebSocket protocol on the same path.</p>
<p>Admin calls send <code>Authorization: SSWS &lt;token&gt;</code>; a signed-in user sends <code>Authorization: Bearer &lt;sessionToken&gt;</code>.</p>
<p>Explore the schema and run operations in the <a href="/playground">playground</a>. Also served here: a
<a href="/demo/login">demo login page</a> and the <a href="/admin">admin dashboard</a>.</p>
</body>
</html>`;
  return {
    async serverWillStart() {
      return { async renderLandingPage() { return { html }; } };
    },
  };
}

/**
 * The headers the other pages get, on every /graphql answer (harmless on JSON): the landing page
 * is HTML too, and may be framed or sniffed otherwise. Its one inline style is allowed by hash.
 */
export function landingPageHeaders(): RequestHandler {
  const styleHash = createHash("sha256").update(STYLE).digest("base64");
  const policy = `default-src 'none'; style-src 'sha256-${styleHash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return (_req, res, next) => {
    setPageHeaders(res, policy);
    next();
  };
}
