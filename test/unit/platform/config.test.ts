import { ConfigError, loadConfig, redactUrl } from "../../../src/platform/config";
import { defaultSecuritySettings } from "../../../src/security/security-settings";

describe("configuration from the environment", () => {
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  test("a number given as nothing but space is unset, not 0: the gateway does not listen on a random port", () => {
    expect(loadConfig({ PORT: "  " }).port).toBe(loadConfig({}).port);
    expect(loadConfig({ PORT: " 4100 " }).port).toBe(4100);
  });

  test.each(["0x1F90", "1e4", "4_000", "+4000", "4000.0"])("PORT=%s is refused: a port is written in digits", (port) => {
    expect(problemsOf({ PORT: port })).toEqual([expect.stringMatching(/^PORT must be an integer/)]);
  });

  test("a send limit given as space is its default; one in another notation is refused", () => {
    expect(defaultSecuritySettings({ LIMIT_SENDS_PER_NUMBER_PER10M: " " }).sendsPerNumberPer10m).toBe(
      defaultSecuritySettings({}).sendsPerNumberPer10m,
    );
    expect(defaultSecuritySettings({ LIMIT_DAILY_SPEND_CAP_USD: "12.5" }).dailySpendCapUsd).toBe(12.5);
    expect(() => defaultSecuritySettings({ LIMIT_SENDS_PER_NUMBER_PER10M: "0x5" })).toThrow(/LIMIT_SENDS_PER_NUMBER_PER10M/);
  });

  test("a count limit must be whole: securitySettings serves it as an Int, which 1.5 cannot be; only the spend caps are amounts", () => {
    expect(() => defaultSecuritySettings({ LIMIT_SENDS_PER_NUMBER_PER30S: "1.5" })).toThrow(/LIMIT_SENDS_PER_NUMBER_PER30S must be a whole number/);
    expect(() => defaultSecuritySettings({ LIMIT_PUMPING_MINIMUM_VERIFY_PERCENT: "12.5" })).toThrow(/LIMIT_PUMPING_MINIMUM_VERIFY_PERCENT/);
    expect(defaultSecuritySettings({ LIMIT_MONTHLY_SPEND_CAP_USD: "99.99" }).monthlySpendCapUsd).toBe(99.99);
  });

  test.each([
    ["postgres://ringfence:s3cret@db:5432/ringfence", "postgres://ringfence:***@db:5432/ringfence"],
    ["redis://:s3cret@cache:6379", "redis://:***@cache:6379"],
    ["valkey://:s3cret@cache:6379", "valkey://:***@cache:6379"],
    ["redis://cache:6379", "redis://cache:6379"],
  ])("%s is printed as %s", (url, printed) => {
    expect(redactUrl(url)).toBe(printed);
  });
});
