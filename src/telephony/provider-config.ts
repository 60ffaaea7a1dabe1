import fs from "node:fs";
import type { Clock } from "../platform/clock";
import { ConfigError, type Config } from "../platform/config";
import type { Database } from "../platform/database";
import type { Logger } from "../platform/logger";
import type { PublicUrl } from "../platform/public-url";
import type { ProviderRouter } from "./routing";
import { CountryRouter, StaticRouter, type CountryRoutes } from "./routing";
import type { TelephonyProvider } from "./provider";
import { ProviderConfigError } from "./providers/provider-settings";
import { SimulatorProvider } from "./providers/simulator";
import { SmppProvider, type SmppConfig } from "./providers/smpp";
import { TelephonyHookProvider, type TelephonyHookConfig } from "./providers/telephony-hook";
import { TwilioProvider, type TwilioConfig } from "./providers/twilio";
import { SenderIds, senderIdProblems, type SenderIdSettings } from "./sender-ids";

/**
 * The file TELEPHONY_CONFIG names:
 *
 * ```json
 * {
 *   "providers": [
 *     { "type": "twilio", "name": "twilio", "accountSid": "AC…", "authToken": { "env": "TWILIO_AUTH_TOKEN" },
 *       "fromNumbers": { "SMS": { "default": "+14155550100" }, "VOICE": { "default": "+14155550100" } } },
 *     { "type": "smpp", "name": "eu-smsc", "host": "smsc.example.net", "systemId": "ringfence", "password": { "env": "SMPP_PASSWORD" } },
 *     { "type": "hook", "name": "acme", "url": "https://hooks.acme.example/sms", "secret": { "env": "ACME_HOOK_SECRET" } },
 *     { "type": "simulator" }
 *   ],
 *   "routes": { "default": ["twilio", "acme"], "byCountry": { "FR": ["eu-smsc", "twilio"] } },
 *   "senderIds": { "default": "Ringfence", "byCountry": { "US": "12345" } }
 * }
 * ```
 *
 * Secrets (authToken, password, secret) may be written inline or as { "env": "NAME" }, read
 * from the environment so the file can be shared. routes defaults to every provider in the
 * order listed. Each adapter checks its own settings when it is built; every problem is
 * reported at start, none with a secret's value. A provider configured but in no route still
 * takes receipts: that is how one is drained.
 */
export interface TelephonyFile {
  providers: ProviderEntry[];
  routes?: CountryRoutes;
  senderIds?: SenderIdSettings;
}

export type ProviderEntry =
  | ({ type: "simulator" } & { name?: string; receiptDelayMs?: number })
  | ({ type: "twilio" } & TwilioConfig)
  | ({ type: "smpp" } & SmppConfig)
  | ({ type: "hook" } & TelephonyHookConfig);

export interface TelephonySetup {
  providers: TelephonyProvider[];
  router: ProviderRouter;
  /** The built-in simulator, when it is one of the providers (its GraphQL inbox needs it). */
  simulator: SimulatorProvider | null;
  /** Providers whose status callbacks arrive at /webhooks/twilio/<name>. */
  twilio: ReadonlyMap<string, TwilioProvider>;
  /** Providers whose callbacks arrive at /webhooks/hook/<name>. */
  hooks: ReadonlyMap<string, TelephonyHookProvider>;
}

export interface TelephonyDependencies {
  db: Database;
  clock: Clock;
  logger: Logger;
  publicUrl: PublicUrl;
  /** Secrets written as { "env": "NAME" } are read here. @default process.env */
  env?: NodeJS.ProcessEnv;
}

type TelephonyConfigOptions = Pick<
  Config,
  "telephonyConfigPath" | "simulatorEnabled" | "simulatorReceiptDelayMs" | "nodeEnv" | "publicUrl"
>;

/** The providers and their router: the simulator alone without TELEPHONY_CONFIG, else what the file says. */
export function createTelephony(config: TelephonyConfigOptions, deps: TelephonyDependencies): TelephonySetup {
  const { db, clock, logger } = deps;
  if (!config.telephonyConfigPath) {
    const simulator = config.simulatorEnabled
      ? new SimulatorProvider({ db, clock, logger, receiptDelayMs: config.simulatorReceiptDelayMs })
      : null;
    const providers = simulator ? [simulator] : [];
    return { providers, router: new StaticRouter(providers), simulator, twilio: new Map(), hooks: new Map() };
  }
  return buildFromFile(config, config.telephonyConfigPath, deps);
}

const FIELD_KINDS = {
  simulator: { name: "string", receiptDelayMs: "integer" },
  twilio: {
    name: "string",
    accountSid: "string",
    authToken: "secret",
    baseUrl: "string",
    messagingServiceSid: "string",
    fromNumbers: "senders",
    requestTimeoutMs: "integer",
  },
  smpp: {
    name: "string",
    host: "string",
    port: "integer",
    tls: "boolean",
    systemId: "string",
    password: "secret",
    systemType: "string",
    sourceAddr: "string",
    enquireLinkIntervalMs: "integer",
    responseTimeoutMs: "integer",
    reconnectInitialDelayMs: "integer",
    reconnectMaxDelayMs: "integer",
    bindWaitMs: "integer",
  },
  hook: { name: "string", url: "string", secret: "secret", timeoutMs: "integer", channels: "strings" },
} as const satisfies Record<ProviderEntry["type"], Record<string, FieldKind>>;

