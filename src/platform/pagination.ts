import { createHash } from "node:crypto";
import { Field, Int, ObjectType, type ClassType } from "type-graphql";
import { Brackets, type ObjectLiteral, type SelectQueryBuilder } from "typeorm";
import { badInput } from "./errors";
import { PLAIN_DATA } from "./plain-data";

@ObjectType(PLAIN_DATA)
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

/** The Relay edge and connection object types of a node type, named `<name>Edge` and `<name>Connection`. */
export function connectionTypes<Node extends object>(nodeType: ClassType<Node>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => nodeType)
    node: Node;

    @Field()
    cursor: string;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }

  return Connection;
}

/**
 * A keyset position: the sort key of the last row seen. Opaque to clients. `floor` is a lower
 * bound the first page resolved for itself (a default window), kept so the next pages keep it.
 */
export interface KeysetCursor {
  at: number;
  id: string;
  floor?: number;
}

/**
 * A cursor carries a digest of the query it came from (its filter, search and order: `scope`),
 * so that the next page is asked of the same query. Asked of another, the position would move
 * silently: an ascending cursor reused descending returns the rows already seen.
 */
export function encodeCursor(cursor: KeysetCursor, scope = ""): string {
  const fields = [cursor.at, cursor.id, scopeDigest(scope), ...(cursor.floor === undefined ? [] : [cursor.floor])];
  return Buffer.from(JSON.stringify(fields)).toString("base64url");
}

export function decodeCursor(value: string, field = "after", scope = ""): KeysetCursor {
  let decoded: unknown = null;
  try {
    decoded = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch {
    // a cursor we did not make: refused below
  }
  const wellFormed = (fields: unknown): fields is [number, string, string, number?] =>
    Array.isArray(fields) &&
    (fields.length === 3 || (fields.length === 4 && Number.isSafeInteger(fields[3]))) &&
    Number.isSafeInteger(fields[0]) &&
    typeof fields[1] === "string";
  if (!wellFormed(decoded)) throw badInput(field, "not a cursor returned by this API");
  if (decoded[2] !== scopeDigest(scope)) throw badInput(field, "comes from a page of another query (its filter, search or order changed); start again without it");
  const [at, id, , floor] = decoded;
  return { at, id, ...(floor === undefined ? {} : { floor }) };
}

/** The query arguments a cursor belongs to, in a fixed order: what scopes it. */
export function cursorScope(...parts: ReadonlyArray<string | number | null | undefined>): string {
  return JSON.stringify(parts.map((part) => part ?? null));
}

function scopeDigest(scope: string): string {
  return scope ? createHash("sha256").update(scope).digest("base64url").slice(0, 16) : "";
}

/** A page's size when `first` is not given: the schema declares it as the argument's default, which the cost limit reads. */
export const DEFAULT_PAGE_SIZE = 20;

export function pageSize(first: number | null | undefined, fallback = DEFAULT_PAGE_SIZE, max = 200): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput("first", `must be from 1 to ${max}`);
  return first;
}

/** A Relay connection's page: what every keyset-paged list answers. */
export interface KeysetConnection<Node> {
  edges: Array<{ node: Node; cursor: string }>;
  totalCount: number;
  pageInfo: PageInfo;
}

/**
 * A page of `filtered` in (at, id) order past the `after` cursor: the whole filter is counted,
 * and `limit + 1` rows are read, the extra one only to tell that a next page exists.
 */
export async function keysetConnection<Row extends ObjectLiteral, Node>(
  filtered: SelectQueryBuilder<Row>,
  page: { limit: number; after: string | null | undefined; scope?: string },
  order: { at: string; id: string; direction: "ASC" | "DESC"; cursorOf(row: Row): KeysetCursor },
  toNode: (row: Row) => Node,
): Promise<KeysetConnection<Node>> {
  const totalCount = await filtered.clone().getCount();
  const query = filtered.clone();
  if (page.after) {
    const cursor = decodeCursor(page.after, "after", page.scope);
    const beyond = order.direction === "ASC" ? ">" : "<";
    query.andWhere(
      new Brackets((where) =>
        where
          .where(`${order.at} ${beyond} :cursorAt`, { cursorAt: cursor.at })
          .orWhere(`(${order.at} = :cursorAt AND ${order.id} ${beyond} :cursorId)`, { cursorId: cursor.id }),
      ),
    );
  }
  const rows = await query.orderBy(order.at, order.direction).addOrderBy(order.id, order.direction).limit(page.limit + 1).getMany();
  const edges = rows.slice(0, page.limit).map((row) => ({ node: toNode(row), cursor: encodeCursor(order.cursorOf(row), page.scope) }));
  return { edges, totalCount, pageInfo: { hasNextPage: rows.length > page.limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
