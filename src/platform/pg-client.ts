import pg from "pg";

/**
 * node-postgres's Client, whose promise form of query() runs through its callback form, and
 * whose transactions begin with their first statement.
 *
 * TypeORM awaits `client.query(text, values)`. Measured on the System Log's first page, that
 * promise form left ten times more of each request's young objects alive to V8's scavenger
 * (2.2 MB per scavenge against 0.22 MB) and made each scavenge three times longer (9 ms
 * against 3 ms): the long tail of the PostgreSQL latencies. The same queries through the
 * callback form, wrapped in a promise here, did not. Results and errors are node-postgres's
 * own, an error's stack taken again as node-postgres does so that it leads back to the caller.
 * Custom query objects (cursors, streams) and callers that pass a callback go straight through.
 *
 * TypeORM's START TRANSACTION is a round trip of its own, with nothing to answer but that the
 * transaction began. On a connection in pipeline mode it is held back and written with the
 * transaction's first statement, in one write, as Npgsql does; a transaction that ends with no
 * statement sends neither it nor its COMMIT or ROLLBACK. The first statement fails with the
 * BEGIN's error, should that fail, and the transaction is then rolled back as any other.
 */
export class CallbackQueryClient extends pg.Client {
  /** A START TRANSACTION not written yet. */
  beginHeldBack = false;
  /** The transaction's COMMIT went out with its last write (commitWith): TypeORM's own end is answered here. */
  endWritten = false;
}

const clientQuery = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;

/** What TypeORM's PostgresQueryRunner sends to begin, commit and roll back a transaction. */
const BEGIN = "START TRANSACTION";
const ENDS = new Set(["COMMIT", "ROLLBACK"]);

/** node-postgres's own result for a statement that returns no rows, such as BEGIN: command, no rows, no count. */
const commandResult = (command: string) => ({ command, rowCount: null, oid: null, rows: [], fields: [] });

/**
 * Writes the held-back BEGIN; corked, so that the statement submitted before `release` goes out
 * in the same write. `failure` is the BEGIN's error, known before the statement's answer.
 */
function writeHeldBackBegin(client: CallbackQueryClient): { failure: Error | null; release(): void } {
  client.beginHeldBack = false;
  const stream = client.connection.stream;
  stream.cork();
  const begun = {
    failure: null as Error | null,
    release: () => stream.uncork(),
  };
  clientQuery.call(client, BEGIN, undefined, (error: Error | null) => {
    if (error) begun.failure = error;
  });
  return begun;
}

function queryThroughCallback(this: CallbackQueryClient, ...args: unknown[]): unknown {
  const [config, values, callback] = args;
  const custom = typeof (config as { submit?: unknown } | null)?.submit === "function";
  if (custom || typeof values === "function" || typeof callback === "function") {
    const begun = this.beginHeldBack ? writeHeldBackBegin(this) : null;
    try {
      return clientQuery.apply(this, args);
    } finally {
      begun?.release();
    }
  }
  if (this.endWritten) {
    this.endWritten = false;
    if (values === undefined && typeof config === "string" && ENDS.has(config)) return Promise.resolve(commandResult(config));
  }
  if (this.pipeline && values === undefined && typeof config === "string") {
    if (config === BEGIN && !this.beginHeldBack) {
      this.beginHeldBack = true;
      return Promise.resolve(commandResult("BEGIN"));
    }
    if (this.beginHeldBack && ENDS.has(config)) {
      this.beginHeldBack = false;
      return Promise.resolve(commandResult(config));
    }
  }
  return new Promise((resolve, reject) => {
    const begun = this.beginHeldBack ? writeHeldBackBegin(this) : null;
    try {
      clientQuery.call(this, config, values, (error: Error | null, result: unknown) => {
        const failure = begun?.failure ?? error;
        if (failure) reject(failure);
        else resolve(result);
      });
    } finally {
      begun?.release();
    }
  }).catch((error: Error) => {
    // Taken in a promise reaction, the stack carries the caller's async frames, not only the socket read.
    Error.captureStackTrace(error);
    throw error;
  });
}

