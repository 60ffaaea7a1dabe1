import fs from "node:fs";
import path from "node:path";
import type { BenchContext } from "../lib/context";
import { inParallel } from "../lib/load";
import { CREATE_USER, ENROLL_PHONE_FACTOR } from "../lib/operations";
import { phoneNumber, startRingfence, type Ringfence } from "../lib/ringfence";
import { summarize } from "../lib/stats";
import { pollUntil } from "../lib/timing";
import { FakeSmsc } from "../../test/support/telephony-peers";

const NUMBER_BLOCK = 3;
const FACTORS_PER_USER = 50;

/**
 * Fills the outbox with `count` QUEUED messages (one enrollment each) on a gateway that does
 * not dispatch, then stops it: what follows measures the dispatcher alone, not the requests.
 */
async function fillOutbox(ctx: BenchContext, count: number): Promise<Ringfence> {
  // Nobody reads these codes: handing each message to the bench would only add to the dispatcher's work.
  const gateway = await startRingfence(ctx.client, { name: "outbox", engine: "sqlite", codes: "database", env: { DISPATCH_ENABLED: "false" } });
  const users: string[] = [];
  for (let i = 0; i < Math.ceil(count / FACTORS_PER_USER); i += 1) {
    const { createUser } = await gateway.admin.run<{ createUser: { id: string } }>(CREATE_USER, {
      input: { login: `outbox${i}@example.com` },
    });
    users.push(createUser.id);
  }
  await inParallel(count, 16, async (index) => {
    await gateway.admin.run(ENROLL_PHONE_FACTOR, {
      input: { userId: users[Math.floor(index / FACTORS_PER_USER)], phoneNumber: phoneNumber(NUMBER_BLOCK, index), method: "SMS" },
    });
  });
  await gateway.stop();
  return gateway;
}

interface DrainResult {
  messagesPerSecond: number;
  handOversPerSecond: number;
  p50: number;
  p99: number;
  serverCpuMsPerOp: number;
}

/**
 * Restarts the filled database with the dispatcher on and waits until every message is final.
 * Rates come from the database's own timestamps: messages over the span from the first
 * hand-over started to the last message final, so start-up time counts for nothing.
 */
async function drain(ctx: BenchContext, filled: Ringfence, count: number, env: Record<string, string>): Promise<DrainResult> {
  const dispatcher = await startRingfence(ctx.client, {
    name: "dispatcher",
    engine: "sqlite",
    shareWith: filled,
    codes: "database",
    env: { DISPATCH_ENABLED: "true", ...env },
  });
  const cpuBefore = dispatcher.child.cpuMs();
  try {
    await pollUntil(
      `${count} messages to be final`,
      async () => {
        const [row] = await filled.db.all<{ final: number | string }>("SELECT COUNT(*) AS final FROM messages WHERE final_at IS NOT NULL");
        return Number(row?.final) >= count ? true : null;
      },
      Math.max(120_000, count * 100),
      100,
    );
    const [span] = await filled.db.all<{ first: number | string; lastSent: number | string; lastFinal: number | string }>(
      "SELECT (SELECT MIN(started) FROM message_attempts) AS first, MAX(sent_at) AS lastSent, MAX(final_at) AS lastFinal FROM messages",
    );
    const perMessage = await filled.db.all<{ ms: number | string }>(
      "SELECT m.final_at - a.started AS ms FROM messages m JOIN message_attempts a ON a.message_id = m.id AND a.outcome = 'SENT'",
    );
    const latency = summarize(perMessage.map((row) => Number(row.ms)));
    // Counted from the moment the gateway reported listening: the few passes made before that are
    // missed, which thousands of messages make negligible.
    const serverCpuMsPerOp = (dispatcher.child.cpuMs() - cpuBefore) / count;
    const first = Number(span!.first);
    return {
      messagesPerSecond: count / ((Number(span!.lastFinal) - first) / 1000),
      handOversPerSecond: count / ((Number(span!.lastSent) - first) / 1000),
      p50: latency.p50,
      p99: latency.p99,
      serverCpuMsPerOp,
    };
  } finally {
    await dispatcher.stop();
  }
}

/**
 * Scenario 6: messages per second through the outbox, to the built-in simulator and to a
 * loopback SMPP SMSC (the contract suite's peer, in the bench process), on SQLite.
 */
export async function dispatcher(ctx: BenchContext): Promise<void> {
  const count = ctx.plan.dispatchMessages;
  const report = (id: string, label: string, result: DrainResult) => {
    ctx.say(`${label}: ${Math.round(result.messagesPerSecond)} messages/s final, ${Math.round(result.handOversPerSecond)}/s handed over`);
    ctx.measure({
      id,
      scenario: "6. dispatcher",
      label,
      unit: "msg/s",
      throughput: result.messagesPerSecond,
      p50Ms: result.p50,
      p99Ms: result.p99,
      serverCpuMsPerOp: result.serverCpuMsPerOp,
      notes: `${count} queued messages drained; ${Math.round(result.handOversPerSecond)} hand-overs/s; latency = hand-over started to final`,
    });
  };

  ctx.say(`queueing ${count} messages for the simulator`);
  const forSimulator = await fillOutbox(ctx, count);
  try {
    report(
      "dispatcher.simulator",
      "outbox → simulator, SQLite",
      await drain(ctx, forSimulator, count, { SIMULATOR_RECEIPT_DELAY_MS: "0" }),
    );
  } finally {
    await forSimulator.dispose();
  }

  ctx.say(`queueing ${count} messages for the SMSC`);
  const smsc = await FakeSmsc.start();
  const forSmsc = await fillOutbox(ctx, count);
  try {
    const configFile = path.join(forSmsc.dataDir, "telephony.json");
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        providers: [
          { type: "smpp", name: "bench-smsc", host: "127.0.0.1", port: smsc.port, systemId: smsc.systemId, password: smsc.password },
        ],
        routes: { default: ["bench-smsc"] },
      }),
    );
    report("dispatcher.smpp", "outbox → loopback SMPP SMSC, SQLite", await drain(ctx, forSmsc, count, { TELEPHONY_CONFIG: configFile }));
    if (smsc.submits.length < count) throw new Error(`the SMSC saw ${smsc.submits.length} submit_sm for ${count} messages`);
  } finally {
    await forSmsc.dispose();
    await smsc.close();
  }
}
