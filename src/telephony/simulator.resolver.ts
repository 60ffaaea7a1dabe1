import { Arg, Args, ArgsType, Authorized, Field, Int, Mutation, Query, Resolver } from "type-graphql";
import { IsOptional } from "class-validator";
import { Role } from "../auth/authorization";
import { AppError, ErrorCode } from "../platform/errors";
import { DEFAULT_PAGE_SIZE, pageSize } from "../platform/pagination";
import type { Services } from "../platform/services";
import { SimulatedMessage, SimulatorRuleInput } from "../phone/phone.types";
import type { SimulatorProvider } from "./providers/simulator";
import { MaxLength } from "../platform/text-length";

@ArgsType()
class SimulatorMessagesArgs {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(20)
  to?: string | null;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE })
  first?: number | null;
}

@Resolver()
export class SimulatorResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => [SimulatedMessage], { description: "The simulator's handset inbox, newest first" })
  async simulatorMessages(@Args() args: SimulatorMessagesArgs): Promise<SimulatedMessage[]> {
    const records = await this.simulator().listMessages({ to: args.to ?? undefined, first: pageSize(args.first, DEFAULT_PAGE_SIZE, 500) });
    return records.map((record) => ({
      id: record.id,
      to: record.toE164,
      channel: record.channel,
      body: record.body,
      status: record.status,
      created: record.created,
    }));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  async setSimulatorRules(@Arg("rules", () => [SimulatorRuleInput]) rules: SimulatorRuleInput[]): Promise<boolean> {
    await this.simulator().setRules(rules);
    return true;
  }

  private simulator(): SimulatorProvider {
    const simulator = this.services.simulator;
    if (!simulator) throw new AppError(ErrorCode.NOT_FOUND, "The built-in simulator is not enabled (SIMULATOR_ENABLED=false)");
    return simulator;
  }
}
