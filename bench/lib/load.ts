import autocannon from "autocannon";
import { summarize, type RunResult } from "./stats";
import { nowMs } from "./timing";

export interface CannonOptions {
  url: string;
  body: string;
  headers?: Record<string, string>;
  connections: number;
  durationSec: number;
  /** The body every answer must equal; anything else counts as an error (GraphQL errors come with HTTP 200). */
  expectBody: string;
}

/** One fixed POST, as fast as `connections` keep-alive connections allow, for `durationSec`. */
export async function cannon(options: CannonOptions): Promise<RunResult> {
  const result = await autocannon({
    url: options.url,
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: options.body,
    connections: options.connections,
    duration: options.durationSec,
    expectBody: options.expectBody,
  });
  const good = result["2xx"] - result.mismatches;
  return {
    throughput: good / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    operations: good,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}

export interface FlowOptions {
  /** Operations in flight at once. */
  concurrency: number;
  durationMs: number;
  /** Bound on operations started, whatever the duration. */
  maxOperations: number;
  /** One whole operation (a passcode pair, a sign-in); `worker` is 0..concurrency-1. */
  operation: (worker: number) => Promise<void>;
  /** Failures tolerated before the run is abandoned: a broken flow must not be reported as a fast one. @default 20 */
  maxErrors?: number;
}

/** A closed-loop load: each worker starts its next operation when the previous one ends. */
export async function runFlow(options: FlowOptions): Promise<RunResult> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: unknown = null;
  const begin = nowMs();
  const deadline = begin + options.durationMs;
  const maxErrors = options.maxErrors ?? 20;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      while (nowMs() < deadline && started < options.maxOperations && errors <= maxErrors) {
        started += 1;
        const operationStart = nowMs();
        try {
          await options.operation(worker);
          latencies.push(nowMs() - operationStart);
        } catch (error) {
          errors += 1;
          firstError ??= error;
        }
      }
    }),
  );
  if (errors > maxErrors)
    throw new Error(`${errors} operations failed; the first: ${firstError instanceof Error ? firstError.message : String(firstError)}`);
  const elapsedSec = (nowMs() - begin) / 1000;
  const summary = summarize(latencies);
  return { throughput: latencies.length / elapsedSec, p50: summary.p50, p99: summary.p99, operations: latencies.length, errors };
}

/** `count` calls of `operation` with at most `concurrency` in flight: for seeding, not measuring. */
export async function inParallel(count: number, concurrency: number, operation: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await operation(index);
      }
    }),
  );
}
