/** Nearest-rank percentile of values already sorted ascending; NaN for an empty list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (!finite.length) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** One run of a throughput scenario. */
export interface RunResult {
  /** Completed operations per second (requests, pairs, flows). */
  throughput: number;
  p50: number;
  p99: number;
  operations: number;
  errors: number;
  /** CPU the server under test spent per operation during the run, when known. */
  serverCpuMsPerOp?: number;
}

/** The median of each figure over several runs, with the runs kept for the record. */
export interface Measurement {
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
  serverCpuMsPerOp: number | null;
  runs: RunResult[];
}

export function medianOf(runs: RunResult[]): Measurement {
  return {
    throughput: median(runs.map((run) => run.throughput)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    serverCpuMsPerOp: runs.every((run) => run.serverCpuMsPerOp !== undefined) ? median(runs.map((run) => run.serverCpuMsPerOp!)) : null,
    runs,
  };
}

export const round = (value: number, digits = 2): number => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/** Runs `measure`, charging the CPU `server` used meanwhile to each operation. */
export async function withServerCpu(server: { cpuMs(): number }, measure: () => Promise<RunResult>): Promise<RunResult> {
  const before = server.cpuMs();
  const result = await measure();
  return { ...result, serverCpuMsPerOp: result.operations ? (server.cpuMs() - before) / result.operations : Number.NaN };
}
