/**
 * Scale-out mode with a Redis that stops answering (a partition, a stuck server) rather than one
 * that refuses connections: each limiter command would wait out the command timeout, and a send
 * counts four windows one after another, so every send waited eight seconds for as long as
 * Redis hung. The first timeout now marks the connection down, and the limiters count in memory
 * at once until Redis answers again.
 */
import pino from "pino";
import { ManualClock } from "../../../src/platform/clock";
import { RedisConnections } from "../../../src/platform/redis";
import { RedisPeer } from "../../support/redis-peer";

describe("a Redis that stops answering", () => {
  let peer: RedisPeer;
  let redis: RedisConnections;
  beforeAll(async () => {
    peer = await RedisPeer.start();
    redis = new RedisConnections(peer.url, "rf-test", pino({ level: "silent" }), new ManualClock(), "test");
    await new Promise<void>((resolve) => (redis.healthy() ? resolve() : redis.commands.once("ready", () => resolve())));
  });
  afterAll(async () => {
    await redis.close();
    await peer.close();
  });

  test("costs one command timeout, not one per limiter call; Redis counts again once it answers", async () => {
    const limiter = redis.limiterFactory()({ keyPrefix: "sends", points: 10, duration: 60 });
    const scriptsRun = () => peer.count("EVAL") + peer.count("EVALSHA");
    await limiter.consume("+447400123456");
    expect(scriptsRun()).toBe(1);

    peer.stall();
    for (let i = 0; i < 3; i += 1) await limiter.consume("+447400123456");
    // The first waited out its timeout; the others were counted in memory without asking Redis.
    expect(scriptsRun()).toBe(2);

    peer.resume();
    await new Promise<void>((resolve) => (redis.commands.status === "ready" ? resolve() : redis.commands.once("ready", () => resolve())));
    const beforeRecovery = scriptsRun();
    await limiter.consume("+447400123456");
    expect(scriptsRun()).toBeGreaterThan(beforeRecovery);
  });
});
