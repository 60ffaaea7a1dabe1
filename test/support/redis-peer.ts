import net from "node:net";

/**
 * Just enough of a Redis server, on loopback, to be one that stops answering: a real one cannot
 * be made to hang for a single test (DEBUG SLEEP and CLIENT PAUSE hold every client of it).
 * It speaks RESP, answers the handshake, and answers a rate limiter's script as a first point
 * counted; `stall` makes it read on and answer nothing, as a stuck server does, until `resume`
 * answers what came meanwhile, in order.
 */
export class RedisPeer {
  /** The commands received, by name in upper case, answered or not. */
  readonly received: string[] = [];
  private readonly sockets = new Set<net.Socket>();
  private held: Array<() => void> | null = null;

  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<RedisPeer> {
    let peer: RedisPeer | null = null;
    const server = net.createServer((socket) => peer!.serve(socket));
    peer = new RedisPeer(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return peer;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  stall(): void {
    this.held ??= [];
  }

  resume(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const answer of held) answer();
  }

  /** How many commands named `name` were received. */
  count(name: string): number {
    return this.received.filter((command) => command === name).length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      for (;;) {
        const parsed = parseCommand(buffered);
        if (!parsed) break;
        buffered = buffered.slice(parsed.length);
        const name = (parsed.args[0] ?? "").toUpperCase();
        this.received.push(name);
        const answer = () => {
          if (!socket.destroyed) socket.write(reply(name));
        };
        if (this.held) this.held.push(answer);
        else answer();
      }
    });
  }
}

/** One RESP array of bulk strings from the start of `text`, and its length; null until it is whole. */
function parseCommand(text: string): { args: string[]; length: number } | null {
  const header = /^\*(\d+)\r\n/.exec(text);
  if (!header) return null;
  let at = header[0].length;
  const args: string[] = [];
  for (let i = 0; i < Number(header[1]); i += 1) {
    const bulk = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!bulk) return null;
    const start = at + bulk[0].length;
    const end = start + Number(bulk[1]);
    if (text.length < end + 2) return null;
    args.push(text.slice(start, end));
    at = end + 2;
  }
  return { args, length: at };
}

function reply(command: string): string {
  switch (command) {
    case "INFO": {
      const info = "# Server\r\nredis_version:7.2.0\r\nloading:0\r\n";
      return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
    }
    case "PING":
      return "+PONG\r\n";
    case "EVALSHA":
    case "EVAL":
      // rate-limiter-flexible's increment script: the points consumed and the window's ms left.
      return "*2\r\n:1\r\n:60000\r\n";
    default:
      return "+OK\r\n";
  }
}
