import { PeriodicJob } from "../../../src/platform/periodic-job";
import { createLogger } from "../../../src/platform/logger";

describe("PeriodicJob", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test("a run still going when the next is due stands for it: slow runs do not pile up", async () => {
    let started = 0;
    const finishes: Array<() => void> = [];
    const job = new PeriodicJob({
      name: "slow job",
      run: () => {
        started += 1;
        return new Promise<void>((resolve) => finishes.push(resolve));
      },
      intervalMs: 1_000,
      logger: createLogger({ logLevel: "silent", nodeEnv: "test" }),
    });
    job.start();
    await jest.advanceTimersByTimeAsync(10_500);
    expect(started).toBe(1);
    finishes.shift()!();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(2);
    finishes.shift()!();
    const stopped = job.stop();
    await jest.advanceTimersByTimeAsync(0);
    await stopped;
    expect(started).toBe(2);
  });
});
