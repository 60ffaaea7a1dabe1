import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { announce, failStart, onStop } from "./child";

/**
 * B0: a bare Apollo Server 5 on the same express 5 integration and body parser as the gateway,
 * with nothing else, answering `{ hello }`. What the gateway adds is measured against this.
 */
async function main(): Promise<void> {
  const app = express();
  app.disable("x-powered-by");
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer({
    typeDefs: "type Query { hello: String! }",
    resolvers: { Query: { hello: () => "world" } },
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();
  app.use("/graphql", express.json({ limit: 65_536 }), expressMiddleware(apollo));
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", resolve);
  });
  const { port } = httpServer.address() as AddressInfo;
  onStop(() => apollo.stop());
  announce({ kind: "listening", url: `http://127.0.0.1:${port}/graphql` });
}

main().catch(failStart);
