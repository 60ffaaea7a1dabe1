import type { Page } from "playwright-core";
import { SignInDocument } from "../../src/generated/graphql";
import { describeInBrowser, ensureWebBuild, launchBrowser, type TestBrowser } from "../support/browser";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../support/gateway";

/** The playground as an integrator meets it: GraphiQL, served and bundled by the gateway itself. */
describeInBrowser("/playground: GraphiQL from the gateway, with no network beyond it", () => {
  let gateway: TestGateway;
  let browser: TestBrowser;
  let page: Page;
  let origin: string;
  const offOrigin: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    gateway = await startTestGateway();
    origin = new URL(gateway.url).origin;
    browser = await launchBrowser();
    page = await browser.newPage();
    // Everything the page loads must come from the gateway: a CDN request would fail offline.
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.host !== new URL(origin).host && !["data:", "blob:"].includes(url.protocol)) offOrigin.push(request.url());
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  const open = async (query: string) => {
    await page.goto(`${origin}/playground?query=${encodeURIComponent(query)}`);
    await page.locator(".graphiql-container").waitFor();
  };
  const run = () => page.getByRole("button", { name: /^Execute query/ }).click();
  const response = () => page.locator(".graphiql-response");

  test("runs a query over HTTP with the pasted admin token, and the schema docs open", async () => {
    await open("query Users { users(first: 5) { totalCount } }");
    await page.getByLabel("Token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Use", exact: true }).click();
    await page.getByText("Sending Authorization: Bearer").waitFor();
    // The token remounts GraphiQL: Execute does nothing until its new editor holds the query.
    await page.locator(".graphiql-query-editor").getByText("totalCount").first().waitFor();
    await run();
    await response().getByText('"totalCount"').waitFor();

    await page.getByRole("button", { name: /Show Documentation Explorer/ }).click();
    await page.locator(".graphiql-doc-explorer").getByText("Query", { exact: true }).first().waitFor();
    await browser.screenshot(page, "playground-query");
  });

  test("keeps what is typed in its editors per tab, never in localStorage, where a password or state handle would outlive the browser", async () => {
    await open('mutation SignIn { signIn(input: { login: "someone@example.com", password: "typed in the editor" }) { status } }');
    await page.locator(".graphiql-query-editor").getByText("typed in the editor").first().waitFor();
    await run();
    await response().getByText("INVALID_CREDENTIALS").waitFor();
    // A string, run in the page: the tests are compiled without the DOM's types.
    const stored = await page.evaluate<{ local: string[]; session: string[] }>(
      "({ local: Object.entries(localStorage).map(([key, value]) => key + '=' + value), session: Object.entries(sessionStorage).map(([key, value]) => key + '=' + value) })",
    );
    expect(stored.local.filter((entry) => entry.includes("typed in the editor"))).toEqual([]);
    expect(stored.session.some((entry) => entry.includes("typed in the editor"))).toBe(true);
  });

  test("runs a subscription over graphql-ws and shows each event as it comes", async () => {
    await open('subscription Live { systemLog(filter: "eventType eq \\"user.session.start\\"") { eventType displayMessage outcome { result reason } } }');
    await run();
    // The subscription is open once the gateway holds it; then an event is made over HTTP.
    await page.getByRole("button", { name: /^Stop/ }).waitFor();
    await waitForSubscribers(gateway);
    await gateway.anonymous.request(SignInDocument, { input: { login: "nobody@example.com", password: "not the password" } });
    await response().getByText('"user.session.start"').waitFor();
    await response().getByText('"FAILURE"').waitFor();
    await browser.screenshot(page, "playground-subscription");
  });

  test("nothing was loaded from anywhere but the gateway, and the page reported no errors", () => {
    expect(offOrigin).toEqual([]);
    expect(browser.problems).toEqual([]);
  });
});

/** The live System Log has a listener once the subscribe message is through. */
async function waitForSubscribers(gateway: TestGateway): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (gateway.services.liveLog.subscriberCount === 0) {
    if (Date.now() > deadline) throw new Error("no systemLog subscriber after 10 s");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
