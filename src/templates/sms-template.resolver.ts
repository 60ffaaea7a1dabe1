import { IsOptional } from "class-validator";
import { Arg, Args, ArgsType, Authorized, Ctx, Field, Mutation, Query, Resolver } from "type-graphql";
import { Role } from "../auth/authorization";
import { initiatorOf } from "../log/initiator";
import type { Context } from "../platform/context";
import type { Services } from "../platform/services";
import { MAX_TEMPLATE_INPUT, SmsPreview, SmsTemplate, SmsTemplateInput } from "./sms-template.types";
import { MaxLength } from "../platform/text-length";

@ArgsType()
class PreviewSmsTemplateArgs {
  @Field()
  @MaxLength(MAX_TEMPLATE_INPUT)
  template: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(35)
  locale?: string | null;
}

@Resolver()
export class SmsTemplateResolver {
  constructor(private readonly services: Services) {}

  @Authorized(Role.ADMIN)
  @Query(() => [SmsTemplate])
  smsTemplates(): Promise<SmsTemplate[]> {
    return this.services.smsTemplates.list();
  }

  @Authorized(Role.ADMIN)
  @Query(() => SmsPreview)
  previewSmsTemplate(@Args() args: PreviewSmsTemplateArgs): Promise<SmsPreview> {
    return this.services.smsTemplates.preview(args.template, args.locale);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SmsTemplate)
  updateSmsTemplate(@Arg("input") input: SmsTemplateInput, @Ctx() context: Context): Promise<SmsTemplate> {
    return this.services.smsTemplates.update(input, initiatorOf(context));
  }
}
