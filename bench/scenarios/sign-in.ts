import os from "node:os";
import type { BenchContext } from "../lib/context";
import { runFlow } from "../lib/load";
import { CHALLENGE_FACTOR, SIGN_IN, UPDATE_POLICY, VERIFY_FACTOR, type TransactionView } from "../lib/operations";
import { goal } from "../lib/report";
import { startRingfence, type Ringfence } from "../lib/ringfence";
import { median, medianOf, withServerCpu, type RunResult } from "../lib/stats";
import { nowMs } from "../lib/timing";
import { hashPassword } from "../../src/users/password";
import { Pool, seedFactors } from "./passcode";

const PASSWORD = "a long enough bench password";
const NUMBER_BLOCK = 2;

/** One scrypt as src/users/password.ts does it, timed alone in the bench process. */
async function passwordHashMs(samples: number): Promise<number> {
  await hashPassword(PASSWORD);
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const start = nowMs();
    await hashPassword(PASSWORD);
    times.push(nowMs() - start);
  }
  return median(times);
}

/**
 * Scenario 3, continued: the whole sign-in with the phone required (signIn -> challengeFactor
 * -> verifyFactor, the code read back from the simulator), beside the cost of one password
 * hash. Every sign-in verifies one password, so hashes per second bound sign-ins per second.
 */
export async function signInFlow(ctx: BenchContext): Promise<void> {
  const { plan } = ctx;
  const hashMs = await passwordHashMs(plan.quick ? 5 : 15);
  // scrypt runs on libuv's pool (4 threads by default), no faster than the cores allow.
  const parallelHashes = Math.min(os.cpus().length, Number(process.env.UV_THREADPOOL_SIZE ?? 4));
  const hashBound = (parallelHashes * 1000) / hashMs;
  ctx.measure({
    id: "sign-in.password-hash",
    scenario: "3. sign-in",
    label: "one password hash (scrypt N=2^15, r=8), bound",
    unit: "hashes/s",
    throughput: hashBound,
    p50Ms: hashMs,
    p99Ms: null,
    notes: `median of single hashes in the bench process; bound = ${parallelHashes} in parallel ÷ ${hashMs.toFixed(1)} ms`,
  });

  let gateway: Ringfence | null = null;
  try {
    gateway = await startRingfence(ctx.client, { name: "sign-in", engine: "sqlite" });
    await gateway.admin.run(UPDATE_POLICY, {
      id: "pol_default_global_session",
      input: {
        type: "GLOBAL_SESSION",
        name: "Default global session policy",
        rules: [{ name: "Phone for everyone", access: "ALLOW", factorRequirement: "PASSWORD_AND_PHONE" }],
      },
    });
    ctx.say(`seeding ${plan.signInUsers} users with passwords and active factors`);
    const users = new Pool(await seedFactors(gateway, plan.signInUsers, NUMBER_BLOCK, PASSWORD));
    const ready = gateway;
    const signIn = async () => {
      const user = users.take();
      try {
        const { signIn } = await ready.anonymous.run<{ signIn: TransactionView }>(SIGN_IN, {
          input: { login: user.login, password: PASSWORD },
        });
        if (signIn.status !== "MFA_REQUIRED") throw new Error(`signIn answered ${signIn.status}, not MFA_REQUIRED`);
        const since = Date.now();
        const { challengeFactor } = await ready.anonymous.run<{ challengeFactor: TransactionView }>(CHALLENGE_FACTOR, {
          input: { stateHandle: signIn.stateHandle, factorId: user.factorId },
        });
        if (challengeFactor.status !== "MFA_CHALLENGE") throw new Error(`challengeFactor answered ${challengeFactor.status}`);
        const code = await ready.inbox.code(user.phoneNumber, since);
        const { verifyFactor } = await ready.anonymous.run<{ verifyFactor: TransactionView }>(VERIFY_FACTOR, {
          input: { stateHandle: signIn.stateHandle, code },
        });
        if (verifyFactor.status !== "SUCCESS" || !verifyFactor.sessionToken)
          throw new Error(`verifyFactor answered ${verifyFactor.status}`);
      } finally {
        users.give(user);
      }
    };
    // Enough flows in flight to keep every hashing thread busy while others wait on the database.
    const concurrency = Math.min(plan.signInUsers, Math.max(8, parallelHashes * 4));
    await runFlow({ concurrency, durationMs: 1_000, maxOperations: 1_000, operation: signIn });
    const runs: RunResult[] = [];
    for (let run = 0; run < plan.runs; run += 1) {
      runs.push(
        await withServerCpu(ready.child, () =>
          runFlow({ concurrency, durationMs: plan.runSeconds * 1000, maxOperations: 100_000, operation: signIn }),
        ),
      );
      ctx.say(`run ${run + 1}/${plan.runs}: ${Math.round(runs.at(-1)!.throughput * 10) / 10} sign-ins/s`);
    }
    const result = medianOf(runs);
    ctx.measure({
      id: "sign-in.flow",
      scenario: "3. sign-in",
      label: "Ringfence signIn → challengeFactor → verifyFactor, SQLite",
      unit: "flows/s",
      throughput: result.throughput,
      p50Ms: result.p50,
      p99Ms: result.p99,
      serverCpuMsPerOp: result.serverCpuMsPerOp,
      errors: result.errors,
      runs,
      notes: `${concurrency} flows in flight over ${plan.signInUsers} users, phone required by the global session policy`,
    });
    ctx.goal(
      goal({
        id: "sign-in.to-hash-bound",
        label: "3. sign-ins/s ÷ password hashes/s (bound)",
        value: result.throughput / hashBound,
        unit: "x",
        comparator: null,
        target: null,
        basis: "1.0 would mean sign-in costs nothing beyond its one password verification",
      }),
    );
  } finally {
    await gateway?.dispose();
  }
}
