import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { DataSource } from "typeorm";
import { ManualClock } from "../../../src/platform/clock";
import { ConfigError, loadConfig } from "../../../src/platform/config";
import { Database } from "../../../src/platform/database";
import { PublicUrl } from "../../../src/platform/public-url";
import type { PhoneMethod } from "../../../src/phone/phone.enums";
import type { SendResult, TelephonyProvider } from "../../../src/telephony/provider";
import { createTelephony } from "../../../src/telephony/provider-config";
import { CountryRouter } from "../../../src/telephony/routing";

/**
 * TELEPHONY_CONFIG: every problem of the file is reported at start, at once, each naming its
 * field, and never with a secret's value; routes pick providers per country and channel.
 */

const SECRET = "do-not-print-this-secret-0123456789";
const files: string[] = [];

function configFile(contents: unknown): string {
  const file = path.join(os.tmpdir(), `ringfence-telephony-${randomBytes(6).toString("hex")}.json`);
  fs.writeFileSync(file, typeof contents === "string" ? contents : JSON.stringify(contents));
  files.push(file);
  return file;
}

afterAll(() => {
  for (const file of files) fs.rmSync(file, { force: true });
});

function build(file: string, env: Record<string, string> = {}, overrides: Record<string, string> = {}) {
  const config = loadConfig({ NODE_ENV: "test", TELEPHONY_CONFIG: file, ...overrides });
  // Never initialized: only a simulator would touch it, and only when it sends.
  const db = new Database(new DataSource({ type: "better-sqlite3", database: ":memory:" }));
  return createTelephony(config, { db, clock: new ManualClock(), logger: pino({ level: "silent" }), publicUrl: new PublicUrl(null), env });
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const twilio = {
  type: "twilio",
  name: "twilio",
  accountSid: `AC${"a".repeat(32)}`,
  authToken: SECRET,
  fromNumbers: { SMS: { default: "+14155550100" }, VOICE: { default: "+14155550100" } },
};
const smpp = { type: "smpp", name: "eu-smsc", host: "smsc.example.net", systemId: "ringfence", password: "pw123456" };
const hook = { type: "hook", name: "acme", url: "https://hooks.acme.example/sms", secret: SECRET, channels: ["SMS"] };

describe("TELEPHONY_CONFIG", () => {
  test("a valid file builds its providers, its routes, and the webhook targets", () => {
    const setup = build(
      configFile({
        providers: [twilio, smpp, hook, { type: "simulator" }],
        routes: { default: ["twilio", "acme", "simulator"], byCountry: { FR: ["eu-smsc", "twilio"] } },
        senderIds: { default: "Ringfence", byCountry: { US: "12345" } },
      }),
    );
    expect(setup.providers.map((provider) => provider.name)).toEqual(["twilio", "eu-smsc", "acme", "simulator"]);
    expect(setup.simulator?.name).toBe("simulator");
    expect([...setup.twilio.keys()]).toEqual(["twilio"]);
    expect([...setup.hooks.keys()]).toEqual(["acme"]);
    const names = (providers: TelephonyProvider[]) => providers.map((provider) => provider.name);
    expect(names(setup.router.route({ channel: "SMS", country: "FR" }))).toEqual(["eu-smsc", "twilio"]);
    expect(names(setup.router.route({ channel: "VOICE", country: "FR" }))).toEqual(["twilio"]);
    expect(names(setup.router.route({ channel: "VOICE", country: "US" }))).toEqual(["twilio", "simulator"]);
  });

  test("secrets may come from the environment", () => {
    const file = configFile({ providers: [{ ...smpp, password: { env: "SMSC_PASSWORD" } }] });
    expect(build(file, { SMSC_PASSWORD: "pw123456" }).providers.map((provider) => provider.name)).toEqual(["eu-smsc"]);
    expect(problemsOf(() => build(file))).toEqual([
      expect.stringContaining("providers[0].password names the environment variable SMSC_PASSWORD, which is not set"),
    ]);
  });

  test("every problem is reported at once, by field, and no secret is repeated", () => {
    const problems = problemsOf(() =>
      build(
        configFile({
          providers: [
            { ...twilio, accountSid: "nope", authToken: "short", baseUrl: "ftp://api.example" },
            { ...smpp, password: `${SECRET}`, portt: 2775 },
            { ...hook, url: "http://hooks.acme.example/sms" },
            { type: "carrier-pigeon", name: "pigeon" },
          ],
          routes: { default: ["twilio"] },
        }),
      ),
    );
    const text = problems.join("\n");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("short");
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/providers\[0\] \(twilio\): accountSid must be AC followed by 32 hexadecimal digits/),
        expect.stringMatching(/providers\[0\] \(twilio\): authToken must be at least 16 characters/),
        expect.stringMatching(/providers\[0\] \(twilio\): baseUrl must be an absolute http\(s\) URL/),
        expect.stringMatching(/providers\[1\]\.portt is not a setting of this provider type/),
        expect.stringMatching(/providers\[2\] \(acme\): url must use https/),
        expect.stringMatching(/providers\[3\]\.type must be one of simulator, twilio, smpp, hook/),
      ]),
    );
    expect(problems.every((problem) => problem.startsWith("TELEPHONY_CONFIG ("))).toBe(true);
  });

  test("credentials and codes travel in the clear only to a loopback address: a host named like one is not", () => {
    const problems = problemsOf(() =>
      build(
        configFile({
          providers: [
            { ...twilio, baseUrl: "http://api.example.com" },
            { ...hook, url: "http://127.hooks.example.com/sms" },
            { ...hook, name: "local", url: "http://localhost.example.com/sms" },
          ],
          routes: { default: ["twilio"] },
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/providers\[0\] \(twilio\): baseUrl must use https/),
        expect.stringMatching(/providers\[1\] \(acme\): url must use https/),
        expect.stringMatching(/providers\[2\] \(local\): url must use https/),
      ]),
    );
    const loopback = configFile({
      providers: [
        { ...twilio, baseUrl: "http://127.0.0.1:8080" },
        { ...hook, url: "http://[::1]:8081/sms" },
        { ...hook, name: "local", url: "http://localhost:8082/sms" },
      ],
      routes: { default: ["twilio"] },
    });
    expect(build(loopback).providers).toHaveLength(3);
  });

  test("routes must name configured providers; the SMPP password is capped by the protocol", () => {
    const problems = problemsOf(() =>
      build(
        configFile({
          providers: [{ ...smpp, password: "123456789" }, hook],
          routes: { default: ["acme", "twilio"], byCountry: { fr: ["acme"] } },
        }),
      ),
    );
    expect(problems).toEqual([expect.stringContaining("password must be at most 8 characters (SMPP 3.4)")]);

    const routeProblems = problemsOf(() =>
      build(configFile({ providers: [hook], routes: { default: ["acme", "twilio"], byCountry: { fr: ["acme"] } } })),
    );
    expect(routeProblems.join("\n")).toMatch(/routes\.default names "twilio", which is not a configured provider/);
    expect(routeProblems.join("\n")).toMatch(/routes\.byCountry keys must be ISO 3166-1 alpha-2 codes/);
  });

  test("a file that is not JSON is reported without quoting it", () => {
    const problems = problemsOf(() => build(configFile(`{ "providers": [ { "authToken": "${SECRET}" ,, ] }`)));
    expect(problems).toEqual([expect.stringMatching(/is not valid JSON/)]);
    expect(problems.join("\n")).not.toContain(SECRET);
    expect(problemsOf(() => build(path.join(os.tmpdir(), "ringfence-no-such-file.json")))).toEqual([
      expect.stringMatching(/cannot be read \(ENOENT\)/),
    ]);
  });

  test("a listed simulator is refused when SIMULATOR_ENABLED=false; PUBLIC_URL is required in production for callbacks", () => {
    const withSimulator = configFile({ providers: [{ type: "simulator" }] });
    expect(problemsOf(() => build(withSimulator, {}, { SIMULATOR_ENABLED: "false" }))).toEqual([
      expect.stringContaining("SIMULATOR_ENABLED=false"),
    ]);
    const withTwilio = configFile({ providers: [twilio] });
    expect(problemsOf(() => build(withTwilio, {}, { NODE_ENV: "production" }))).toEqual([
      expect.stringContaining("PUBLIC_URL must be set"),
    ]);
    expect(build(withTwilio, {}, { NODE_ENV: "production", PUBLIC_URL: "https://id.example.com/" }).providers).toHaveLength(1);
  });
});

