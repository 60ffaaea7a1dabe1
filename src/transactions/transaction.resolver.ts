import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { Context } from "../platform/context";
import type { Services } from "../platform/services";
import {
  AuthTransaction,
  ChangePasswordInput,
  RecoveryInput,
  ResetPasswordInput,
  SignInInput,
  TransactionChallengeInput,
  TransactionCodeInput,
  TransactionEnrollInput,
  TransactionResendInput,
} from "./transaction.types";

/** The public sign-in and recovery flow: each step carries its state handle, no credential. */
@Resolver(() => AuthTransaction)
export class TransactionResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => AuthTransaction)
  async signIn(@Arg("input") input: SignInInput, @Ctx() { client, viewer }: Context): Promise<AuthTransaction> {
    await this.services.guard.checkPublicRequest(client.ipAddress);
    return this.services.transactions.signIn(input, client, viewer);
  }

  @Mutation(() => AuthTransaction)
  challengeFactor(@Arg("input") input: TransactionChallengeInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    return this.services.transactions.challengeFactor(input.stateHandle, input.factorId, input.method, client);
  }

  @Mutation(() => AuthTransaction, {
    description:
      "MFA_ENROLL or MFA_ENROLL_ACTIVATE: enrolls a number and sends its code. Another number replaces the one this sign-in enrolled and never verified; a number that still waits for its code, from this sign-in or an earlier one, gets a new code (RESEND_TOO_SOON inside the cooldown)",
  })
  async enrollFactor(@Arg("input") input: TransactionEnrollInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    await this.services.guard.checkPublicRequest(client.ipAddress);
    return this.services.transactions.enrollFactor(input.stateHandle, input, client);
  }

  @Mutation(() => AuthTransaction)
  verifyFactor(@Arg("input") input: TransactionCodeInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    return this.services.transactions.verifyFactor(input.stateHandle, input.code, client);
  }

  @Mutation(() => AuthTransaction)
  resendFactorChallenge(@Arg("input") input: TransactionResendInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    return this.services.transactions.resendFactorChallenge(input.stateHandle, input.method, client);
  }

  @Mutation(() => AuthTransaction)
  async recoverPassword(@Arg("input") input: RecoveryInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    await this.services.guard.checkPublicRequest(client.ipAddress);
    return this.services.transactions.recoverPassword(input.login, input.method, client);
  }

  @Mutation(() => AuthTransaction)
  async unlockAccount(@Arg("input") input: RecoveryInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    await this.services.guard.checkPublicRequest(client.ipAddress);
    return this.services.transactions.unlockAccount(input.login, input.method, client);
  }

  @Mutation(() => AuthTransaction, {
    description:
      "The new password, in status PASSWORD_RESET (a recovery) or PASSWORD_EXPIRED (a sign-in whose password expired); the transaction ends signed in (SUCCESS), or DENIED when a sign-on rule denies the user",
  })
  resetPassword(@Arg("input") input: ResetPasswordInput, @Ctx() { client }: Context): Promise<AuthTransaction> {
    return this.services.transactions.resetPassword(input.stateHandle, input.newPassword, client);
  }

  @Mutation(() => Boolean)
  cancelTransaction(@Arg("stateHandle") stateHandle: string): Promise<boolean> {
    return this.services.transactions.cancel(stateHandle);
  }

  @Mutation(() => Boolean, {
    description:
      "The signed-in user replaces their password, giving the current one (a wrong one counts towards lockout). Their other sessions end; this one stays",
  })
  changePassword(@Arg("input") input: ChangePasswordInput, @Ctx() { viewer, client }: Context): Promise<boolean> {
    return this.services.transactions.changePassword(viewer, input.currentPassword, input.newPassword, client);
  }

  @Mutation(() => Boolean)
  signOut(@Ctx() { viewer, client }: Context): Promise<boolean> {
    return this.services.transactions.signOut(viewer, client);
  }
}
