import { ArrayMaxSize, IsOptional, ValidateNested } from "class-validator";
import { Field, InputType, Int, ObjectType } from "type-graphql";
import { ChallengePurpose, SmsEncoding } from "../phone/phone.enums";
import { Length, MaxLength } from "../platform/text-length";

/*
 * Input lengths are bounds against abuse, not the SMS limit: that one depends on the encoding
 * and the rendering, so the service checks it and answers TEMPLATE_TOO_LONG with the numbers.
 */
export const MAX_TEMPLATE_INPUT = 1_600;
const MAX_TRANSLATIONS = 100;

@ObjectType()
export class TemplateTranslation {
  @Field()
  locale: string;

  @Field()
  template: string;
}

@ObjectType()
export class SmsTemplate {
  @Field(() => ChallengePurpose)
  purpose: ChallengePurpose;

  @Field()
  template: string;

  @Field(() => [TemplateTranslation])
  translations: TemplateTranslation[];

  @Field({ description: "saved before length validation existed; validated again only once changed" })
  legacy: boolean;
}

@InputType()
export class TemplateTranslationInput {
  @Field()
  @Length(1, 35)
  locale: string;

  @Field()
  @MaxLength(MAX_TEMPLATE_INPUT)
  template: string;
}

@InputType()
export class SmsTemplateInput {
  @Field(() => ChallengePurpose)
  purpose: ChallengePurpose;

  @Field()
  @MaxLength(MAX_TEMPLATE_INPUT)
  template: string;

  @Field(() => [TemplateTranslationInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_TRANSLATIONS)
  @ValidateNested({ each: true })
  translations?: TemplateTranslationInput[] | null;
}

@ObjectType()
export class SmsPreview {
  @Field()
  text: string;

  @Field(() => SmsEncoding)
  encoding: SmsEncoding;

  @Field(() => Int)
  characters: number;

  @Field(() => Int)
  segments: number;

  @Field(() => [String], { description: "characters that force UCS-2" })
  nonGsmCharacters: string[];
}
