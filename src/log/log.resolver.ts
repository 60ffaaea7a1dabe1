import { Arg, Args, Authorized, ID, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { Role } from "../auth/authorization";
import type { Context } from "../platform/context";
import type { AppError } from "../platform/errors";
import type { Services } from "../platform/services";
import { SubscriptionEnd, type SubscriptionChannel } from "../platform/subscription-channel";
import { Message } from "../telephony/message.entity";
import { parseLogFilter } from "./filter";
import { LogConnection, LogEvent, LogsArgs, UsageReport } from "./log.types";

interface SystemLogArguments {
  filter?: string | null;
}

interface DeliveryStatusArguments {
  challengeId: string;
  stateHandle?: string | null;
}

/**
 * The System Log (`logs`, `systemLog`), the SMS usage report and message delivery status.
 *
 * Subscriptions name a `subscribe` function rather than a topic: access and the filter are
 * checked there, once, so a refusal (FORBIDDEN, BAD_FILTER, NOT_FOUND...) answers the
 * subscribe message itself instead of surfacing with the first event. The source then yields
 * the payloads; the resolver methods below only hand each one over, or raise the error a
 * source ended with (a lapsed credential, a full buffer) as the subscription's last result.
 */
@Resolver()
export class LogResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => LogConnection, {
    description: 'filter: Okta System Log expression, e.g. eventType eq "system.sms.receive_status" and outcome.result eq "FAILURE"',
  })
  logs(@Args() args: LogsArgs): Promise<LogConnection> {
    return this.services.logQueries.logs(args);
  }

  @Authorized(Role.ADMIN)
  @Query(() => UsageReport, { description: "from and to are YYYY-MM, inclusive" })
  smsUsageReport(@Arg("from") from: string, @Arg("to") to: string): Promise<UsageReport> {
    return this.services.usageReport.report(from, to);
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => LogEvent, {
    description: "admin only: each new event that matches the filter",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, SystemLogArguments, Context>) =>
      context.container.get(LogResolver).openSystemLog(args, context),
  })
  systemLog(@Root() item: LogEvent | SubscriptionEnd, @Arg("filter", () => String, { nullable: true }) _filter: string | null): LogEvent {
    if (item instanceof SubscriptionEnd) throw item.error;
    return item;
  }

  @Subscription(() => Message, {
    description: "status changes of a challenge's messages; admin, the session's user, or the transaction holding it",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, DeliveryStatusArguments, Context>) =>
      context.container.get(LogResolver).openDeliveryStatus(args, context),
  })
  deliveryStatus(
    @Root() item: Message | SubscriptionEnd,
    @Arg("challengeId", () => ID) _challengeId: string,
    @Arg("stateHandle", () => String, { nullable: true }) _stateHandle: string | null,
  ): Message {
    if (item instanceof SubscriptionEnd) throw item.error;
    return item;
  }

  /** The filter is parsed once per subscription; a bad one is refused here with BAD_FILTER. */
  async openSystemLog(args: SystemLogArguments, { viewer }: Context): Promise<SubscriptionChannel<LogEvent>> {
    const filter = args.filter?.trim() ? parseLogFilter(args.filter) : null;
    const credentials = this.services.subscriptionCredentials;
    const grant = credentials.grantOf(viewer);
    // @Authorized(Role.ADMIN) let only admins this far, and an admin always has a grant.
    if (!grant) throw new Error("systemLog opened without a credential");
    const admit = credentials.admitWhile(grant);
    await refuseIfLapsed(admit);
    const channel = this.services.liveLog.open(filter, admit);
    credentials.watch(grant, channel);
    return channel;
  }

  async openDeliveryStatus(args: DeliveryStatusArguments, { viewer }: Context): Promise<SubscriptionChannel<Message>> {
    const grant = await this.services.deliveryStatus.authorize(viewer, args.challengeId, args.stateHandle);
    const credentials = this.services.subscriptionCredentials;
    const admit = credentials.admitWhile(grant);
    await refuseIfLapsed(admit);
    const channel = this.services.deliveryStatus.open(args.challengeId, admit);
    credentials.watch(grant, channel);
    return channel;
  }
}

/**
 * The socket's viewer was resolved when it connected, perhaps long ago: a credential revoked
 * since must not open new subscriptions either (within the same 30 s bound as running ones).
 */
async function refuseIfLapsed(admit: () => Promise<AppError | null>): Promise<void> {
  const lapsed = await admit();
  if (lapsed) throw lapsed;
}
