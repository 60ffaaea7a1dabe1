import http from "node:http";
import type { AddressInfo } from "node:net";
import { announce, failStart, onStop } from "./child";

/** The floor under every other figure: Node's HTTP server answering a fixed JSON body. */
const body = JSON.stringify({ data: { hello: "world" } });

const server = http.createServer((request, response) => {
  // Drain the request so keep-alive connections stay usable, as a real handler would.
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    response.end(body);
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  onStop(() => new Promise((resolve) => server.close(() => resolve())));
  announce({ kind: "listening", url: `http://127.0.0.1:${port}/graphql` });
});
server.on("error", failStart);
