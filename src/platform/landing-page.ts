import type { ApolloServerPlugin } from "@apollo/server";

/**
 * Apollo's default landing page loads from a CDN; the gateway often runs with no internet, so
 * a browser that opens /graphql gets this self-contained page instead.
 */
export function landingPage(): ApolloServerPlugin {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Ringfence GraphQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}code{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}</style>
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
