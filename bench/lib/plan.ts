/** How much each scenario does: the quick pass checks that everything runs and gives rough ratios in about a minute. */
export interface Plan {
  quick: boolean;
  /** Runs per throughput figure; the median is reported. */
  runs: number;
  runSeconds: number;
  /** autocannon connections for the single-request scenarios. */
  connections: number;
  /** Flows in flight for the passcode and sign-in scenarios. */
  flowConcurrency: number;
  /** Users and numbers the passcode pairs rotate over (per-number limits hold per 30 s). */
  passcodePool: number;
  signInUsers: number;
  /** Subscriber counts, in the order they are reached; memory is read at the largest. */
  subscribers: number[];
  /** Events published per fan-out measurement. */
  fanoutEvents: number;
  /** System Log sizes, in the order they are reached by loading more. */
  logSizes: number[];
  logQueries: number;
  dispatchMessages: number;
}

export function planFor(quick: boolean): Plan {
  return quick
    ? {
        quick,
        runs: 3,
        runSeconds: 2,
        connections: 16,
        flowConcurrency: 16,
        passcodePool: 64,
        signInUsers: 16,
        subscribers: [1_000],
        fanoutEvents: 5,
        logSizes: [10_000, 100_000],
        logQueries: 100,
        dispatchMessages: 300,
      }
    : {
        quick,
        runs: 5,
        runSeconds: 8,
        connections: 16,
        flowConcurrency: 16,
        passcodePool: 1_024,
        signInUsers: 64,
        subscribers: [1_000, 10_000],
        fanoutEvents: 10,
        logSizes: [10_000, 100_000, 1_000_000],
        logQueries: 500,
        dispatchMessages: 3_000,
      };
}