type FieldKind = "string" | "secret" | "integer" | "boolean" | "strings" | "senders";
type ProviderType = keyof typeof FIELD_KINDS;
const isProviderType = (value: unknown): value is ProviderType => typeof value === "string" && Object.hasOwn(FIELD_KINDS, value);

function buildFromFile(config: TelephonyConfigOptions, path: string, deps: TelephonyDependencies): TelephonySetup {
  const problems: string[] = [];
  const fail = (): never => {
    throw new ConfigError(problems.map((problem) => `TELEPHONY_CONFIG (${path}): ${problem}`));
  };
  const file = readFile(path, problems);
  if (!file) return fail();

  const rawSenderIds = file.senderIds ?? {};
  const senderIdSettings = readSenderIds(rawSenderIds, problems);
  const senderIds = new SenderIds(problems.length ? {} : senderIdSettings);

  const providers: TelephonyProvider[] = [];
  let simulator: SimulatorProvider | null = null;
  const twilio = new Map<string, TwilioProvider>();
  const hooks = new Map<string, TelephonyHookProvider>();
  const rawProviders = file.providers;
  if (!Array.isArray(rawProviders) || rawProviders.length === 0) {
    problems.push('"providers" must be a non-empty list');
    return fail();
  }
  rawProviders.forEach((raw: unknown, index) => {
    const where = `providers[${index}]`;
    if (!isObject(raw)) {
      problems.push(`${where} must be an object`);
      return;
    }
    const { type } = raw;
    if (!isProviderType(type)) {
      problems.push(`${where}.type must be one of ${Object.keys(FIELD_KINDS).join(", ")}`);
      return;
    }
    const settings = readSettings(raw, FIELD_KINDS[type], where, deps.env ?? process.env, problems);
    if (!settings) return;
    const label = `${where} (${typeof settings.name === "string" ? settings.name : type})`;
    try {
      const provider = buildProvider(type, settings, config, deps, senderIds);
      if (provider instanceof SimulatorProvider) simulator = provider;
      if (provider instanceof TwilioProvider) twilio.set(provider.name, provider);
      if (provider instanceof TelephonyHookProvider) hooks.set(provider.name, provider);
      providers.push(provider);
    } catch (error) {
      if (error instanceof ProviderConfigError) problems.push(...error.problems.map((problem) => `${label}: ${problem}`));
      else if (error instanceof ConfigError) problems.push(...error.problems.map((problem) => `${label}: ${problem}`));
      else throw error;
    }
  });
  if (problems.length) return fail();

  if ((twilio.size || hooks.size) && !config.publicUrl && config.nodeEnv === "production") {
    problems.push("PUBLIC_URL must be set: Twilio and hook providers send their callbacks to it");
  }
  const routes = readRoutes(file.routes, providers, problems);
  let router: CountryRouter | null = null;
  try {
    if (routes) router = new CountryRouter(providers, routes);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (problems.length || !router) return fail();
  deps.logger.info(
    {
      providers: providers.map((provider) => ({ name: provider.name, channels: provider.channels })),
      countries: Object.keys(routes?.byCountry ?? {}),
    },
    "telephony providers configured",
  );
  return { providers, router, simulator, twilio, hooks };
}

/**
 * Shapes are checked by the field table; what the values mean (required fields, formats,
 * ranges) is each adapter's own check, in its constructor.
 */
function buildProvider(
  type: ProviderType,
  settings: Record<string, unknown>,
  config: TelephonyConfigOptions,
  deps: TelephonyDependencies,
  senderIds: SenderIds,
): TelephonyProvider {
  const { db, clock, logger, publicUrl } = deps;
  switch (type) {
    case "simulator": {
      const problems: string[] = [];
      // The inbox, rules and receipts of the simulator are all keyed by this one name.
      if (settings.name !== undefined && settings.name !== "simulator") problems.push('name must be "simulator" (or left out)');
      if (!config.simulatorEnabled) problems.push("the simulator is listed, but SIMULATOR_ENABLED=false forbids it");
      if (problems.length) throw new ConfigError(problems);
      const receiptDelayMs = typeof settings.receiptDelayMs === "number" ? settings.receiptDelayMs : config.simulatorReceiptDelayMs;
      return new SimulatorProvider({ db, clock, logger, receiptDelayMs, senderIds });
    }
    case "twilio":
      return new TwilioProvider(settings as unknown as TwilioConfig, { publicUrl, logger, senderIds });
    case "smpp":
      return new SmppProvider(settings as unknown as SmppConfig, { logger, senderIds });
    case "hook":
      return new TelephonyHookProvider(settings as unknown as TelephonyHookConfig, { publicUrl, logger, senderIds });
  }
}

function readFile(path: string, problems: string[]): Record<string, unknown> | null {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (error) {
    problems.push(`cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around a syntax error, and that text may be a secret: keep the position only.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
    problems.push(`is not valid JSON${position ? ` (at character ${position})` : ""}`);
    return null;
  }
  if (!isObject(parsed)) {
    problems.push("must hold a JSON object");
    return null;
  }
  for (const key of Object.keys(parsed)) {
    if (!["providers", "routes", "senderIds"].includes(key))
      problems.push(`unknown top-level key "${key}" (expected providers, routes, senderIds)`);
  }
  return parsed;
}

function readSettings(
  raw: Record<string, unknown>,
  kinds: Readonly<Record<string, FieldKind>>,
  where: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Record<string, unknown> | null {
  const settings: Record<string, unknown> = {};
  const before = problems.length;
  for (const [key, value] of Object.entries(raw)) {
    if (key === "type") continue;
    const kind = kinds[key];
    const field = `${where}.${key}`;
    if (!kind) {
      // A misspelt setting would otherwise be ignored in silence and its default used.
      problems.push(`${field} is not a setting of this provider type (expected ${Object.keys(kinds).join(", ")})`);
      continue;
    }
    if (value === null) continue;
    const read = readField(value, kind, field, env, problems);
    if (read !== undefined) settings[key] = read;
  }
  return problems.length === before ? settings : null;
}

function readField(value: unknown, kind: FieldKind, field: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  switch (kind) {
    case "string":
      if (typeof value === "string") return value;
      problems.push(`${field} must be a string`);
      return undefined;
    case "secret": {
      if (typeof value === "string") return value;
      if (isObject(value) && typeof value.env === "string" && Object.keys(value).length === 1) {
        const secret = env[value.env];
        if (secret) return secret;
        problems.push(`${field} names the environment variable ${value.env}, which is not set`);
        return undefined;
      }
      problems.push(`${field} must be a string or { "env": "VARIABLE_NAME" }`);
      return undefined;
    }
    case "integer":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      problems.push(`${field} must be an integer`);
      return undefined;
    case "boolean":
      if (typeof value === "boolean") return value;
      problems.push(`${field} must be true or false`);
      return undefined;
    case "strings":
      if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
      problems.push(`${field} must be a list of strings`);
      return undefined;
    case "senders": {
      if (!isObject(value)) {
        problems.push(`${field} must be an object keyed by channel (SMS, VOICE)`);
        return undefined;
      }
      for (const [channel, senders] of Object.entries(value)) {
        const { default: fallback, byCountry, ...others } = isObject(senders) ? senders : {};
        const ok =
          isObject(senders) &&
          Object.keys(others).length === 0 &&
          (fallback === undefined || fallback === null || typeof fallback === "string") &&
          (byCountry === undefined || isStringMap(byCountry));
        if (!ok) problems.push(`${field}.${channel} must be { "default"?: string, "byCountry"?: { "<country>": string } }`);
      }
      return value;
    }
  }
}

function readSenderIds(raw: unknown, problems: string[]): SenderIdSettings {
  if (!isObject(raw)) {
    problems.push('"senderIds" must be an object');
    return {};
  }
  const { default: fallback, byCountry, ...others } = raw;
  for (const key of Object.keys(others)) problems.push(`senderIds.${key} is not a setting (expected default, byCountry)`);
  if (fallback !== undefined && fallback !== null && typeof fallback !== "string") problems.push("senderIds.default must be a string");
  if (byCountry !== undefined && !isStringMap(byCountry))
    problems.push('senderIds.byCountry must map countries to strings, e.g. { "US": "12345" }');
  const settings: SenderIdSettings = {
    default: typeof fallback === "string" ? fallback : null,
    byCountry: isStringMap(byCountry) ? byCountry : {},
  };
  problems.push(...senderIdProblems(settings));
  return settings;
}

function readRoutes(raw: unknown, providers: readonly TelephonyProvider[], problems: string[]): CountryRoutes | null {
  if (raw === undefined) return { default: providers.map((provider) => provider.name) };
  if (!isObject(raw)) {
    problems.push('"routes" must be an object');
    return null;
  }
  const { default: fallback, byCountry, ...others } = raw;
  for (const key of Object.keys(others)) problems.push(`routes.${key} is not a setting (expected default, byCountry)`);
  const isNameList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === "string");
  if (!isNameList(fallback)) problems.push("routes.default must be a list of provider names");
  const countries: Record<string, string[]> = {};
  if (byCountry !== undefined) {
    if (!isObject(byCountry)) problems.push("routes.byCountry must map countries to lists of provider names");
    else {
      for (const [country, names] of Object.entries(byCountry)) {
        if (isNameList(names)) countries[country] = names;
        else problems.push(`routes.byCountry.${country} must be a list of provider names`);
      }
    }
  }
  return isNameList(fallback) ? { default: fallback, byCountry: countries } : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((item) => typeof item === "string");
}
