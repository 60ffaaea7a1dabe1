import pg from "pg";

/**
 * node-postgres's Client, whose promise form of query() runs through its callback form.
 *
 * TypeORM awaits `client.query(text, values)`. Measured on the System Log's first page, that
 * promise form left ten times more of each request's young objects alive to V8's scavenger
 * (2.2 MB per scavenge against 0.22 MB) and made each scavenge three times longer (9 ms
 * against 3 ms): the long tail of the PostgreSQL latencies. The same queries through the
 * callback form, wrapped in a promise here, did not. Results and errors are node-postgres's
 * own, an error's stack taken again as node-postgres does so that it leads back to the caller.
 * Custom query objects (cursors, streams) and callers that pass a callback go straight through.
 */
export class CallbackQueryClient extends pg.Client {}

const clientQuery = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;

function queryThroughCallback(this: pg.Client, ...args: unknown[]): unknown {
  const [config, values, callback] = args;
  const custom = typeof (config as { submit?: unknown } | null)?.submit === "function";
  if (custom || typeof values === "function" || typeof callback === "function") return clientQuery.apply(this, args);
  return new Promise((resolve, reject) => {
    clientQuery.call(this, config, values, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result)));
  }).catch((error: Error) => {
    // Taken in a promise reaction, the stack carries the caller's async frames, not only the socket read.
    Error.captureStackTrace(error);
    throw error;
  });
}

// The overloads of Client.query cannot be restated in an override; the prototype takes the one function.
(CallbackQueryClient.prototype as unknown as { query: typeof queryThroughCallback }).query = queryThroughCallback;

/** A statement's text is named once it has run this many times: one-off statements stay unnamed. */
export const PREPARE_AFTER = 3;
/** Every connection keeps each named statement it has run, with its plan: a bound on what they hold. */
export const MAX_PREPARED = 256;
/** Texts counted towards PREPARE_AFTER, forgotten past this many (IN lists of every length, say). */
const MAX_COUNTED = 10_000;

/**
 * Names for the statements that run again and again, so that they run as prepared statements.
 * node-postgres sends a statement with parameters unnamed, and PostgreSQL parses, analyses and
 * plans it on every execution: on the passcode round trip, pg_stat_statements put planning
 * alone above PostgreSQL's execution time. A named statement is parsed once per connection, and
 * PostgreSQL keeps its plan (custom plans for its first five runs, then a generic one where that
 * costs no more). One registry serves every connection: a text has one name everywhere, which
 * each connection prepares on first use (node-postgres keeps track).
 */
export class PreparedStatementNames {
  private readonly names = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly prepareAfter = PREPARE_AFTER,
    private readonly maxPrepared = MAX_PREPARED,
  ) {}

  /** The text's name once it has run often enough, or null: run it unnamed. */
  nameFor(text: string): string | null {
    const name = this.names.get(text);
    if (name !== undefined) return name;
    if (this.names.size >= this.maxPrepared) return null;
    const count = (this.counts.get(text) ?? 0) + 1;
    if (count < this.prepareAfter) {
      if (this.counts.size >= MAX_COUNTED) this.counts.clear();
      this.counts.set(text, count);
      return null;
    }
    this.counts.delete(text);
    const named = `ringfence_${this.names.size + 1}`;
    this.names.set(text, named);
    return named;
  }
}

const preparedNames = new PreparedStatementNames();

/** CallbackQueryClient that runs frequent parameterised statements as prepared statements (PreparedStatementNames). */
export class PreparingQueryClient extends CallbackQueryClient {}

function queryPrepared(this: pg.Client, ...args: unknown[]): unknown {
  const [text, values, callback] = args;
  if (typeof text === "string" && Array.isArray(values) && values.length > 0 && callback === undefined) {
    const name = preparedNames.nameFor(text);
    if (name !== null) return queryThroughCallback.call(this, { name, text, values });
  }
  return queryThroughCallback.apply(this, args);
}

(PreparingQueryClient.prototype as unknown as { query: typeof queryPrepared }).query = queryPrepared;
