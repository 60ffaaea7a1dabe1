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

/** A keyset position: the sort key of the last row seen. Opaque to clients. */
export interface KeysetCursor {
  at: number;
  id: string;
}

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString("base64url");
}

export function decodeCursor(value: string, field = "after"): KeysetCursor {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (Array.isArray(decoded) && decoded.length === 2 && Number.isSafeInteger(decoded[0]) && typeof decoded[1] === "string") {
      return { at: decoded[0], id: decoded[1] };
    }
  } catch {
    // fall through: a cursor we did not make
  }
  throw badInput(field, "not a cursor returned by this API");
}

export function pageSize(first: number | null | undefined, fallback = 20, max = 200): number {
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
  page: { limit: number; after: string | null | undefined },
  order: { at: string; id: string; direction: "ASC" | "DESC"; cursorOf(row: Row): KeysetCursor },
  toNode: (row: Row) => Node,
): Promise<KeysetConnection<Node>> {
  const totalCount = await filtered.clone().getCount();
  const query = filtered.clone();
  if (page.after) {
    const cursor = decodeCursor(page.after);
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
  const edges = rows.slice(0, page.limit).map((row) => ({ node: toNode(row), cursor: encodeCursor(order.cursorOf(row)) }));
  return { edges, totalCount, pageInfo: { hasNextPage: rows.length > page.limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
