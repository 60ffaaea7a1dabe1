import type { Locator, Page } from "playwright-core";
import { DeletePhoneFactorDocument, ExpirePasswordDocument, SetSimulatorRulesDocument, SignInDocument } from "../../src/generated/graphql";
import { describeInBrowser, ensureWebBuild, launchBrowser, type TestBrowser } from "../support/browser";
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from "../support/gateway";
import { deferred } from "../support/deferred";
import { createUser, enroll, receivedCode, wrongCodeFor } from "../support/phone";
import { PASSWORD, requirePhone, setPasswordPolicy, userWithPhone } from "../support/transactions";

/** Receipts come a little after the hand-over, so the page has a "sent" to show before "Delivered". */
const DELIVERED_NUMBER = "+447400610001";
const INACTIVE_NUMBER = "+447400620001";

/**
 * The example login page signs people in with a code by text, follows the text's delivery
 * live, falls back to a call when the text does not arrive; the admin dashboard, open
 * beside it, shows those sign-ins as they happen.
 */
describeInBrowser("/demo/login and /admin: phone sign-in watched live", () => {
  let gateway: TestGateway;
  let browser: TestBrowser;
  let demo: Page;
  let dashboard: Page;
  let origin: string;

  beforeAll(async () => {
    ensureWebBuild();
    gateway = await startTestGateway();
    origin = new URL(gateway.url).origin;
    await requirePhone(gateway, ["SMS", "VOICE"]);
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"] });
    browser = await launchBrowser();
    dashboard = await browser.newPage();
    demo = await browser.newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  const deliveryLine = () => demo.locator("#delivery-status");
  /** Waits until the dashboard's funnel counts at least `count` messages of the simulator to `country` at `stage`. */
  const funnelReaches = async (country: string, stage: string, count: number) => {
    const cell = dashboard.locator(`#funnel-rows tr[data-provider="simulator"][data-country="${country}"] td[data-stage="${stage}"]`);
    // Polled from here: waitForFunction polls by evaluating a string in the page, which the dashboard's CSP forbids.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const shown = (await cell.count()) ? Number(await cell.textContent()) : 0;
      if (shown >= count) return;
      if (Date.now() > deadline) throw new Error(`the funnel shows ${shown} ${stage} to ${country}, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  test("the dashboard connects with a pasted admin token", async () => {
    await dashboard.goto(`${origin}/admin`);
    await dashboard.getByLabel("Admin API token").fill(ADMIN_TOKEN);
    await dashboard.getByRole("button", { name: "Connect" }).click();
    await dashboard.getByText("Connected: streaming live.").waitFor();
    await dashboard.locator("#usage-charts svg").first().waitFor();
  });

  test("a bad filter is refused with the position where it stopped parsing", async () => {
    // The tab in front: Chromium throttles the rendering of background tabs.
    await dashboard.bringToFront();
    await dashboard.getByLabel("Filter").fill('eventType eq "user.session.start" and');
    await dashboard.getByRole("button", { name: "Apply filter" }).click();
    await dashboard.locator("#filter-error").getByText(/does not parse at position \d+/).waitFor();
    expect(await dashboard.locator("#filter-error-where").textContent()).toContain("^");
    await browser.screenshot(dashboard, "admin-bad-filter");
    await dashboard.getByLabel("Filter").fill("");
    await dashboard.getByRole("button", { name: "Apply filter" }).click();
    await dashboard.locator("#filter-error").waitFor({ state: "hidden" });
  });

  test("signs in with a code by text message, and sees it Delivered", async () => {
    const { user } = await userWithPhone(gateway, DELIVERED_NUMBER);
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: DELIVERED_NUMBER, outcome: "DELIVERED", delayMs: 300 }] });

    await demo.bringToFront();
    await demo.goto(`${origin}/demo/login`);
    await browser.screenshot(demo, "demo-sign-in");
    await signIn(demo, user.login);
    await demo.getByRole("heading", { name: "Verify it’s you" }).waitFor();
    await browser.screenshot(demo, "demo-choose-phone");
    await demo.getByRole("button", { name: "Send code" }).click();

    const code = demo.getByLabel("Code", { exact: true });
    await code.waitFor();
    expect(await isFocused(code)).toBe(true);
    expect(await code.getAttribute("autocomplete")).toBe("one-time-code");
    expect(await code.getAttribute("inputmode")).toBe("numeric");
    expect(await deliveryLine().getAttribute("aria-live")).toBe("polite");
    await deliveryLine().getByText("Text message: Delivered.").waitFor();
    await browser.screenshot(demo, "demo-sms-delivered");

    await code.fill(await receivedCode(gateway, DELIVERED_NUMBER));
    await code.press("Enter");
    await demo.getByRole("heading", { name: "You’re signed in" }).waitFor();
    await demo.getByText(`Signed in as ${user.login}.`).waitFor();
    await browser.screenshot(demo, "demo-signed-in");

    // The dashboard, open in another tab all along, saw it happen: the events, and the funnel moved.
    await dashboard.locator('#log-rows tr[data-event-type="system.sms.send_factor_verify_message"]').first().waitFor();
    await dashboard.locator('#log-rows tr[data-event-type="user.authentication.auth_via_mfa"]').first().waitFor();
    await dashboard.locator('#log-rows tr[data-event-type="user.session.start"]').first().waitFor();
    await funnelReaches("GB", "delivered", 2);
  });

  test("a text that is not delivered offers a call instead, and the call completes the sign-in", async () => {
    const { user } = await userWithPhone(gateway, INACTIVE_NUMBER);
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: INACTIVE_NUMBER, outcome: "UNDELIVERED", errorCode: "NUMBER_INACTIVE" }] });

    await demo.getByRole("button", { name: "Sign out" }).click();
    await demo.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn(demo, user.login);
    await demo.getByRole("button", { name: "Send code" }).click();
    await deliveryLine().getByText("Text message: not delivered (the number is not in service).").waitFor();
    const callMe = demo.getByRole("button", { name: "Call me instead" });
    await callMe.waitFor();
    await browser.screenshot(demo, "demo-not-delivered");

    // The phone takes calls again, and the resend cooldown has passed.
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [] });
    gateway.clock.advance(31_000);
    await callMe.click();
    await deliveryLine().getByText("Voice call: Delivered.").waitFor();
    await demo.getByText("We sent a code by voice call").waitFor();
    await callMe.waitFor({ state: "hidden" });

    const code = demo.getByLabel("Code", { exact: true });
    await code.fill(await receivedCode(gateway, INACTIVE_NUMBER));
    await demo.getByRole("button", { name: "Verify" }).click();
    await demo.getByText(`Signed in as ${user.login}.`).waitFor();
    await browser.screenshot(demo, "demo-voice-signed-in");

    await dashboard.bringToFront();
    await dashboard.locator('#log-rows tr[data-event-type="system.voice.send_mfa_challenge_call"]').first().waitFor();
    await funnelReaches("GB", "failed", 1);
    await dashboard.locator("#usage-charts svg").first().waitFor();
    await browser.screenshot(dashboard, "admin-dashboard");
  });

  test("the funnel counts as sent a text its provider took and a carrier then refused, whatever the refusal's code", async () => {
    await dashboard.bringToFront();
    const count = async (stage: string) =>
      Number(await dashboard.locator(`#funnel-rows tr[data-provider="simulator"][data-country="GB"] td[data-stage="${stage}"]`).textContent());
    const failedBefore = await count("failed");
    // BLOCKED_SUSPICIOUS is also what a provider answers when it refuses a message outright.
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: "+447400640001", outcome: "UNDELIVERED", errorCode: "BLOCKED_SUSPICIOUS" }] });
    try {
      await enroll(gateway, (await createUser(gateway)).id, "+447400640001", "SMS");
      await funnelReaches("GB", "failed", failedBefore + 1);
    } finally {
      await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [] });
    }
    // Every text to GB so far was taken by the simulator: each one ended is one sent.
    expect(await count("sent")).toBe((await count("delivered")) + (await count("failed")));
  });

  test("recovery by text: the code, then a new password, then signed in", async () => {
    await demo.bringToFront();
    await demo.getByRole("button", { name: "Sign out" }).click();
    const { user } = await userWithPhone(gateway, "+447400630001");
    await demo.getByRole("button", { name: "Forgot your password?" }).click();
    await demo.getByRole("heading", { name: "Reset your password" }).waitFor();
    await demo.locator("#view-recover").getByLabel("Username").fill(user.login);
    await demo.getByRole("button", { name: "Send code" }).click();
    await demo.getByText(`If ${user.login} has a phone on file`).waitFor();
    const code = demo.getByLabel("Code", { exact: true });
    await code.fill(await receivedCode(gateway, "+447400630001"));
    await code.press("Enter");
    await demo.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await demo.getByLabel("New password", { exact: true }).fill("password123");
    await demo.getByLabel("New password, again").fill("password123");
    await demo.getByRole("button", { name: "Save and sign in" }).click();
    await demo.getByText("That password is one of the most common, and easy to guess. Choose another.").waitFor();
    await demo.getByLabel("New password", { exact: true }).fill("another long enough password");
    await demo.getByLabel("New password, again").fill("another long enough password");
    await demo.getByRole("button", { name: "Save and sign in" }).click();
    await demo.getByText(`Your password was changed. Signed in as ${user.login}.`).waitFor();
  });

  test("an expired password: the code first, then a new password, then signed in", async () => {
    await demo.getByRole("button", { name: "Sign out" }).click();
    const { user } = await userWithPhone(gateway, "+447400650001");
    await gateway.admin.ok(ExpirePasswordDocument, { userId: user.id });
    await signIn(demo, user.login);
    await demo.getByRole("heading", { name: "Verify it’s you" }).waitFor();
    await demo.getByRole("button", { name: "Send code" }).click();
    const code = demo.getByLabel("Code", { exact: true });
    // The code view opens on the answer, when the message is queued: only then is the newest code this one.
    await code.waitFor();
    await code.fill(await receivedCode(gateway, "+447400650001"));
    await code.press("Enter");
    await demo.getByRole("heading", { name: "Your password has expired. Choose a new one" }).waitFor();
    await demo.getByLabel("New password", { exact: true }).fill(PASSWORD);
    await demo.getByLabel("New password, again").fill(PASSWORD);
    await demo.getByRole("button", { name: "Save and sign in" }).click();
    await demo.getByText("That is your current password. Choose a new one.").waitFor();
    await demo.getByLabel("New password", { exact: true }).fill("a fresh long enough password");
    await demo.getByLabel("New password, again").fill("a fresh long enough password");
    await demo.getByRole("button", { name: "Save and sign in" }).click();
    await demo.getByText(`Your password was changed. Signed in as ${user.login}.`).waitFor();
  });

  test("a sign-in within the password policy's warning says when the password expires", async () => {
    await demo.getByRole("button", { name: "Sign out" }).click();
    const { user } = await userWithPhone(gateway, "+447400660001");
    await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"], passwordMaxAgeDays: 30, passwordExpireWarnDays: 30 });
    try {
      const expires = new Date(gateway.clock.now().getTime() + 30 * 86_400_000).toLocaleDateString("en", { dateStyle: "long" });
      await signIn(demo, user.login);
      await demo.getByRole("button", { name: "Send code" }).click();
      const code = demo.getByLabel("Code", { exact: true });
      await code.waitFor();
      await code.fill(await receivedCode(gateway, "+447400660001"));
      await code.press("Enter");
      await demo.getByText(`Signed in as ${user.login}. Your password expires on ${expires}; change it before then.`).waitFor();
    } finally {
      await setPasswordPolicy(gateway, { recoveryMethods: ["SMS", "VOICE"] });
    }
  });

  test("a user with no phone yet enrolls one during sign-in, with the keyboard alone", async () => {
    await demo.getByRole("button", { name: "Sign out" }).click();
    const user = await createUser(gateway, { password: PASSWORD });
    await signIn(demo, user.login);
    await demo.getByRole("heading", { name: "Add your phone" }).waitFor();
    // Focus is on the number: type it, then Enter submits the form.
    await demo.keyboard.type("+447400640001");
    await demo.keyboard.press("Enter");
    await deliveryLine().getByText("Text message: Delivered.").waitFor();
    await demo.keyboard.type(await receivedCode(gateway, "+447400640001"));
    await demo.keyboard.press("Enter");
    await demo.getByText(`Signed in as ${user.login}.`).waitFor();
    await browser.screenshot(demo, "demo-enrolled");
  });

  test("past the last resend the page keeps the code form: the code in hand still signs in", async () => {
    await demo.getByRole("button", { name: "Sign out" }).click();
    const { user } = await userWithPhone(gateway, "+447400650001");
    await signIn(demo, user.login);
    await demo.getByRole("button", { name: "Send code" }).click();
    // The code is out (and its cooldown counted from now) before the clock moves on.
    await demo.getByText(/We sent a code/).waitFor();
    const sendAgain = demo.getByRole("button", { name: "Send a new code" });
    for (let resend = 1; resend <= 3; resend += 1) {
      gateway.clock.advance(31_000);
      await sendAgain.click();
      await demo.locator("#resend:not([disabled])").waitFor();
      expect(await demo.locator("#error").textContent()).toBe("");
    }
    gateway.clock.advance(31_000);
    await sendAgain.click();
    await demo.locator("#error").getByText(/No more codes/).waitFor();
    await sendAgain.waitFor({ state: "hidden" });
    await demo.getByLabel("Code", { exact: true }).fill(await receivedCode(gateway, "+447400650001"));
    await demo.getByRole("button", { name: "Verify" }).click();
    await demo.getByText(`Signed in as ${user.login}.`).waitFor();
  });

  /** Signs `login` in on the demo page and asks for a code by text: the code field, once shown. */
  const atTheCodeStep = async (login: string) => {
    await demo.goto(`${origin}/demo/login`);
    await signIn(demo, login);
    await demo.getByRole("button", { name: "Send code" }).click();
    const code = demo.getByLabel("Code", { exact: true });
    await code.waitFor();
    return code;
  };

  test("while a code is being checked the whole flow waits: a new code cannot replace it before it is compared", async () => {
    const { user } = await userWithPhone(gateway, "+447400670001");
    const code = await atTheCodeStep(user.login);
    await code.fill(await receivedCode(gateway, "+447400670001"));
    // Past the cooldown: a resend sent now would go out, and void the code typed above.
    gateway.clock.advance(31_000);
    const verifying = deferred<void>();
    const release = deferred<void>();
    let resends = 0;
    await demo.route("**/graphql", async (route) => {
      const body = route.request().postData() ?? "";
      if (body.includes("mutation ResendFactorChallenge")) resends += 1;
      if (body.includes("mutation VerifyFactor")) {
        verifying.resolve();
        await release.promise;
      }
      await route.continue();
    });
    try {
      await demo.getByRole("button", { name: "Verify" }).click();
      await verifying.promise;
      for (const name of ["Send a new code", "Get a voice call instead", "Start over"]) {
        expect(await demo.getByRole("button", { name }).isDisabled()).toBe(true);
      }
      // Forced: Playwright would wait for the button to be enabled, where a person's click just lands.
      await demo.getByRole("button", { name: "Send a new code" }).click({ force: true });
      const answered = demo.waitForResponse((response) => (response.request().postData() ?? "").includes("mutation VerifyFactor"));
      release.resolve();
      await answered;
      expect(resends).toBe(0);
      await demo.getByText(`Signed in as ${user.login}.`).waitFor();
    } finally {
      release.resolve();
      await demo.unrouteAll({ behavior: "wait" });
    }
  });

  test("the last wrong code ends the sign-in: its challenge has failed, and no new code is offered for it", async () => {
    const { user } = await userWithPhone(gateway, "+447400680001");
    const code = await atTheCodeStep(user.login);
    const wrong = wrongCodeFor(await receivedCode(gateway, "+447400680001"));
    // The gateway's default is five tries: four answers that say how many are left, then the last.
    for (const left of ["4 tries", "3 tries", "2 tries", "1 try"]) {
      await code.fill(wrong);
      await code.press("Enter");
      await demo.locator("#error").getByText(`That code is not right. ${left} left.`).waitFor();
    }
    await code.fill(wrong);
    await code.press("Enter");
    await demo.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await demo.locator("#error").textContent()).toBe("Too many wrong codes. Start over to get a new one.");
  });

  test("a code whose phone was removed meanwhile ends the sign-in, rather than offer a new code that cannot come", async () => {
    const { user, factor } = await userWithPhone(gateway, "+447400700001");
    const code = await atTheCodeStep(user.login);
    const right = await receivedCode(gateway, "+447400700001");
    await gateway.admin.ok(DeletePhoneFactorDocument, { id: factor.id });
    await code.fill(right);
    await code.press("Enter");
    await demo.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await demo.locator("#error").textContent()).toBe("That code can no longer be used. Start over to get a new one.");
  });

  test("once no more codes can be sent, a text that fails afterwards does not offer a call", async () => {
    const { user } = await userWithPhone(gateway, "+447400690001");
    // Slow receipts (in real time): the last resent text fails after the page has been told no
    // more codes can be sent, with seconds to spare for a slow machine's round trip.
    await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [{ prefix: "+447400690001", outcome: "UNDELIVERED", errorCode: "NUMBER_INACTIVE", delayMs: 6000 }] });
    try {
      await demo.goto(`${origin}/demo/login`);
      await signIn(demo, user.login);
      await demo.getByRole("button", { name: "Send code" }).click();
      await demo.getByText(/We sent a code/).waitFor();
      for (let resend = 1; resend <= 3; resend += 1) {
        gateway.clock.advance(31_000);
        await demo.getByRole("button", { name: "Send a new code" }).click();
        await demo.locator("#resend:not([disabled])").waitFor();
      }
      gateway.clock.advance(31_000);
      await demo.getByRole("button", { name: "Send a new code" }).click();
      await demo.locator("#error").getByText(/No more codes/).waitFor();
      expect(await deliveryLine().textContent()).not.toContain("not delivered");
      await deliveryLine().getByText("Text message: not delivered (the number is not in service).").waitFor();
      expect(await demo.getByRole("button", { name: "Call me instead" }).isVisible()).toBe(false);
    } finally {
      await gateway.admin.ok(SetSimulatorRulesDocument, { rules: [] });
    }
  });

  test("the dashboard opens its feeds again when the gateway ends them, and shows what came after", async () => {
    await dashboard.bringToFront();
    await dashboard.getByText("Connected: streaming live.").waitFor();
    await waitUntil(() => gateway.services.liveLog.subscriberCount === 2);
    // The gateway cannot read the next event: it ends every feed with INTERNAL, as it does then.
    const failing = jest.spyOn(gateway.services.logQueries, "loadEvents").mockRejectedValueOnce(new Error("connection terminated"));
    try {
      await gateway.anonymous.request(SignInDocument, { input: { login: "lost-while-failing@example.com", password: "not the password" } });
      await waitUntil(() => failing.mock.calls.length > 0);
    } finally {
      failing.mockRestore();
    }
    await waitUntil(() => gateway.services.liveLog.subscriberCount === 2);
    await gateway.anonymous.request(SignInDocument, { input: { login: "after-the-gap@example.com", password: "not the password" } });
    await dashboard.locator("#log-rows").getByText("after-the-gap@example.com").first().waitFor();
  });

  test("the dashboard: Connect pressed twice at once, then Forget, leaves no feed open", async () => {
    await dashboard.bringToFront();
    await dashboard.evaluate("{ const connect = document.querySelector('#token-form button[type=submit]'); connect.click(); connect.click(); }");
    await dashboard.getByText("Connected: streaming live.").waitFor();
    await dashboard.getByRole("button", { name: "Forget" }).click();
    await waitUntil(() => gateway.services.liveLog.subscriberCount === 0);
  });

  test("the pages reported no errors and no CSP violations", () => {
    expect(browser.problems).toEqual([]);
  });
});

async function signIn(page: Page, login: string): Promise<void> {
  const form = page.locator("#view-sign-in");
  await form.getByLabel("Username").fill(login);
  await form.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await form.getByRole("button", { name: "Sign in" }).click();
}

function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((element) => element.ownerDocument.activeElement === element);
}

/** Polls `condition` for up to 10 s. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > 10_000) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
