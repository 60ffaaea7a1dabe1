import { GroupsDocument } from "../../../src/generated/graphql";
import { Group } from "../../../src/groups/group.entity";
import { newId } from "../../../src/platform/ids";
import { deferred, withTimeout } from "../../support/deferred";
import { engine, startTestGateway, type TestGateway } from "../../support/gateway";

/**
 * A request's reads outside a transaction see only committed work, on either engine. On SQLite
 * the gateway's one writing connection holds a transaction open across awaits: reads made on it
 * by other requests meanwhile would see writes that may yet roll back.
 */
describe(`reads outside a transaction (${engine})`, () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
    // The admin token's first use stamps lastUsed in a transaction of its own: done here, so
    // that no request below queues a transaction behind the one the test holds open.
    await groupNames();
  });
  afterAll(() => gateway.stop());

  async function groupNames(): Promise<string[]> {
    const { groups } = await gateway.admin.ok(GroupsDocument, {});
    return groups.map((group) => group.name);
  }

  /** Inserts a group, then waits for the test to say how its transaction ends. */
  function holdOpen(name: string) {
    const written = deferred<void>();
    const ending = deferred<"commit" | "rollback">();
    const transaction = gateway.db.transaction(async ({ manager }) => {
      await manager.insert(Group, { id: newId("grp"), name, nameNormalized: name, description: null, created: gateway.clock.now() });
      written.resolve();
      if ((await ending.promise) === "rollback") throw new Error("rolled back on purpose");
    });
    return { written: withTimeout(written.promise, 5_000, "the insert"), end: (how: "commit" | "rollback") => (ending.resolve(how), transaction) };
  }

  test("a write is seen by other requests once its transaction commits, not before", async () => {
    const open = holdOpen("held-then-committed");
    await open.written;
    expect(await groupNames()).not.toContain("held-then-committed");
    expect(await gateway.db.manager.findOneBy(Group, { name: "held-then-committed" })).toBeNull();
    await open.end("commit");
    expect(await groupNames()).toContain("held-then-committed");
  });

  test("a write whose transaction rolls back is never seen", async () => {
    const open = holdOpen("held-then-rolled-back");
    await open.written;
    expect(await groupNames()).not.toContain("held-then-rolled-back");
    await expect(open.end("rollback")).rejects.toThrow("rolled back on purpose");
    expect(await groupNames()).not.toContain("held-then-rolled-back");
  });

  // PostgreSQL's pool has no reader of its own: a write there is simply a write.
  (engine === "sqlite" ? test : test.skip)("the reading connection refuses writes: a stray one would be a second writer", async () => {
    const stray = gateway.db.manager.insert(Group, { id: newId("grp"), name: "stray", nameNormalized: "stray", description: null, created: gateway.clock.now() });
    await expect(stray).rejects.toThrow(/readonly|read-only/i);
  });
});
