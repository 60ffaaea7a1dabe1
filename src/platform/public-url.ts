/**
 * The gateway's address as telephony providers see it. Providers are told to send status
 * callbacks under it, and sign each callback over the exact URL they were given, so the
 * callback URL handed out and the URL a signature is checked against must both come from here.
 *
 * PUBLIC_URL when configured (the only right answer behind a proxy or load balancer);
 * otherwise the address the gateway listens on, known once it listens (port 0 in tests).
 */
export class PublicUrl {
  private listening: string | null = null;

  constructor(private readonly configured: string | null) {}

  /** Called once the HTTP server listens; ignored when PUBLIC_URL is configured. */
  bindListeningAddress(origin: string): void {
    this.listening = origin.replace(/\/+$/, "");
  }

  /** The base URL, without a trailing slash. */
  get base(): string {
    const base = this.configured ?? this.listening;
    if (base === null) throw new Error("The gateway's public URL is not known before it listens; set PUBLIC_URL");
    return base;
  }

  /** The public URL of a request path (with its query string), e.g. req.originalUrl. */
  resolve(pathAndQuery: string): string {
    return `${this.base}${pathAndQuery.startsWith("/") ? "" : "/"}${pathAndQuery}`;
  }
}
