import type { Logger } from "pino";
import type { Viewer } from "../auth/viewer";
import type { Loaders } from "./loaders";

/** Resolvers are built once per gateway and looked up through the request's context. */
export interface ResolverContainer {
  get<T>(resolverClass: new (...args: never[]) => T): T;
}

export interface ClientInfo {
  ipAddress: string | null;
  userAgent: string | null;
}

export interface Context {
  requestId: string;
  logger: Logger;
  viewer: Viewer;
  client: ClientInfo;
  loaders: Loaders;
  container: ResolverContainer;
}
