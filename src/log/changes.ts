import type { DebugContext } from "./log-event.entity";

type LoggableValue = string | number | boolean | null;

/**
 * What an update changed, for its event's debugContext: the changed fields' names, in
 * `changedFields`, and each one's new value. Meant for settings; personal data is never passed here.
 * Null when nothing changed, so that a no-op writes neither a row nor an event.
 */
export function changedSettings<T extends Record<K, LoggableValue | undefined>, K extends string>(
  before: T,
  after: T,
  fields: readonly K[],
): DebugContext | null {
  const changed = fields.filter((field) => (before[field] ?? null) !== (after[field] ?? null));
  if (!changed.length) return null;
  return Object.fromEntries([["changedFields", changed.join(",")], ...changed.map((field) => [field, after[field] ?? null])]);
}