// The overloads of Client.query cannot be restated in an override; the prototype takes the one function.
(CallbackQueryClient.prototype as unknown as { query: typeof queryThroughCallback }).query = queryThroughCallback;

/**
 * Ends the transaction open on `client` with its last statements and its COMMIT, written
 * together: one round trip where there were two or more, and the locks the statements take are
 * held only until the COMMIT right behind them, not for a round trip through the caller's event
 * loop. Should a statement fail, those after it fail as the aborted transaction refuses them,
 * and PostgreSQL answers the COMMIT with a ROLLBACK. Resolves with each statement's outcome and
 * then the COMMIT's. Either way the transaction is over, and the COMMIT or ROLLBACK that TypeORM
 * sends next is answered without a round trip.
 */
export async function commitWith(
  client: CallbackQueryClient,
  statements: readonly { text: string; values: unknown[] }[],
): Promise<PromiseSettledResult<pg.QueryResult>[]> {
  let settled: PromiseSettledResult<pg.QueryResult>[];
  if (client.pipeline) {
    const stream = client.connection.stream;
    const sent: Promise<pg.QueryResult>[] = [];
    stream.cork();
    try {
      for (const { text, values } of statements) sent.push(client.query(text, values));
      sent.push(client.query("COMMIT"));
    } finally {
      stream.uncork();
    }
    settled = await Promise.allSettled(sent);
  } else {
    // Without pipelining, in turn: the same outcome, a round trip later each.
    settled = [];
    for (const { text, values } of statements) settled.push(...(await Promise.allSettled([client.query(text, values)])));
    settled.push(...(await Promise.allSettled([client.query("COMMIT")])));
  }
  client.endWritten = true;
  return settled;
}

/** Every connection keeps each named statement it has run, with its plan: a bound on what they hold. */
export const MAX_PREPARED = 256;

/**
 * The statements that run as prepared statements, by name. node-postgres sends a statement with
 * parameters unnamed, and PostgreSQL parses, analyses and plans it on every execution: on the
 * passcode round trip, pg_stat_statements put planning alone above execution for most of its
 * statements. A named statement is parsed once per connection, and PostgreSQL keeps its plan
 * (custom plans for its first five runs, then a generic one where that costs no more).
 *
 * Only texts allowed here are named: the hot paths' statements (EntityStatements), by key and
 * by index ranges whose best plan does not depend on the values. The System Log's filtered
 * pages are planned afresh every time: named, a generic plan made a page at 100,000 events three
 * times slower. One registry serves every connection: a text has one name everywhere, which each
 * connection prepares on first use (node-postgres keeps track).
 */
export class PreparedStatementNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly maxPrepared = MAX_PREPARED) {}

  /** Lets `text` run as a prepared statement; false once MAX_PREPARED texts have been. */
  allow(text: string): boolean {
    if (this.names.has(text)) return true;
    if (this.names.size >= this.maxPrepared) return false;
    this.names.set(text, `ringfence_${this.names.size + 1}`);
    return true;
  }

  /** The text's name, or null: run it unnamed. */
  nameFor(text: string): string | null {
    return this.names.get(text) ?? null;
  }
}

/** The process's registry, shared by every PreparingQueryClient and filled by EntityStatements. */
export const preparedStatements = new PreparedStatementNames();

/** CallbackQueryClient that runs the statements `preparedStatements` allows as prepared statements. */
export class PreparingQueryClient extends CallbackQueryClient {}

function queryPrepared(this: CallbackQueryClient, ...args: unknown[]): unknown {
  const [text, values, callback] = args;
  if (typeof text === "string" && Array.isArray(values) && callback === undefined) {
    const name = preparedStatements.nameFor(text);
    if (name !== null) return queryThroughCallback.call(this, { name, text, values });
  }
  return queryThroughCallback.apply(this, args);
}

(PreparingQueryClient.prototype as unknown as { query: typeof queryPrepared }).query = queryPrepared;
