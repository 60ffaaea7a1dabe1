import http from "node:http";

/**
 * A lean JSON-over-HTTP client on keep-alive sockets, for flows autocannon cannot drive (each
 * step needs the previous answer). The same client drives the gateway and the peer, so its
 * own cost weighs the same on both sides of a ratio.
 */
export class JsonClient {
  private readonly agent: http.Agent;

  constructor(maxSockets = 64) {
    // Idle sockets are dropped before the server's 5 s keep-alive timeout can close one under a new request.
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 4_000 });
  }

  async post<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const { status, text } = await this.postText(url, JSON.stringify(body), headers);
    try {
      return { status, body: JSON.parse(text) as T };
    } catch {
      throw new Error(`Not JSON from ${url} (${status}): ${text.slice(0, 300)}`);
    }
  }

  /** The answer exactly as sent: autocannon compares every later answer against it. */
  postText(url: string, body: string, headers: Record<string, string> = {}, retried = false): Promise<{ status: number; text: string }> {
    const payload = Buffer.from(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": payload.length, ...headers },
          timeout: 30_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error(`No answer from ${url} within 30 s`)));
      request.on("error", (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while idle fails before the server saw the request:
        // sending it again on a fresh socket is safe (Node's documented pattern, reusedSocket).
        if (request.reusedSocket && !retried && (error.code === "ECONNRESET" || error.message === "socket hang up")) {
          this.postText(url, body, headers, true).then(resolve, reject);
        } else reject(error);
      });
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A GraphQL endpoint seen by one credential; `run` throws on any error, naming it. */
export class GraphQLEndpoint {
  constructor(
    private readonly client: JsonClient,
    readonly url: string,
    private readonly authorization?: string,
  ) {}

  as(authorization?: string): GraphQLEndpoint {
    return new GraphQLEndpoint(this.client, this.url, authorization);
  }

  async run<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const { status, body } = await this.client.post<GraphQLBody<T>>(
      this.url,
      { query, variables },
      this.authorization ? { authorization: this.authorization } : {},
    );
    if (body.errors?.length || !body.data) {
      const first = body.errors?.[0];
      throw new Error(`GraphQL ${status}: ${first ? `${first.extensions?.code ?? ""} ${first.message}` : "no data"}`);
    }
    return body.data;
  }

  /** For steps expected to fail: the first error's code, or null when it succeeded. */
  async errorCode(query: string, variables: Record<string, unknown> = {}): Promise<string | null> {
    const { body } = await this.client.post<GraphQLBody<unknown>>(
      this.url,
      { query, variables },
      this.authorization ? { authorization: this.authorization } : {},
    );
    return body.errors?.[0]?.extensions?.code ?? null;
  }
}
