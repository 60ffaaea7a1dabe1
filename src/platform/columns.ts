import { Column, type ColumnOptions, type ValueTransformer } from "typeorm";

/**
 * Instants are stored as epoch milliseconds in a BIGINT on both engines: one portable
 * representation that sorts and compares as a number, with no time-zone conversions.
 * node-postgres returns BIGINT as a string, hence the transformer.
 */
const epochMillis: ValueTransformer = {
  to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
  from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
};

export function TimestampColumn(options: Omit<ColumnOptions, "type" | "transformer"> = {}): PropertyDecorator {
  return Column({ ...options, type: "bigint", transformer: epochMillis });
}

const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined ? undefined : value === null ? null : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? null : JSON.parse(value)),
};

/** JSON kept as text on both engines; queries that look inside cast it where the engine needs. */
export function JsonColumn(options: Omit<ColumnOptions, "type" | "transformer"> = {}): PropertyDecorator {
  return Column({ ...options, type: "text", transformer: jsonText });
}
