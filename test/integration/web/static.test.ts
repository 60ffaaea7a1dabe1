import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import express from "express";
import { webPages } from "../../../src/web/static";

/**
 * Threat: a page of the gateway that loads script, style or a socket from anywhere else (a CDN
 * taken over, an injected URL) acts with an admin's pasted token. The pages are served with a
 * policy of the gateway's own origin only; their HTML is never cached stale, their hashed
 * assets are cached for good; and with nothing built they say how to build, not 404.
 */
describe("web pages: caching, Content-Security-Policy, and a clear 503 when not built", () => {
  let root: string;
  let server: http.Server;
  let origin: string;

  const serve = async (folder: string) => {
    const app = express();
    app.use(webPages({ root: folder }));
    app.use((_req, res) => {
      res.status(404).json({ error: "not found" });
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-web-"));
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("with nothing built, each page answers 503 saying to run npm run build", async () => {
    await serve(path.join(root, "missing"));
    for (const page of ["/playground", "/demo/login", "/admin", "/assets/admin-ABC123.js"]) {
      const response = await fetch(`${origin}${page}`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain("npm run build");
    }
  });

  describe("built", () => {
    beforeEach(async () => {
      fs.mkdirSync(path.join(root, "assets"));
      for (const page of ["playground", "demo-login", "admin"]) fs.writeFileSync(path.join(root, `${page}.html`), `<!doctype html><title>${page}</title>`);
      fs.writeFileSync(path.join(root, "assets", "admin-ABC123.js"), "export {};");
      await serve(root);
    });

    test("the HTML is revalidated on every load; hashed assets are immutable for a year", async () => {
      const page = await fetch(`${origin}/admin`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.headers.get("cache-control")).toBe("no-cache");

      const asset = await fetch(`${origin}/assets/admin-ABC123.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(asset.headers.get("content-type")).toMatch(/javascript/);
    });

    test("the policy allows the gateway's own origin and its WebSocket, and nothing inline", async () => {
      const page = await fetch(`${origin}/demo/login`);
      const policy = page.headers.get("content-security-policy")!;
      const host = new URL(origin).host;
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("script-src 'self';");
      expect(policy).toContain("style-src 'self';");
      expect(policy).toContain(`connect-src 'self' ws://${host} wss://${host}`);
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    });

    test("only the playground allows inline styles (GraphiQL's editor writes them), and still no inline script", async () => {
      const policy = (await fetch(`${origin}/playground`)).headers.get("content-security-policy")!;
      expect(policy).toContain("style-src 'self' 'unsafe-inline'");
      expect(policy).toContain("script-src 'self';");
      expect((await fetch(`${origin}/admin`)).headers.get("content-security-policy")).not.toContain("unsafe-inline");
    });

    test("a Host header that is not a host name is not repeated into the policy", async () => {
      const policy = await new Promise<string>((resolve, reject) => {
        const request = http.get(`${origin}/admin`, { headers: { host: "evil.example; script-src *" } }, (response) => {
          response.resume();
          resolve(String(response.headers["content-security-policy"]));
        });
        request.on("error", reject);
      });
      expect(policy).toContain("connect-src 'self';");
      expect(policy).not.toContain("evil");
    });

    test("an asset missing from a build is a 404, not a 503", async () => {
      expect((await fetch(`${origin}/assets/nothing-XYZ.js`)).status).toBe(404);
    });
  });
});
