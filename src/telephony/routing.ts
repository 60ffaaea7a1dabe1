import type { PhoneMethod } from "../phone/phone.enums";
import type { TelephonyProvider } from "./provider";

/** What a router may look at: enough to pick a provider, not the number or the body. */
export interface RoutableMessage {
  channel: PhoneMethod;
  /** ISO 3166-1 alpha-2 country of the number. */
  country: string;
}

/** Decides which providers may carry a message, best first; the dispatcher fails over along the list. */
export interface ProviderRouter {
  /** Every provider this router can ever name: the dispatcher starts and stops them. */
  readonly providers: readonly TelephonyProvider[];
  /** Candidates in the order to try them; empty when no provider carries the channel there. */
  route(message: RoutableMessage): TelephonyProvider[];
}

/** One ordered list for every country; the first provider that offers the channel is preferred. */
export class StaticRouter implements ProviderRouter {
  constructor(readonly providers: readonly TelephonyProvider[]) {
    const names = providers.map((provider) => provider.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    // Attempts, receipts and circuit breakers are keyed by provider name.
    if (repeated) throw new Error(`Telephony provider "${repeated}" is configured twice`);
  }

  route(message: RoutableMessage): TelephonyProvider[] {
    return this.providers.filter((provider) => provider.channels.includes(message.channel));
  }
}

/** Provider names, best first, for every country and for some countries in particular. */
export interface CountryRoutes {
  default: readonly string[];
  /** ISO 3166-1 alpha-2 country to its own list. */
  byCountry?: Readonly<Record<string, readonly string[]>>;
}

/**
 * An ordered list of providers per destination country, with a default list for the rest.
 * A country's list stands for the channels its providers carry; a channel none of them
 * carries (calls, when a country routes to an SMPP link only) falls back to the default list,
 * so that listing a country for SMS does not silently take its calls away.
 */
export class CountryRouter implements ProviderRouter {
  private readonly defaultRoute: readonly TelephonyProvider[];
  private readonly countryRoutes: ReadonlyMap<string, readonly TelephonyProvider[]>;

  constructor(
    readonly providers: readonly TelephonyProvider[],
    routes: CountryRoutes,
  ) {
    const byName = new Map<string, TelephonyProvider>();
    for (const provider of providers) {
      // Attempts, receipts and circuit breakers are keyed by provider name.
      if (byName.has(provider.name)) throw new Error(`Telephony provider "${provider.name}" is configured twice`);
      byName.set(provider.name, provider);
    }
    const problems: string[] = [];
    const resolve = (names: readonly string[], where: string): TelephonyProvider[] => {
      if (new Set(names).size !== names.length) problems.push(`${where} names a provider twice`);
      return names.flatMap((name) => {
        const provider = byName.get(name);
        if (!provider) problems.push(`${where} names "${name}", which is not a configured provider`);
        return provider ? [provider] : [];
      });
    };
    this.defaultRoute = resolve(routes.default, "routes.default");
    const countryRoutes = new Map<string, TelephonyProvider[]>();
    for (const [country, names] of Object.entries(routes.byCountry ?? {})) {
      if (!/^[A-Z]{2}$/.test(country))
        problems.push(`routes.byCountry keys must be ISO 3166-1 alpha-2 codes such as "FR" (got "${country}")`);
      countryRoutes.set(country, resolve(names, `routes.byCountry.${country}`));
    }
    if (problems.length) throw new Error(problems.join("; "));
    this.countryRoutes = countryRoutes;
  }

  route(message: RoutableMessage): TelephonyProvider[] {
    const carries = (provider: TelephonyProvider) => provider.channels.includes(message.channel);
    const countryRoute = (this.countryRoutes.get(message.country) ?? []).filter(carries);
    return countryRoute.length ? countryRoute : this.defaultRoute.filter(carries);
  }
}
