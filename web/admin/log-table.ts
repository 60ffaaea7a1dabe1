import type { LogEventFieldsFragment } from "../../src/generated/graphql";
import { h } from "../shared/dom";

/** Rows kept on screen: the page streams for hours, and older events stay queryable with `logs`. */
const MAX_ROWS = 300;

/**
 * The System Log as a table, newest first. History and the live feed overlap around the
 * moment the page subscribed; an event already shown is not shown twice.
 */
export class LogTable {
  private readonly shown = new Set<string>();

  constructor(private readonly body: HTMLTableSectionElement) {}

  get size(): number {
    return this.shown.size;
  }

  clear(): void {
    this.shown.clear();
    this.body.replaceChildren();
  }

  /** A live event: on top, marked fresh for a moment. */
  prepend(event: LogEventFieldsFragment): void {
    const row = this.row(event);
    if (!row) return;
    row.classList.add("fresh");
    this.body.prepend(row);
    while (this.body.rows.length > MAX_ROWS) this.forget(this.body.rows[this.body.rows.length - 1]!);
  }

  /** History, newest first, below whatever already arrived live. */
  append(event: LogEventFieldsFragment): void {
    if (this.body.rows.length >= MAX_ROWS) return;
    const row = this.row(event);
    if (row) this.body.append(row);
  }

  /** A row off the bottom takes its uuid with it: on a busy gateway `shown` would otherwise grow for as long as the page is open. */
  private forget(row: HTMLTableRowElement): void {
    this.shown.delete(row.dataset.uuid ?? "");
    row.remove();
  }

  private row(event: LogEventFieldsFragment): HTMLTableRowElement | null {
    if (this.shown.has(event.uuid)) return null;
    this.shown.add(event.uuid);
    const published = new Date(event.published);
    const actor = event.actor.alternateId ?? event.actor.displayName ?? event.actor.id;
    const targets = event.target.map((target) => target.alternateId ?? target.displayName ?? target.id).join(", ");
    return h(
      "tr",
      { "data-event-type": event.eventType, "data-uuid": event.uuid, class: `severity-${event.severity.toLowerCase()}` },
      h("td", { class: "time" }, h("time", { datetime: event.published, title: published.toISOString() }, published.toLocaleTimeString())),
      h("td", {}, h("code", {}, event.eventType)),
      h("td", {}, event.displayMessage),
      h("td", {}, actor),
      h("td", {}, targets),
      h(
        "td",
        {},
        h("span", { class: `outcome outcome-${event.outcome.result.toLowerCase()}` }, event.outcome.result),
        event.outcome.reason ? h("span", { class: "reason" }, event.outcome.reason) : null,
      ),
    );
  }
}
