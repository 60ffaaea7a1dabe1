import { Brackets, In, type SelectQueryBuilder } from "typeorm";
import { DAY_MS, type Clock } from "../platform/clock";
import { PURGE_BATCH_SIZE, type Database } from "../platform/database";
import { badInput } from "../platform/errors";
import { cursorScope, decodeCursor, encodeCursor, pageSize, type KeysetCursor } from "../platform/pagination";
import { compileLogFilter, parseLogFilter, type FilterNode } from "./filter";
import { LogEventRecord, LogEventTargetRecord } from "./log-event.entity";
import { DEFAULT_LOG_PAGE_SIZE, MAX_LOG_PAGE_SIZE, SortOrder, type LogConnection, type LogEvent, type LogResult, type LogTarget, type Severity } from "./log.types";

export interface LogQuery {
  filter?: string | null;
  q?: string | null;
  since?: Date | null;
  until?: Date | null;
  sortOrder?: SortOrder | null;
  first?: number | null;
  after?: string | null;
}

const DEFAULT_WINDOW_MS = 7 * DAY_MS;
const MAX_KEYWORDS = 10;
/** Well under SQLite's 32766 bound variables, and a sensible IN list on PostgreSQL. */
const MAX_LOAD_BATCH = 500;

const EVENT_ALIAS = "e";

/**
 * Reads the System Log: filtered, keyword-searched, time-bounded pages in (published, uuid)
 * order with keyset cursors, so a page boundary never moves when events are inserted, and no
 * page costs more than its own rows (no OFFSET). Also loads single events for live
 * subscriptions and purges what is past retention.
 */
export class LogQueryService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async logs(query: LogQuery): Promise<LogConnection> {
    const limit = pageSize(query.first, DEFAULT_LOG_PAGE_SIZE, MAX_LOG_PAGE_SIZE);
    const descending = (query.sortOrder ?? SortOrder.ASCENDING) === SortOrder.DESCENDING;
    const window = this.window(query.since, query.until);
    const { until } = window;
    const scope = cursorScope(query.filter?.trim(), query.q?.trim(), query.sortOrder ?? SortOrder.ASCENDING, query.since?.getTime(), query.until?.getTime());
    const cursor = query.after ? decodeCursor(query.after, "after", scope) : null;
    // The default 7 days are counted from now at the first page only: counted again at each page,
    // they would move on as time goes and skip what lies between. An ascending page after a
    // cursor starts at the cursor; a descending one keeps the first page's lower bound.
    const defaultSince = !query.since;
    const since = defaultSince && cursor ? (descending ? cursor.floor ?? window.since : Number.MIN_SAFE_INTEGER) : window.since;
    const floor = defaultSince && descending ? since : undefined;

    const select = this.db.manager
      .createQueryBuilder(LogEventRecord, EVENT_ALIAS)
      .where(`${EVENT_ALIAS}.published >= :since AND ${EVENT_ALIAS}.published < :until`, { since, until });

    const filter = query.filter?.trim() ? parseLogFilter(query.filter) : null;
    if (filter) this.whereFilter(select, filter);
    this.whereKeywords(select, query.q);
    if (cursor) this.whereAfter(select, cursor, descending);

    const direction = descending ? "DESC" : "ASC";
    const rows = await this.selectEventColumns(select)
      .orderBy(`${EVENT_ALIAS}.published`, direction)
      .addOrderBy(`${EVENT_ALIAS}.uuid`, direction)
      .limit(limit + 1)
      .getRawMany<EventRow>();
    const page = rows.slice(0, limit);
    const events = await this.withTargets(page);
    const edges = events.map((node) => ({ node, cursor: encodeCursor({ at: node.published.getTime(), id: node.uuid, floor }, scope) }));
    return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  /** Events by uuid, in two statements per batch whatever their number; absent uuids are left out. */
  async loadEvents(uuids: readonly string[]): Promise<Map<string, LogEvent>> {
    const loaded = new Map<string, LogEvent>();
    for (let start = 0; start < uuids.length; start += MAX_LOAD_BATCH) {
      const batch = uuids.slice(start, start + MAX_LOAD_BATCH);
      const rows = await this.selectEventColumns(this.db.manager.createQueryBuilder(LogEventRecord, EVENT_ALIAS))
        .where(`${EVENT_ALIAS}.uuid IN (:...batch)`, { batch })
        .getRawMany<EventRow>();
      for (const event of await this.withTargets(rows)) loaded.set(event.uuid, event);
    }
    return loaded;
  }

