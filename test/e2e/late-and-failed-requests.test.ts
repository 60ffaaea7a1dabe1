import path from "node:path";
import * as esbuild from "esbuild";
import type { Page, Response } from "playwright-core";
import { ClearUserSessionsDocument, UserSessionsDocument, type LogEventFieldsFragment } from "../../src/generated/graphql";
import { describeInBrowser, ensureWebBuild, launchBrowser, type TestBrowser } from "../support/browser";
import { deferred } from "../support/deferred";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../support/gateway";
import { createUser, enroll, receivedCode } from "../support/phone";
import { PASSWORD, requirePhone, userWithPhone } from "../support/transactions";

/**
 * What the pages do when a request fails, when an answer comes after the person moved on, and
 * when the page stays open for a day. The failures are made on purpose here, so the browser's
 * own lines about them are expected; the pages' errors and CSP violations are not.
 */
describeInBrowser("/demo/login and /admin: failed requests, late answers, and time passing", () => {
  let gateway: TestGateway;
  let browser: TestBrowser;
  let demo: Page;
  let origin: string;

  beforeAll(async () => {
    ensureWebBuild();
    gateway = await startTestGateway();
    origin = new URL(gateway.url).origin;
    await requirePhone(gateway);
    browser = await launchBrowser();
    demo = await browser.newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  /** Signs in on the demo page with the code sent to `phoneNumber`, up to "You're signed in". */
  const signInWithCode = async (login: string, phoneNumber: string) => {
    await demo.goto(`${origin}/demo/login`);
    const form = demo.locator("#view-sign-in");
    await form.getByLabel("Username").fill(login);
    await form.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await form.getByRole("button", { name: "Sign in" }).click();
    await demo.getByRole("button", { name: "Send code" }).click();
    const code = demo.getByLabel("Code", { exact: true });
    await code.waitFor();
    await code.fill(await receivedCode(gateway, phoneNumber));
    await code.press("Enter");
    await demo.getByRole("heading", { name: "You’re signed in" }).waitFor();
  };

  const liveSessions = async (userId: string) => (await gateway.admin.ok(UserSessionsDocument, { id: userId })).user?.sessions.length;

  const connectDashboard = async (dashboard: Page) => {
    await dashboard.goto(`${origin}/admin`);
    await dashboard.getByLabel("Admin API token").fill(ADMIN_TOKEN);
    await dashboard.getByRole("button", { name: "Connect" }).click();
  };

  test("a Sign out whose request failed can be pressed again, and then ends the session", async () => {
    const { user } = await userWithPhone(gateway, "+447400710001");
    await signInWithCode(user.login, "+447400710001");
    await demo.getByText(`Signed in as ${user.login}.`).waitFor();
    expect(await liveSessions(user.id)).toBe(1);
    let failedOnce = false;
    await demo.route("**/graphql", (route) => {
      if (failedOnce || !(route.request().postData() ?? "").includes("mutation SignOut")) return route.continue();
      failedOnce = true;
      return route.abort();
    });
    try {
      await demo.getByRole("button", { name: "Sign out" }).click();
      await demo.locator("#error").getByText("The sign-in service could not be reached.").waitFor();
      expect(await demo.getByRole("heading", { name: "You’re signed in" }).isVisible()).toBe(true);
      await demo.getByRole("button", { name: "Sign out" }).click();
      await demo.getByRole("heading", { name: "Sign in" }).waitFor();
    } finally {
      await demo.unrouteAll({ behavior: "wait" });
    }
    expect(await liveSessions(user.id)).toBe(0);
    // The token leaves the page with the session, not only from view.
    expect(await demo.locator("#session-token").textContent()).toBe("");
  });

  test("Sign out of a session an admin already ended goes to the sign-in view at once", async () => {
    const { user } = await userWithPhone(gateway, "+447400720001");
    await signInWithCode(user.login, "+447400720001");
    await demo.getByText(`Signed in as ${user.login}.`).waitFor();
    await gateway.admin.ok(ClearUserSessionsDocument, { userId: user.id });
    const signedOut = demo.waitForResponse(answerTo("mutation SignOut"));
    await demo.getByRole("button", { name: "Sign out" }).click();
    expect((await signedOut).status()).toBe(401);
    await demo.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await demo.locator("#error").textContent()).toBe("");
  });

  test("who is signed in, answered after Sign out, is not shown on the sign-in view", async () => {
    const { user } = await userWithPhone(gateway, "+447400730001");
    const asked = deferred<void>();
    const release = deferred<void>();
    await demo.route("**/graphql", async (route) => {
      if ((route.request().postData() ?? "").includes("query DemoSignedInUser")) {
        asked.resolve();
        await release.promise;
      }
      await route.continue();
    });
    try {
      await signInWithCode(user.login, "+447400730001");
      await asked.promise;
      await demo.getByRole("button", { name: "Sign out" }).click();
      await demo.getByRole("heading", { name: "Sign in" }).waitFor();
      const answered = demo.waitForResponse(answerTo("query DemoSignedInUser"));
      release.resolve();
      // Asked about a session that has ended since: the answer is a refusal the page must not show.
      expect((await answered).status()).toBe(401);
      await settle(demo);
      expect(await demo.locator("#error").textContent()).toBe("");
      expect(await demo.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
    } finally {
      release.resolve();
      await demo.unrouteAll({ behavior: "wait" });
    }
  });

  test("a slower usage report asked for first does not draw over the one asked for after it", async () => {
    const first = deferred<void>();
    const release = deferred<void>();
    const dashboard = await browser.newPage();
    let held = false;
    await dashboard.route("**/graphql", async (route) => {
      if (!held && (route.request().postData() ?? "").includes("query SmsUsageReport")) {
        held = true;
        first.resolve();
        await release.promise;
      }
      await route.continue();
    });
    try {
      // The report of the default range, this month included, is asked for on Connect, and held.
      await connectDashboard(dashboard);
      await first.promise;
      await dashboard.getByLabel("From", { exact: true }).fill("2020-01");
      await dashboard.getByLabel("To", { exact: true }).fill("2020-02");
      await dashboard.getByRole("button", { name: "Show", exact: true }).click();
      await dashboard.locator("#usage-charts figure").first().waitFor();
      const answered = dashboard.waitForResponse(answerTo("query SmsUsageReport"));
      release.resolve();
      await answered;
      await settle(dashboard);
      const months = await dashboard.locator("#usage-charts g[data-month]").evaluateAll((groups) => groups.map((group) => group.getAttribute("data-month")));
      expect(months.filter((month) => month !== "2020-01" && month !== "2020-02")).toEqual([]);
      expect(await dashboard.locator("#usage-charts").getAttribute("aria-busy")).toBe("false");
    } finally {
      release.resolve();
      await dashboard.close();
    }
  });

  // Last of the tests on pages: the clock is installed for the whole browser context.
  test("the funnel counts the codes of the last 24 hours: a day later, it has let go of them", async () => {
    await browser.context.clock.install();
    const dashboard = await browser.newPage();
    try {
      await connectDashboard(dashboard);
      await dashboard.getByText("Connected: streaming live.").waitFor();
      await enroll(gateway, (await createUser(gateway)).id, "+447400740001", "SMS");
      const row = dashboard.locator('#funnel-rows tr[data-provider="simulator"][data-country="GB"]');
      await row.waitFor();
      expect(Number(await row.locator('td[data-stage="queued"]').textContent())).toBeGreaterThan(0);
      await dashboard.clock.fastForward("24:05:00");
      await dashboard.locator("#funnel-empty").waitFor();
      expect(await dashboard.locator("#funnel-rows tr").count()).toBe(0);
      expect(await dashboard.locator("#funnel-summary svg").getAttribute("aria-label")).toBe("All messages: 0 queued, 0 sent, 0 delivered, 0 failed");
    } finally {
      await dashboard.close();
    }
  });

  test("the System Log table forgets the events of the rows it let go", async () => {
    const page = await browser.newPage();
    try {
      await page.setContent('<table><tbody id="rows"></tbody></table>');
      // The table alone, in a page of its own: what it remembers is not on screen.
      const bundle = await esbuild.build({
        stdin: {
          contents: 'import { LogTable } from "./log-table"; export const table = new LogTable(document.getElementById("rows"));',
          resolveDir: path.resolve(__dirname, "..", "..", "web", "admin"),
          loader: "ts",
        },
        bundle: true,
        write: false,
        format: "iife",
        globalName: "logTable",
        target: "es2022",
        logLevel: "silent",
      });
      await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
      const remembered = await page.evaluate((events) => {
        const { table } = (globalThis as unknown as { logTable: { table: { prepend(event: LogEventFieldsFragment): void; size: number } } }).logTable;
        for (const event of events) table.prepend(event);
        return table.size;
      }, Array.from({ length: 450 }, (_, index) => logEvent(index)));
      expect(await page.locator("#rows tr").count()).toBe(300);
      expect(remembered).toBe(300);
    } finally {
      await page.close();
    }
  });

  test("the pages reported no errors and no CSP violations beyond the failed requests made on purpose", () => {
    // The aborted SignOut, and the refusals of a session that had ended.
    const madeOnPurpose = /: Failed to load resource: (net::ERR_FAILED|the server responded with a status of 401 \(Unauthorized\))$/;
    expect(browser.problems.filter((problem) => !madeOnPurpose.test(problem))).toEqual([]);
  });
});

const answerTo = (operation: string) => (response: Response) => (response.request().postData() ?? "").includes(operation);

/** Lets a page finish what an answer it just received started (parse it, draw it). */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
}

function logEvent(index: number): LogEventFieldsFragment {
  return {
    uuid: `event-${index}`,
    published: new Date(Date.UTC(2025, 0, 1, 0, 0, index)).toISOString(),
    eventType: "user.session.start",
    displayMessage: "User login to Ringfence",
    severity: "INFO",
    actor: { id: "user", type: "User", alternateId: "someone@example.com", displayName: null },
    target: [],
    outcome: { result: "SUCCESS", reason: null },
    client: null,
    debugContext: null,
    transactionId: null,
  };
}
