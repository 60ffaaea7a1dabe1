/** Every System Log event type the gateway writes; docs/events.md describes each. */
export const EventType = {
  SMS_SEND_PHONE_VERIFICATION: "system.sms.send_phone_verification_message",
  SMS_SEND_FACTOR_VERIFY: "system.sms.send_factor_verify_message",
  SMS_SEND_PASSWORD_RESET: "system.sms.send_password_reset_message",
  SMS_SEND_ACCOUNT_UNLOCK: "system.sms.send_account_unlock_message",
  SMS_RECEIVE_STATUS: "system.sms.receive_status",
  VOICE_SEND_PHONE_VERIFICATION: "system.voice.send_phone_verification_call",
  VOICE_SEND_MFA_CHALLENGE: "system.voice.send_mfa_challenge_call",
  VOICE_SEND_PASSWORD_RESET: "system.voice.send_password_reset_call",
  VOICE_SEND_ACCOUNT_UNLOCK: "system.voice.send_account_unlock_call",
  VOICE_RECEIVE_STATUS: "system.voice.receive_status",
  FACTOR_ACTIVATE: "user.mfa.factor.activate",
  FACTOR_DEACTIVATE: "user.mfa.factor.deactivate",
  AUTH_VIA_MFA: "user.authentication.auth_via_mfa",
  SESSION_START: "user.session.start",
  SESSION_END: "user.session.end",
  ACCOUNT_LOCK: "user.account.lock",
  ACCOUNT_UNLOCK: "user.account.unlock",
  ACCOUNT_UNLOCK_BY_ADMIN: "user.account.unlock_by_admin",
  ACCOUNT_RESET_PASSWORD: "user.account.reset_password",
  ACCOUNT_UPDATE_PASSWORD: "user.account.update_password",
  POLICY_EVALUATE_SIGN_ON: "policy.evaluate_sign_on",
  SMS_FRAUD_BLOCKED: "system.sms.fraud_blocked",
  SPEND_CAP_REACHED: "system.sms.spend_cap_reached",
  FACTOR_SUSPEND: "user.mfa.factor.suspend",
  FACTOR_UNSUSPEND: "user.mfa.factor.unsuspend",
  RECOVERY_BY_PHONE_HELD: "user.account.phone_recovery_held",
  // Administration: who changed users, groups, tokens and settings, and when.
  USER_CREATE: "user.lifecycle.create",
  USER_ACTIVATE: "user.lifecycle.activate",
  USER_SUSPEND: "user.lifecycle.suspend",
  USER_UNSUSPEND: "user.lifecycle.unsuspend",
  USER_DEACTIVATE: "user.lifecycle.deactivate",
  USER_DELETE: "user.lifecycle.delete.completed",
  USER_SESSION_CLEAR: "user.session.clear",
  USER_UPDATE_PROFILE: "user.account.update_profile",
  USER_EXPIRE_PASSWORD: "user.account.expire_password",
  GROUP_CREATE: "group.lifecycle.create",
  GROUP_UPDATE: "group.profile.update",
  GROUP_DELETE: "group.lifecycle.delete",
  GROUP_MEMBERSHIP_ADD: "group.user_membership.add",
  GROUP_MEMBERSHIP_REMOVE: "group.user_membership.remove",
  POLICY_CREATE: "policy.lifecycle.create",
  POLICY_UPDATE: "policy.lifecycle.update",
  POLICY_DELETE: "policy.lifecycle.delete",
  API_TOKEN_CREATE: "system.api_token.create",
  API_TOKEN_REVOKE: "system.api_token.revoke",
  AUTHENTICATOR_UPDATE: "security.authenticator.lifecycle.update",
  SMS_TEMPLATE_UPDATE: "system.sms_template.update",
  NUMBER_BLOCK: "security.phone_number.block",
  NUMBER_UNBLOCK: "security.phone_number.unblock",
  FRAUD_BLOCK_LIFT: "security.fraud_block.lift",
  COUNTRY_UPDATE: "system.telephony.country.update",
  SECURITY_SETTINGS_UPDATE: "security.settings.update",
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export type Severity = "DEBUG" | "INFO" | "WARN" | "ERROR";
export type LogResult = "SUCCESS" | "FAILURE" | "SKIPPED" | "ALLOW" | "DENY" | "CHALLENGE" | "UNKNOWN";

const SEND_EVENTS = {
  SMS: {
    PHONE_VERIFICATION: EventType.SMS_SEND_PHONE_VERIFICATION,
    FACTOR_VERIFY: EventType.SMS_SEND_FACTOR_VERIFY,
    PASSWORD_RESET: EventType.SMS_SEND_PASSWORD_RESET,
    ACCOUNT_UNLOCK: EventType.SMS_SEND_ACCOUNT_UNLOCK,
  },
  VOICE: {
    PHONE_VERIFICATION: EventType.VOICE_SEND_PHONE_VERIFICATION,
    FACTOR_VERIFY: EventType.VOICE_SEND_MFA_CHALLENGE,
    PASSWORD_RESET: EventType.VOICE_SEND_PASSWORD_RESET,
    ACCOUNT_UNLOCK: EventType.VOICE_SEND_ACCOUNT_UNLOCK,
  },
} as const;

/** The send_* event of a message: one per message, written with it. */
export function sendEventType(
  channel: "SMS" | "VOICE",
  purpose: "PHONE_VERIFICATION" | "FACTOR_VERIFY" | "PASSWORD_RESET" | "ACCOUNT_UNLOCK",
): EventType {
  return SEND_EVENTS[channel][purpose];
}

export function receiveStatusEventType(channel: "SMS" | "VOICE"): EventType {
  return channel === "SMS" ? EventType.SMS_RECEIVE_STATUS : EventType.VOICE_RECEIVE_STATUS;
}
