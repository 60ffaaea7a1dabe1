import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { Role } from "../auth/authorization";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import { DEFAULT_PAGE_SIZE } from "../platform/pagination";
import type { Services } from "../platform/services";
import type { PhoneAuthenticatorSettings } from "./phone-authenticator.entity";
import { BlockedPhoneNumberConnection, Country, CountryInput, PhoneAuthenticator, PhoneAuthenticatorInput, PhoneNumberCheck } from "./phone.types";

const toGraph = (settings: PhoneAuthenticatorSettings): PhoneAuthenticator => ({
  status: settings.status,
  methods: settings.methodList,
  usage: settings.usage,
  codeLength: settings.codeLength,
  codeTtlSeconds: settings.codeTtlSeconds,
  maxAttempts: settings.maxAttempts,
  resendCooldownSeconds: settings.resendCooldownSeconds,
  maxResends: settings.maxResends,
  allowVoip: settings.allowVoip,
});

@Resolver()
export class PhoneAuthenticatorResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.USER)
  @Query(() => PhoneAuthenticator)
  async phoneAuthenticator(): Promise<PhoneAuthenticator> {
    return toGraph(await this.services.phoneAuthenticator.get());
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => PhoneAuthenticator)
  async updatePhoneAuthenticator(@Arg("input") input: PhoneAuthenticatorInput, @Ctx() context: Context): Promise<PhoneAuthenticator> {
    return toGraph(await this.services.phoneAuthenticator.update(input, initiatorOf(context)));
  }

  @Query(() => PhoneNumberCheck)
  validatePhoneNumber(
    @Arg("number") number: string,
    @Arg("defaultCountry", () => String, { nullable: true }) defaultCountry: string | null,
  ): Promise<PhoneNumberCheck> {
    return this.services.phoneNumbers.check(number, defaultCountry);
  }

  @Authorized(Role.ADMIN)
  @Query(() => BlockedPhoneNumberConnection, { description: "The blocked numbers in force, newest first" })
  blockedPhoneNumbers(
    @Arg("first", () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
  ): Promise<BlockedPhoneNumberConnection> {
    return this.services.phoneNumbers.blockedNumbers(first, after);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  blockPhoneNumber(
    @Arg("number") number: string,
    @Arg("reason", () => String, { nullable: true }) reason: string | null,
    @Ctx() context: Context,
  ): Promise<boolean> {
    return this.services.phoneNumbers.block(number, reason, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Query(() => [Country], { description: "Every country, by code; enabled: only those where some method is (true) or none is (false)" })
  countries(@Arg("enabled", () => Boolean, { nullable: true }) enabled: boolean | null): Promise<Country[]> {
    return this.services.phoneNumbers.countries(enabled);
  }

  @Authorized(Role.ADMIN)
  @Query(() => Country)
  country(@Arg("code") code: string): Promise<Country> {
    return this.services.phoneNumbers.country(code);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Country, { description: "Switches a country's methods on or off and sets its estimated costs, for every send from now on" })
  updateCountry(@Arg("code") code: string, @Arg("input") input: CountryInput, @Ctx() context: Context): Promise<Country> {
    return this.services.phoneNumbers.updateCountry(code, input, initiatorOf(context));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean, { description: "true when a block was lifted, false when the number was not blocked" })
  unblockPhoneNumber(@Arg("number") number: string, @Ctx() context: Context): Promise<boolean> {
    return this.services.phoneNumbers.unblock(number, initiatorOf(context));
  }
}