  /**
   * The uuids of the events published at or after `since`, oldest first, at most `limit`: what
   * a live feed may have missed while its fan-out was away.
   */
  async publishedSince(since: Date, limit: number): Promise<string[]> {
    const rows = await this.db.manager
      .createQueryBuilder(LogEventRecord, EVENT_ALIAS)
      .select(`${EVENT_ALIAS}.uuid`, "uuid")
      .where(`${EVENT_ALIAS}.published >= :since`, { since: since.getTime() })
      .orderBy(`${EVENT_ALIAS}.published`, "ASC")
      .addOrderBy(`${EVENT_ALIAS}.uuid`, "ASC")
      .limit(limit)
      .getRawMany<{ uuid: string }>();
    return rows.map((row) => row.uuid);
  }

  /** Deletes events published more than `days` days ago, with their targets; resolves with how many. */
  async purgeOlderThan(days: number): Promise<number> {
    if (!Number.isInteger(days) || days < 1) throw badInput("days", "must be a whole number of days, at least 1");
    const cutoff = this.clock.now().getTime() - days * DAY_MS;
    let purged = 0;
    for (;;) {
      const deleted = await this.db.transaction(async (tx) => {
        // Several instances run this job; one purges at a time, the others skip the round.
        if (!(await this.db.tryScheduleLock(tx, "ringfence:log-retention"))) return 0;
        const { manager } = tx;
        const rows = await manager
          .createQueryBuilder(LogEventRecord, EVENT_ALIAS)
          .select(`${EVENT_ALIAS}.uuid`, "uuid")
          .where(`${EVENT_ALIAS}.published < :cutoff`, { cutoff })
          .orderBy(`${EVENT_ALIAS}.published`, "ASC")
          .limit(PURGE_BATCH_SIZE)
          .getRawMany<{ uuid: string }>();
        if (!rows.length) return 0;
        const uuids = rows.map((row) => row.uuid);
        await manager.delete(LogEventTargetRecord, { eventUuid: In(uuids) });
        await manager.delete(LogEventRecord, { uuid: In(uuids) });
        return uuids.length;
      });
      purged += deleted;
      if (deleted < PURGE_BATCH_SIZE) return purged;
    }
  }

  private whereFilter(select: SelectQueryBuilder<LogEventRecord>, filter: FilterNode): void {
    const compiled = compileLogFilter(filter, { dialect: this.db.engine, alias: EVENT_ALIAS, paramPrefix: "f" });
    select.andWhere(compiled.where, compiled.parameters);
    const [targetId] = requiredTargetIds(filter);
    if (targetId === undefined || this.db.engine !== "sqlite") return;
    // SQLite runs the filter's EXISTS once per event of the window, in published order, so
    // "this user's events" would read the whole window for a rare target. The same condition
    // as a join lets its planner start from the target's few events instead
    // (log_event_targets_id_event), or keep to published order for a common one. The NOT
    // EXISTS keeps one row per event when an event names the same target twice. PostgreSQL
    // plans the EXISTS as a semi-join by itself.
    select.innerJoin(
      LogEventTargetRecord,
      "rt",
      `rt.event_uuid = ${EVENT_ALIAS}.uuid AND rt.id = :requiredTargetId AND NOT EXISTS (SELECT 1 FROM log_event_targets rd ` +
        "WHERE rd.event_uuid = rt.event_uuid AND rd.id = rt.id AND rd.position < rt.position)",
      { requiredTargetId: targetId },
    );
  }

