import type { RunResult } from "./stats";

export interface MeasurementRow {
  id: string;
  /** The issue's scenario it belongs to, e.g. "3. passcode round trip". */
  scenario: string;
  label: string;
  /** What `throughput` counts per second: "req/s", "pairs/s", "flows/s", "msg/s". */
  unit: string;
  throughput: number | null;
  p50Ms: number | null;
  p95Ms?: number | null;
  p99Ms: number | null;
  /** CPU the server process spent per operation (median of runs): steadier than throughput on a busy machine. */
  serverCpuMsPerOp?: number | null;
  errors?: number;
  runs?: RunResult[];
  notes?: string;
}

/** INFO: a ratio the issue asks to report without a goal (sign-in against the password hash). */
export type GoalStatus = "PASS" | "MISS" | "NOT RUN" | "INFO";

export interface GoalRow {
  id: string;
  label: string;
  value: number | null;
  unit: "x" | "KB" | "ms";
  /** null: reported, not judged. */
  comparator: ">=" | "<=" | null;
  target: number | null;
  status: GoalStatus;
  /** How the value was obtained, for the reader of the JSON. */
  basis: string;
}

export interface ProfileFrame {
  functionName: string;
  location: string;
  selfMs: number;
  selfPercent: number;
}

export interface ProfileSummary {
  scenario: string;
  file: string;
  /** Whether only the measured load was counted, not start-up and seeding. */
  windowed: boolean;
  sampledMs: number;
  /** Share of samples the process was idle (waiting on I/O or the database). */
  idlePercent: number;
  garbageCollectionPercent: number;
  topSelf: ProfileFrame[];
  /** The project's own functions by inclusive time (selfMs/selfPercent hold the inclusive figures here). */
  topInclusiveProject: ProfileFrame[];
  /** Self time summed per package (node_modules/<name>) or project folder (src/<folder>). */
  byModule: { module: string; selfMs: number; selfPercent: number }[];
}

export interface BenchResults {
  version: 1;
  date: string;
  mode: "quick" | "full";
  durationSec: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    platform: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  git: { commit: string | null; dirty: boolean };
  /** Children ran compiled (`build`) or from TypeScript under ts-node (`source`). */
  children: "build" | "source";
  measurements: MeasurementRow[];
  goals: GoalRow[];
  skipped: string[];
  profile: ProfileSummary | null;
}

export function goal(input: Omit<GoalRow, "status"> & { status?: GoalStatus }): GoalRow {
  const status: GoalStatus =
    input.status ??
    (input.value === null || !Number.isFinite(input.value)
      ? "NOT RUN"
      : input.comparator === null || input.target === null
        ? "INFO"
        : (input.comparator === ">=" ? input.value >= input.target : input.value <= input.target)
          ? "PASS"
          : "MISS");
  return { ...input, status };
}

const format = (value: number | null | undefined, digits = 1): string => {
  if (value == null || !Number.isFinite(value)) return "—";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(digits);
};

const formatGoalValue = (row: GoalRow) =>
  row.value === null ? "—" : `${format(row.value, row.unit === "x" ? 2 : 1)}${row.unit === "x" ? "x" : ` ${row.unit}`}`;
const formatTarget = (row: GoalRow) =>
  row.comparator === null || row.target === null
    ? "(none)"
    : `${row.comparator === ">=" ? "≥" : "≤"} ${row.target}${row.unit === "x" ? "x" : ` ${row.unit}`}`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** The goals table: each ratio beside its goal, PASS or MISS. Markdown, so the README can quote it as is. */
export function goalsTable(results: BenchResults): string {
  return table(
    ["goal", "measured", "target", "status"],
    results.goals.map((row) => [row.label, formatGoalValue(row), formatTarget(row), row.status]),
  );
}

