import { Field, ObjectType } from "type-graphql";
import { badInput } from "./errors";
import { PLAIN_DATA } from "./plain-data";

@ObjectType(PLAIN_DATA)
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
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