  /** Strictly past the cursor's (published, uuid), in the page's direction. */
  private whereAfter(select: SelectQueryBuilder<LogEventRecord>, cursor: KeysetCursor, descending: boolean): void {
    const beyond = descending ? "<" : ">";
    // The leading range on published alone lets both engines seek the (published, uuid) index.
    select
      .andWhere(`${EVENT_ALIAS}.published ${beyond}= :cursorAt`, { cursorAt: cursor.at })
      .andWhere(
        new Brackets((where) =>
          where
            .where(`${EVENT_ALIAS}.published ${beyond} :cursorAt`)
            .orWhere(`${EVENT_ALIAS}.uuid ${beyond} :cursorUuid`, { cursorUuid: cursor.id }),
        ),
      );
  }

  /** since is inclusive and until exclusive, as epoch ms; by default the 7 days up to now. */
  private window(since: Date | null | undefined, until: Date | null | undefined): { since: number; until: number } {
    // Exclusive bound one millisecond past now: an event published this very millisecond is included.
    const upper = until ? until.getTime() : this.clock.now().getTime() + 1;
    const lower = since ? since.getTime() : upper - DEFAULT_WINDOW_MS;
    if (!Number.isFinite(lower) || !Number.isFinite(upper)) throw badInput(since ? "since" : "until", "not a valid instant");
    if (lower >= upper) throw badInput("since", "must be before until");
    return { since: lower, until: upper };
  }

  /**
   * Each whitespace-separated keyword must appear, in any ASCII case, in the display message,
   * the actor's alternate id or display name, or some target's. Wildcards in a keyword are
   * matched literally.
   */
  private whereKeywords(select: SelectQueryBuilder<LogEventRecord>, q: string | null | undefined): void {
    const keywords = (q ?? "").split(/\s+/).filter(Boolean);
    if (keywords.length > MAX_KEYWORDS) throw badInput("q", `at most ${MAX_KEYWORDS} keywords`);
    const fold = (column: string) => (this.db.engine === "postgres" ? `lower(${column} COLLATE "C")` : `lower(${column})`);
    const contains = (column: string, parameter: string) => `${fold(column)} LIKE :${parameter} ESCAPE '\\'`;
    keywords.forEach((keyword, index) => {
      const parameter = `keyword${index}`;
      const target = `kt${index}`;
      select.andWhere(
        `(${contains(`${EVENT_ALIAS}.display_message`, parameter)}` +
          ` OR ${contains(`${EVENT_ALIAS}.actor_alternate_id`, parameter)}` +
          ` OR ${contains(`${EVENT_ALIAS}.actor_display_name`, parameter)}` +
          ` OR EXISTS (SELECT 1 FROM log_event_targets ${target} WHERE ${target}.event_uuid = ${EVENT_ALIAS}.uuid` +
          ` AND (${contains(`${target}.alternate_id`, parameter)} OR ${contains(`${target}.display_name`, parameter)})))`,
        { [parameter]: `%${escapeLike(asciiLowerCase(keyword))}%` },
      );
    });
  }

  /**
   * The event columns; on PostgreSQL also each event's targets, as a JSON array in position
   * order, so that a page is one round trip rather than two. SQLite, in process, has no round
   * trip to save and reads them in a second statement (withTargets).
   */
  private selectEventColumns(select: SelectQueryBuilder<LogEventRecord>): SelectQueryBuilder<LogEventRecord> {
    select.select(EVENT_COLUMNS.map((column) => `${EVENT_ALIAS}.${column} AS ${column}`));
    if (this.db.engine !== "postgres") return select;
    return select.addSelect(
      "(SELECT COALESCE(json_agg(json_build_array(t.id, t.type, t.alternate_id, t.display_name) ORDER BY t.position), '[]'::json) " +
        `FROM log_event_targets t WHERE t.event_uuid = ${EVENT_ALIAS}.uuid)`,
      "targets",
    );
  }