describe("CountryRouter", () => {
  const provider = (name: string, channels: PhoneMethod[]): TelephonyProvider => ({
    name,
    channels,
    send: async (): Promise<SendResult> => ({ providerMessageId: name, providerStatus: "queued", senderId: null }),
    start: async () => undefined,
    stop: async () => undefined,
  });
  const voiceAndSms = provider("global", ["SMS", "VOICE"]);
  const smsOnly = provider("smsc", ["SMS"]);

  test("a country's own list, filtered by channel; the default list for the rest and for channels the country's list lacks", () => {
    const router = new CountryRouter([voiceAndSms, smsOnly], { default: ["global"], byCountry: { DE: ["smsc", "global"], IT: ["smsc"] } });
    expect(router.route({ channel: "SMS", country: "DE" })).toEqual([smsOnly, voiceAndSms]);
    expect(router.route({ channel: "VOICE", country: "DE" })).toEqual([voiceAndSms]);
    expect(router.route({ channel: "VOICE", country: "IT" })).toEqual([voiceAndSms]);
    expect(router.route({ channel: "SMS", country: "US" })).toEqual([voiceAndSms]);
  });

  test("no provider for a channel anywhere: an empty route (the dispatcher ends the message COUNTRY_UNSUPPORTED)", () => {
    const router = new CountryRouter([smsOnly], { default: ["smsc"] });
    expect(router.route({ channel: "VOICE", country: "US" })).toEqual([]);
  });

  test("names are unique: attempts, receipts and circuit breakers are keyed by them", () => {
    expect(() => new CountryRouter([smsOnly, provider("smsc", ["SMS"])], { default: ["smsc"] })).toThrow(/configured twice/);
    expect(() => new CountryRouter([smsOnly], { default: ["smsc", "smsc"] })).toThrow(/names a provider twice/);
  });
});
