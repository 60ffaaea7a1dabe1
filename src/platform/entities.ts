import { ApiToken } from "../auth/api-token.entity";
import { Group, GroupMember } from "../groups/group.entity";
import { LogEventRecord, LogEventTargetRecord } from "../log/log-event.entity";
import { Challenge } from "../phone/challenge.entity";
import { BlockedNumber, CountryOverrideRecord, PhoneAuthenticatorSettings } from "../phone/phone-authenticator.entity";
import { PhoneFactor } from "../phone/phone-factor.entity";
import { Message, MessageAttempt, MessageReceipt } from "../telephony/message.entity";
import { SimulatorMessageRecord, SimulatorRuleRecord } from "../telephony/providers/simulator.entity";
import { PolicyRecord, PolicyRuleRecord } from "../policies/policy.entity";
import { FraudBlockRecord, SecuritySettingsRecord } from "../security/security-settings.entity";
import { RangeNumberRecord, TrafficCounterRecord } from "../security/traffic-counters";
import { SessionRecord } from "../sessions/session.entity";
import { SmsTemplateRecord } from "../templates/sms-template.entity";
import { AuthTransactionRecord } from "../transactions/auth-transaction.entity";
import { PasswordHistoryRecord } from "../users/password-history";
import { User } from "../users/user.entity";

/** Every table the gateway owns; migrations are generated from these. */
export const entities = [
  User,
  Group,
  GroupMember,
  ApiToken,
  PhoneAuthenticatorSettings,
  CountryOverrideRecord,
  BlockedNumber,
  PhoneFactor,
  Challenge,
  Message,
  MessageAttempt,
  MessageReceipt,
  SimulatorMessageRecord,
  SimulatorRuleRecord,
  LogEventRecord,
  LogEventTargetRecord,
  PolicyRecord,
  PolicyRuleRecord,
  SessionRecord,
  AuthTransactionRecord,
  SecuritySettingsRecord,
  FraudBlockRecord,
  TrafficCounterRecord,
  RangeNumberRecord,
  SmsTemplateRecord,
  PasswordHistoryRecord,
];
