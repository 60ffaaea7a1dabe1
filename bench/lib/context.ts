import type { JsonClient } from "./http-client";
import type { Plan } from "./plan";
import type { GoalRow, MeasurementRow } from "./report";

export interface BenchContext {
  plan: Plan;
  client: JsonClient;
  /** PostgreSQL and Redis scenarios run only when each answers at start. */
  available: { postgres: boolean; redis: boolean };
  /** Set by BENCH_PROFILE: where CPU profiles go and what their files are named after. */
  profile: { dir: string; stamp: string; engine: "sqlite" | "postgres" } | null;
  say(message: string): void;
  measure(row: MeasurementRow): void;
  goal(row: GoalRow): void;
  skip(what: string, reason: string): void;
  /** Figures one scenario leaves for another (the single-instance fan-out the Redis pair is judged against). */
  shared: Map<string, number>;
}
