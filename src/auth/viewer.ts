/** Who is asking: resolved once per request (or per WebSocket connection) from its credential. */
export type Viewer =
  | { kind: "admin"; tokenId: string; tokenName: string }
  | { kind: "user"; userId: string; sessionId: string }
  | { kind: "anonymous" };

export const anonymous: Viewer = { kind: "anonymous" };

export const isAdmin = (viewer: Viewer): viewer is Extract<Viewer, { kind: "admin" }> => viewer.kind === "admin";