export function measurementsTable(results: BenchResults): string {
  return table(
    ["scenario", "measurement", "throughput", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/op"],
    results.measurements.map((row) => [
      row.scenario,
      row.label,
      row.throughput === null ? "—" : `${format(row.throughput, 1)} ${row.unit}`,
      format(row.p50Ms, 2),
      format(row.p95Ms ?? null, 2),
      format(row.p99Ms, 2),
      format(row.serverCpuMsPerOp ?? null, 3),
    ]),
  );
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Two panels of horizontal bars on log scales, one row per measurement: throughput on the
 * left, p50 and p99 latency on the right. Hand-written SVG, so no plotting dependency.
 */
export function svgChart(results: BenchResults): string {
  const rows = results.measurements.filter((row) => row.throughput !== null || row.p50Ms !== null);
  const rowHeight = 22;
  const labelWidth = 330;
  const panelWidth = 330;
  const gap = 60;
  const top = 64;
  const width = labelWidth + panelWidth * 2 + gap * 2;
  const height = top + rows.length * rowHeight + 40;
  const logScale = (values: number[]) => {
    const positive = values.filter((value) => Number.isFinite(value) && value > 0);
    const low = Math.floor(Math.log10(Math.min(...positive, 1)));
    const high = Math.ceil(Math.log10(Math.max(...positive, 10)));
    return {
      low,
      high,
      x: (value: number) => (Math.max(0, Math.log10(Math.max(value, 10 ** low)) - low) / Math.max(1, high - low)) * panelWidth,
    };
  };
  const throughputScale = logScale(rows.map((row) => row.throughput ?? Number.NaN));
  const latencyScale = logScale(rows.flatMap((row) => [row.p50Ms ?? Number.NaN, row.p99Ms ?? Number.NaN, row.p95Ms ?? Number.NaN]));
  const leftX = labelWidth;
  const rightX = labelWidth + panelWidth + gap;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">Ringfence benchmarks, ${escapeXml(results.date)} (${results.mode}; ${results.machine.cpus} cores, load ${results.machine.loadAverageAtStart.map((load) => load.toFixed(1)).join(" ")})</text>`,
    `<text x="${leftX}" y="${top - 22}" font-weight="bold">throughput per second (log scale)</text>`,
    `<text x="${rightX}" y="${top - 22}" font-weight="bold">latency ms: p50 (dark), p95/p99 (light), log scale</text>`,
  ];
  const axis = (x0: number, scale: { low: number; high: number }) => {
    for (let power = scale.low; power <= scale.high; power += 1) {
      const x = x0 + ((power - scale.low) / Math.max(1, scale.high - scale.low)) * panelWidth;
      parts.push(`<line x1="${x}" y1="${top - 8}" x2="${x}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`);
      const tick = power >= 0 ? (10 ** power).toLocaleString("en-US") : String(10 ** power);
      parts.push(`<text x="${x}" y="${top - 10}" text-anchor="middle" fill="#666">${escapeXml(tick)}</text>`);
    }
  };
  axis(leftX, throughputScale);
  axis(rightX, latencyScale);
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(`${row.scenario.split(".")[0]}. ${row.label}`.slice(0, 60))}</text>`,
    );
    if (row.throughput !== null && Number.isFinite(row.throughput)) {
      const w = throughputScale.x(row.throughput);
      parts.push(`<rect x="${leftX}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="#3b6ea5"/>`);
      parts.push(`<text x="${leftX + w + 4}" y="${y + 14}">${escapeXml(`${format(row.throughput, 1)} ${row.unit}`)}</text>`);
    }
    const tail = row.p99Ms ?? row.p95Ms ?? null;
    if (tail !== null && Number.isFinite(tail)) {
      parts.push(`<rect x="${rightX}" y="${y + 3}" width="${latencyScale.x(tail).toFixed(1)}" height="${rowHeight - 6}" fill="#f2b36f"/>`);
    }
    if (row.p50Ms !== null && Number.isFinite(row.p50Ms)) {
      const w = latencyScale.x(row.p50Ms);
      parts.push(`<rect x="${rightX}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="#c46a12"/>`);
      parts.push(
        `<text x="${rightX + Math.max(w, tail !== null ? latencyScale.x(tail) : 0) + 4}" y="${y + 14}">${escapeXml(`${format(row.p50Ms, 2)} / ${format(tail, 2)}`)}</text>`,
      );
    }
  });
  parts.push(
    `<text x="10" y="${height - 12}" fill="#666">Ratios, not absolute figures, are the claims: every bar was measured in the same run on the same machine.</text>`,
  );
  parts.push("</svg>");
  return parts.join("\n");
}
