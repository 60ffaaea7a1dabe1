import { RateLimits } from "../../../src/security/rate-limits";
import { defaultSecuritySettings, type SecuritySettings } from "../../../src/security/security-settings";

describe("send windows", () => {
  const settings: SecuritySettings = {
    ...defaultSecuritySettings({}),
    sendsPerNumberPer30s: 2,
    sendsPerNumberPer10m: 1_000,
    sendsPerUserPerHour: 1_000,
    sendsPerCountryPerMinute: 1_000,
  };
  const send = { e164: "+447400950001", userId: "usr_one", country: "GB" };
  const allowed = async (limits: RateLimits) =>
    limits.consumeSend(settings, send).then(
      () => true,
      () => false,
    );

  beforeEach(() => jest.useFakeTimers({ now: new Date("2031-01-01T00:00:00Z") }));
  afterEach(() => jest.useRealTimers());

  test("a send given back while its window is open is one more send in that window", async () => {
    const limits = new RateLimits();
    const counted = await limits.consumeSend(settings, send);
    expect(await allowed(limits)).toBe(true);
    await limits.refundSend(settings, counted);
    expect(await allowed(limits)).toBe(true);
    expect(await allowed(limits)).toBe(false);
  });

  test("a send given back after its window ended does not lend the next window a send", async () => {
    const limits = new RateLimits();
    const counted = await limits.consumeSend(settings, send);
    jest.advanceTimersByTime(31_000);
    await limits.refundSend(settings, counted);
    expect(await allowed(limits)).toBe(true);
    expect(await allowed(limits)).toBe(true);
    expect(await allowed(limits)).toBe(false);
  });

  test("a window lowered while a number is in it keeps the sends it counted: the number has none left", async () => {
    const limits = new RateLimits();
    expect(await allowed(limits)).toBe(true);
    expect(await allowed(limits)).toBe(true);
    const lowered = { ...settings, sendsPerNumberPer30s: 1 };
    expect(
      await limits.consumeSend(lowered, send).then(
        () => "sent",
        (error: { code?: string }) => error.code,
      ),
    ).toBe("RATE_LIMITED");
    const raised = { ...settings, sendsPerNumberPer30s: 3 };
    expect(
      await limits.consumeSend(raised, send).then(
        () => "sent",
        (error: { code?: string }) => error.code,
      ),
    ).toBe("sent");
    expect(
      await limits.consumeSend(raised, send).then(
        () => "sent",
        (error: { code?: string }) => error.code,
      ),
    ).toBe("RATE_LIMITED");
  });

  test("a recovery's code leaves the last send of a number's and a user's windows to the user's own sign-in", async () => {
    const limits = new RateLimits();
    const recovery = { ...send, recovery: true };
    const outcome = (target: typeof recovery) =>
      limits.consumeSend(settings, target).then(
        () => "sent",
        (error: { code?: string }) => error.code,
      );
    expect(await outcome(recovery)).toBe("sent");
    expect(await outcome(recovery)).toBe("RATE_LIMITED");
    // The refused one was given back: the user's own code still goes.
    expect(await outcome({ ...send, recovery: false })).toBe("sent");
    expect(await outcome({ ...send, recovery: false })).toBe("RATE_LIMITED");
  });

  test("a window of one send is a recovery's too: holding it back would leave recovery nothing", async () => {
    const limits = new RateLimits();
    const one = { ...settings, sendsPerNumberPer30s: 1 };
    expect(await limits.consumeSend(one, { ...send, recovery: true }).then(() => "sent")).toBe("sent");
  });
});
