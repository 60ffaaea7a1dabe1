import { registerEnumType } from "type-graphql";
import { ChallengePurpose } from "../templates/defaults";
import { PhoneMethod, PhoneNumberType, PhoneRejection } from "./phone-number";

export { ChallengePurpose, PhoneMethod, PhoneNumberType, PhoneRejection };

const closed = <T extends string>(...values: T[]) => Object.freeze(Object.fromEntries(values.map((v) => [v, v]))) as { readonly [K in T]: K };

export const FactorStatus = closed("PENDING_ACTIVATION", "ACTIVE", "INACTIVE");
export type FactorStatus = keyof typeof FactorStatus;

export const ChallengeStatus = closed("PENDING", "VERIFIED", "EXPIRED", "FAILED", "CANCELLED");
export type ChallengeStatus = keyof typeof ChallengeStatus;

export const AuthenticatorStatus = closed("ACTIVE", "INACTIVE");
export type AuthenticatorStatus = keyof typeof AuthenticatorStatus;

export const AuthenticatorUsage = closed("MFA_AND_RECOVERY", "RECOVERY_ONLY");
export type AuthenticatorUsage = keyof typeof AuthenticatorUsage;

export const MessageStatus = closed("QUEUED", "SENT", "DELIVERED", "UNDELIVERED", "FAILED", "UNKNOWN");
export type MessageStatus = keyof typeof MessageStatus;

export const SmsEncoding = closed("GSM_7", "UCS_2");
export type SmsEncoding = keyof typeof SmsEncoding;

/** Statuses after which a message changes no more (late receipts are recorded, not applied). */
export const FINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ["DELIVERED", "UNDELIVERED", "FAILED", "UNKNOWN"];

registerEnumType(PhoneMethod, { name: "PhoneMethod" });
registerEnumType(PhoneNumberType, { name: "PhoneNumberType" });
registerEnumType(PhoneRejection, { name: "PhoneRejection" });
registerEnumType(FactorStatus, { name: "FactorStatus" });
registerEnumType(ChallengePurpose, { name: "ChallengePurpose" });
registerEnumType(ChallengeStatus, { name: "ChallengeStatus" });
registerEnumType(AuthenticatorStatus, { name: "AuthenticatorStatus" });
registerEnumType(AuthenticatorUsage, { name: "AuthenticatorUsage" });
registerEnumType(MessageStatus, { name: "MessageStatus" });
registerEnumType(SmsEncoding, { name: "SmsEncoding" });
