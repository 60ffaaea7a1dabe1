import type { LogEventFieldsFragment } from "../../src/generated/graphql";
import { h, svg } from "../shared/dom";

/** The events the funnel is made of: every send_* and receive_status, SMS and voice. */
export const FUNNEL_FILTER =
  'eventType sw "system.sms.send_" or eventType sw "system.voice.send_" or eventType eq "system.sms.receive_status" or eventType eq "system.voice.receive_status"';

interface TrackedMessage {
  country: string | null;
  provider: string | null;
  sent: boolean;
  outcome: "delivered" | "failed" | null;
  /** When its newest event was written (ms): the funnel forgets it a window after that. */
  latest: number;
}

export interface FunnelRow {
  provider: string;
  country: string;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
}

/**
 * For events written before receive_status said whether a provider took the message
 * (`handedOver`): the failure codes a refusal before any provider took it gives.
 */
const NEVER_SENT = new Set(["PROVIDER_UNREACHABLE", "PROVIDER_REJECTED", "BLOCKED_SUSPICIOUS", "COUNTRY_UNSUPPORTED"]);

const SEND = /^system\.(sms|voice)\.send_/;
const RECEIVE = /^system\.(sms|voice)\.receive_status$/;

/**
 * Messages by the furthest stage each reached, keyed by message id, from System Log events
 * that may come in any order and more than once: the history and the live feed overlap, and
 * a receipt can be read before its send.
 *
 * A message is queued by its send_* event; its receive_status event says delivered (SUCCESS)
 * or failed (FAILURE, UNKNOWN), and whether a provider took it (sent). The provider is only in receive_status, so a message waiting for its receipt sits
 * under "not yet known".
 */
export class DeliveryFunnel {
  private readonly messages = new Map<string, TrackedMessage>();

  /** True when the event changed a count. */
  add(event: LogEventFieldsFragment): boolean {
    const context = asRecord(event.debugContext);
    const messageId = text(context.messageId) ?? event.target.find((target) => target.type === "Message")?.id ?? null;
    if (!messageId) return false;
    const known = this.messages.get(messageId);
    const latest = Math.max(Date.parse(event.published), known?.latest ?? 0);
    if (known) known.latest = latest;
    if (SEND.test(event.eventType)) {
      if (known) {
        known.country ??= text(context.country);
        return false;
      }
      this.messages.set(messageId, { country: text(context.country), provider: null, sent: false, outcome: null, latest });
      return true;
    }
    if (!RECEIVE.test(event.eventType) || known?.outcome) return false;
    const delivered = event.outcome.result === "SUCCESS";
    const errorCode = text(context.errorCode) ?? event.outcome.reason;
    const handedOver = typeof context.handedOver === "boolean" ? context.handedOver : !(errorCode && NEVER_SENT.has(errorCode));
    this.messages.set(messageId, {
      country: text(context.country) ?? known?.country ?? null,
      provider: text(context.provider) ?? known?.provider ?? null,
      sent: delivered || handedOver,
      outcome: delivered ? "delivered" : "failed",
      latest,
    });
    return true;
  }

  /** Drops the messages with no event since `cutoff` (ms); true when any was dropped. */
  forgetBefore(cutoff: number): boolean {
    let forgot = false;
    for (const [messageId, message] of this.messages) {
      if (message.latest >= cutoff) continue;
      this.messages.delete(messageId);
      forgot = true;
    }
    return forgot;
  }

  rows(): FunnelRow[] {
    const rows = new Map<string, FunnelRow>();
    for (const message of this.messages.values()) {
      const provider = message.provider ?? "not yet known";
      const country = message.country ?? "?";
      const key = `${provider}\u0000${country}`;
      const row = rows.get(key) ?? { provider, country, queued: 0, sent: 0, delivered: 0, failed: 0 };
      row.queued += 1;
      if (message.sent) row.sent += 1;
      if (message.outcome === "delivered") row.delivered += 1;
      if (message.outcome === "failed") row.failed += 1;
      rows.set(key, row);
    }
    return [...rows.values()].sort((a, b) => b.queued - a.queued || a.provider.localeCompare(b.provider) || a.country.localeCompare(b.country));
  }
}

const STAGES = [
  { key: "queued", label: "Queued", className: "stage-queued" },
  { key: "sent", label: "Sent", className: "stage-sent" },
  { key: "delivered", label: "Delivered", className: "stage-delivered" },
  { key: "failed", label: "Failed", className: "stage-failed" },
] as const;

/** The four stages over every provider and country, as horizontal bars. */
export function renderFunnelSummary(rows: FunnelRow[]): SVGSVGElement {
  const totals = { queued: 0, sent: 0, delivered: 0, failed: 0 };
  for (const row of rows) for (const stage of STAGES) totals[stage.key] += row[stage.key];
  const width = 560;
  const barHeight = 22;
  const gap = 8;
  const labelWidth = 90;
  const countWidth = 70;
  const scale = (width - labelWidth - countWidth) / Math.max(1, totals.queued);
  const height = STAGES.length * (barHeight + gap);
  const summary = STAGES.map((stage) => `${totals[stage.key]} ${stage.label.toLowerCase()}`).join(", ");
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, class: "funnel-summary", role: "img", "aria-label": `All messages: ${summary}` },
    ...STAGES.map((stage, index) => {
      const y = index * (barHeight + gap);
      const value = totals[stage.key];
      return svg(
        "g",
        { class: stage.className },
        svg("text", { x: labelWidth - 10, y: y + barHeight / 2, "text-anchor": "end", "dominant-baseline": "central", class: "label" }, stage.label),
        svg("rect", { x: labelWidth, y, width: width - labelWidth - countWidth, height: barHeight, rx: 4, class: "track" }),
        svg("rect", { x: labelWidth, y, width: Math.max(value ? 3 : 0, value * scale), height: barHeight, rx: 4, class: "bar" }, svg("title", {}, `${stage.label}: ${value}`)),
        svg("text", { x: width - countWidth + 10, y: y + barHeight / 2, "dominant-baseline": "central", class: "count", "data-stage": stage.key }, String(value)),
      );
    }),
  );
}

/** One table row per provider and country, with a bar of its delivered and failed shares. */
export function renderFunnelRow(row: FunnelRow, largestQueued: number): HTMLTableRowElement {
  const width = 160;
  const scale = width / Math.max(1, largestQueued);
  const inFlight = row.queued - row.delivered - row.failed;
  const bar = svg(
    "svg",
    { viewBox: `0 0 ${width} 14`, class: "row-bar", "aria-hidden": "true" },
    svg("rect", { x: 0, y: 0, width: row.delivered * scale, height: 14, class: "stage-delivered" }),
    svg("rect", { x: row.delivered * scale, y: 0, width: row.failed * scale, height: 14, class: "stage-failed" }),
    svg("rect", { x: (row.delivered + row.failed) * scale, y: 0, width: inFlight * scale, height: 14, class: "stage-queued" }),
  );
  return h(
    "tr",
    { "data-provider": row.provider, "data-country": row.country },
    h("th", { scope: "row" }, row.provider),
    h("td", {}, row.country),
    h("td", { "data-stage": "queued" }, row.queued),
    h("td", { "data-stage": "sent" }, row.sent),
    h("td", { "data-stage": "delivered" }, row.delivered),
    h("td", { "data-stage": "failed" }, row.failed),
    h("td", {}, bar),
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const text = (value: unknown) => (typeof value === "string" && value ? value : null);
