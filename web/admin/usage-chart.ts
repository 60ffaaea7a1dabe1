import type { SmsUsageReportQuery } from "../../src/generated/graphql";
import { h, svg } from "../shared/dom";

type UsageRow = SmsUsageReportQuery["smsUsageReport"]["rows"][number];
export type ChannelChoice = "SMS" | "VOICE" | "ALL";

interface Series {
  key: string;
  label: string;
  className: string;
  value(row: UsageRow): number;
}

const BY_DESTINATION: Series[] = [
  { key: "domestic", label: "Domestic", className: "series-1", value: (row) => row.domestic },
  { key: "international", label: "International", className: "series-2", value: (row) => row.international },
];

const BY_PURPOSE: Series[] = [
  { key: "factorVerify", label: "Sign-in (MFA)", className: "series-1", value: (row) => row.byPurpose.factorVerify },
  { key: "phoneVerification", label: "Enrollment", className: "series-3", value: (row) => row.byPurpose.phoneVerification },
  { key: "passwordReset", label: "Password reset", className: "series-4", value: (row) => row.byPurpose.passwordReset },
  { key: "accountUnlock", label: "Account unlock", className: "series-2", value: (row) => row.byPurpose.accountUnlock },
];

interface Month {
  month: string;
  rows: UsageRow[];
}

/** The report's rows (one per month and channel) folded into months, for the chosen channel. */
function months(rows: UsageRow[], channel: ChannelChoice): Month[] {
  const byMonth = new Map<string, UsageRow[]>();
  for (const row of rows) {
    if (channel !== "ALL" && row.channel !== channel) continue;
    byMonth.set(row.month, [...(byMonth.get(row.month) ?? []), row]);
  }
  return [...byMonth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, monthRows]) => ({ month, rows: monthRows }));
}

const sum = (rows: UsageRow[], series: Series) => rows.reduce((total, row) => total + series.value(row), 0);

const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const monthLabel = (month: string) => {
  const [year, number] = month.split("-");
  return `${MONTH_NAMES[Number(number) - 1] ?? number} ${year?.slice(2)}`;
};

/** A step for the y axis that gives about four gridlines at round numbers. */
function niceStep(max: number): number {
  if (max <= 4) return 1;
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= raw) ?? power * 10;
}

/** Stacked monthly bars drawn as SVG: no chart library, no inline styles (the CSP forbids them). */
function stackedBars(title: string, data: Month[], series: Series[]): HTMLElement {
  const width = 560;
  const height = 240;
  const margin = { top: 12, right: 12, bottom: 28, left: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const totals = data.map((month) => series.reduce((total, one) => total + sum(month.rows, one), 0));
  const step = niceStep(Math.max(0, ...totals));
  const top = Math.max(step, Math.ceil(Math.max(0, ...totals) / step) * step);
  const y = (value: number) => margin.top + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / Math.max(1, data.length);
  const barWidth = Math.min(48, slot * 0.6);

  const grid = [];
  for (let value = 0; value <= top; value += step) {
    grid.push(
      svg("line", { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), class: value === 0 ? "axis" : "grid" }),
      svg("text", { x: margin.left - 6, y: y(value), "text-anchor": "end", "dominant-baseline": "central", class: "tick" }, String(value)),
    );
  }
  const bars = data.map((month, index) => {
    const x = margin.left + index * slot + (slot - barWidth) / 2;
    let base = 0;
    const segments = series.map((one) => {
      const value = sum(month.rows, one);
      const rect = svg(
        "rect",
        { x, y: y(base + value), width: barWidth, height: y(base) - y(base + value), class: one.className },
        svg("title", {}, `${monthLabel(month.month)} · ${one.label}: ${value}`),
      );
      base += value;
      return rect;
    });
    return svg(
      "g",
      { "data-month": month.month },
      ...segments,
      svg("text", { x: x + barWidth / 2, y: height - margin.bottom + 16, "text-anchor": "middle", class: "tick" }, monthLabel(month.month)),
    );
  });
  const total = totals.reduce((a, b) => a + b, 0);
  const description = `${title}: ${total} in all over ${data.length} months; ${series.map((one) => `${one.label} ${data.reduce((t, month) => t + sum(month.rows, one), 0)}`).join(", ")}.`;
  return h(
    "figure",
    { class: "usage-chart" },
    h("figcaption", {}, title),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": description }, ...grid, ...bars),
    h("ul", { class: "legend", "aria-hidden": "true" }, ...series.map((one) => h("li", {}, h("span", { class: `swatch ${one.className}` }), one.label))),
  );
}

export function renderUsageCharts(rows: UsageRow[], channel: ChannelChoice): HTMLElement[] {
  const data = months(rows, channel);
  const unit = channel === "SMS" ? "Text messages" : channel === "VOICE" ? "Voice calls" : "Messages and calls";
  return [stackedBars(`${unit} by destination`, data, BY_DESTINATION), stackedBars(`${unit} by purpose`, data, BY_PURPOSE)];
}

/** The same numbers as a table, for reading them exactly and for screen readers. */
export function renderUsageTable(table: HTMLTableElement, rows: UsageRow[], channel: ChannelChoice): void {
  const data = months(rows, channel);
  const columns = [...BY_DESTINATION, ...BY_PURPOSE];
  table.replaceChildren(
    h("caption", { class: "visually-hidden" }, "Usage per month"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Month"),
        ...columns.map((one) => h("th", { scope: "col" }, one.label)),
        h("th", { scope: "col" }, "Est. cost (USD)"),
        h("th", { scope: "col", title: "stopped by the fraud rules, or never offered to a provider: not billed, not in the other columns" }, "Not sent"),
      ),
    ),
    h(
      "tbody",
      {},
      ...data.map((month) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, month.month),
          ...columns.map((one) => h("td", {}, sum(month.rows, one))),
          h("td", {}, month.rows.reduce((total, row) => total + row.estimatedCost, 0).toFixed(2)),
          h("td", {}, month.rows.reduce((total, row) => total + row.notSent, 0)),
        ),
      ),
    ),
  );
}
