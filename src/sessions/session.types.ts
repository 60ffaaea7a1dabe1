import { Field, ID, ObjectType } from "type-graphql";

@ObjectType("Session", { description: "A live signed-in session: for a user to sign a device out, for an admin to see where someone is signed in" })
export class SessionView {
  @Field(() => ID)
  id: string;

  @Field()
  created: Date;

  @Field({ description: "The last request made with it, to within 30 seconds" })
  lastSeen: Date;

  @Field({ description: "When it ends however busy it is (the policy's session lifetime)" })
  expiresAt: Date;

  @Field({ description: "When it ends if no request comes before (the policy's idle timeout)" })
  idleExpiresAt: Date;

  @Field(() => Date, { nullable: true, description: "When the second factor was last proven in it; null if never" })
  mfaVerifiedAt: Date | null;

  @Field({ description: "Whether this request is made with it" })
  current: boolean;
}