  /** The events of the rows, with their targets: from the rows themselves, or one statement for all of them. */
  private async withTargets(rows: EventRow[]): Promise<LogEvent[]> {
    if (!rows.length) return [];
    if (rows[0]!.targets !== undefined) {
      return rows.map((row) =>
        eventFromRow(
          row,
          (row.targets ?? []).map(([id, type, alternateId, displayName]) => ({ id, type, alternateId, displayName })),
        ),
      );
    }
    const targets = await this.db.manager
      .createQueryBuilder(LogEventTargetRecord, "t")
      .select(["t.event_uuid AS event_uuid", "t.id AS id", "t.type AS type", "t.alternate_id AS alternate_id", "t.display_name AS display_name"])
      .where("t.event_uuid IN (:...uuids)", { uuids: rows.map((row) => row.uuid) })
      .orderBy("t.event_uuid", "ASC")
      .addOrderBy("t.position", "ASC")
      .getRawMany<TargetRow>();
    const targetsByEvent = new Map<string, LogTarget[]>();
    for (const target of targets) {
      const list = targetsByEvent.get(target.event_uuid) ?? [];
      list.push({ id: target.id, type: target.type, alternateId: target.alternate_id, displayName: target.display_name });
      targetsByEvent.set(target.event_uuid, list);
    }
    return rows.map((row) => eventFromRow(row, targetsByEvent.get(row.uuid) ?? []));
  }
}

/**
 * Pages are read as raw rows, not entities: a page is a hundred events and their targets, and
 * TypeORM's entity hydration of those rows cost more than the query itself.
 */
interface EventRow {
  uuid: string;
  published: string | number;
  event_type: string;
  severity: string;
  display_message: string;
  actor_id: string;
  actor_type: string;
  actor_alternate_id: string | null;
  actor_display_name: string | null;
  outcome_result: string;
  outcome_reason: string | null;
  client_ip: string | null;
  client_user_agent: string | null;
  transaction_id: string | null;
  debug_context: string | null;
  /** PostgreSQL only: [id, type, alternate_id, display_name] per target, in position order. */
  targets?: [string, string, string | null, string | null][] | null;
}

interface TargetRow {
  event_uuid: string;
  id: string;
  type: string;
  alternate_id: string | null;
  display_name: string | null;
}

const EVENT_COLUMNS: readonly (keyof EventRow)[] = [
  "uuid",
  "published",
  "event_type",
  "severity",
  "display_message",
  "actor_id",
  "actor_type",
  "actor_alternate_id",
  "actor_display_name",
  "outcome_result",
  "outcome_reason",
  "client_ip",
  "client_user_agent",
  "transaction_id",
  "debug_context",
];

function eventFromRow(row: EventRow, target: LogTarget[]): LogEvent {
  return {
    uuid: row.uuid,
    // node-postgres returns BIGINT as a string; epoch milliseconds fit a double exactly.
    published: new Date(Number(row.published)),
    eventType: row.event_type,
    displayMessage: row.display_message,
    severity: row.severity as Severity,
    actor: { id: row.actor_id, type: row.actor_type, alternateId: row.actor_alternate_id, displayName: row.actor_display_name },
    target,
    outcome: { result: row.outcome_result as LogResult, reason: row.outcome_reason },
    client: row.client_ip == null && row.client_user_agent == null ? null : { ipAddress: row.client_ip, userAgent: row.client_user_agent },
    debugContext: row.debug_context == null ? null : (JSON.parse(row.debug_context) as LogEvent["debugContext"]),
    transactionId: row.transaction_id,
  };
}

/** The target ids every event the filter accepts must have: `target.id eq` leaves reached through `and` alone. */
function requiredTargetIds(node: FilterNode): string[] {
  switch (node.kind) {
    case "and":
      return [...requiredTargetIds(node.left), ...requiredTargetIds(node.right)];
    case "compare":
      return node.path === "target.id" && node.op === "eq" && typeof node.value === "string" ? [node.value] : [];
    default:
      return [];
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

/** The same ASCII-only folding as SQLite's lower() and PostgreSQL's lower(... COLLATE "C"). */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
