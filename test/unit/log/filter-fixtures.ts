import type { LogEventShape, LogEventTargetShape } from "../../../src/log/filter";

/**
 * Events and filters shared by the SQLite and PostgreSQL equivalence tests: for every filter,
 * the compiled SQL must select exactly the events that matchesLogFilter accepts. The events
 * are chosen to sit on the edges of the semantics: NULLs, missing debugContext keys, JSON
 * values of every type, mixed case, non-ASCII text, and LIKE/GLOB metacharacters.
 */

let sequence = 0;

function logEvent(overrides: Partial<LogEventShape>): LogEventShape {
  sequence += 1;
  return {
    uuid: `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    published: new Date(Date.UTC(2024, 0, 1) + sequence * 86_400_000),
    eventType: "user.session.start",
    severity: "INFO",
    displayMessage: "User login to Okta",
    actor: { id: "00u1", type: "User", alternateId: "alice@example.com", displayName: "Alice" },
    target: [],
    outcome: { result: "SUCCESS" },
    ...overrides,
  };
}

const userTarget = (id: string, extra: Partial<LogEventTargetShape> = {}): LogEventTargetShape => ({
  id,
  type: "User",
  alternateId: `${id}@example.com`,
  displayName: `User ${id}`,
  ...extra,
});

const phoneTarget = (id: string, extra: Partial<LogEventTargetShape> = {}): LogEventTargetShape => ({
  id,
  type: "PhoneNumber",
  alternateId: "+15555550100",
  displayName: "Mobile phone",
  ...extra,
});

export const LOG_EVENT_FIXTURES: readonly LogEventShape[] = [
  logEvent({ transactionId: "tx-1", client: { ipAddress: "10.0.0.1", userAgent: "Mozilla/5.0 (X11)" } }),
  logEvent({ eventType: "User.Session.Start", actor: { id: "00u2", type: "User", alternateId: "ALICE@EXAMPLE.COM" } }),
  logEvent({
    eventType: "system.sms.send",
    severity: "WARN",
    displayMessage: "SMS sent: 50% off",
    target: [phoneTarget("ph1"), userTarget("00u1")],
    debugContext: { count: 3, errorCode: "TIMEOUT" },
  }),
  logEvent({
    eventType: "system.sms.send",
    severity: "ERROR",
    displayMessage: "Rate_limit hit",
    outcome: { result: "FAILURE", reason: "rate_limit" },
    target: [phoneTarget("ph2", { alternateId: null })],
    debugContext: { count: 3.5 },
  }),
  logEvent({
    eventType: "user.authentication.sms",
    displayMessage: "Ünïcödé message",
    outcome: { result: "FAILURE", reason: "INVALID_CODE" },
    debugContext: { count: "3" },
    transactionId: "tx-2",
  }),
  logEvent({ displayMessage: "Path C:\\temp\\x", debugContext: { count: null } }),
  logEvent({ displayMessage: "", debugContext: {} }),
  logEvent({ displayMessage: "Emoji 😀 test", debugContext: { flag: true } }),
  logEvent({ displayMessage: "\uE000 private use", debugContext: { flag: "true" } }),
  logEvent({ displayMessage: "sms 100% über", debugContext: { flag: false } }),
  logEvent({ displayMessage: "😀 first", eventType: "user.session.end" }),
  logEvent({
    severity: "DEBUG",
    displayMessage: "Percent%Under_score",
    outcome: { result: "SKIPPED", reason: "50%" },
    debugContext: { msg: "50%_done" },
  }),
  logEvent({ displayMessage: "sms_x", debugContext: { msg: "a*b?c[d]" } }),
  logEvent({ displayMessage: "SMS X", debugContext: { msg: "A*B?C[D]" } }),
  logEvent({ debugContext: { msg: "a" } }),
  logEvent({ debugContext: { nested: { a: 1 }, list: [1, 2] } }),
  logEvent({ debugContext: { big: 1e21, neg: -2 } }),
  logEvent({ debugContext: { count: 0, Count: 5 } }),
  logEvent({ debugContext: { "1abc": "digit key" } }),
  logEvent({ client: { ipAddress: "FE80::1", userAgent: null } }),
  logEvent({ client: { ipAddress: "10.1.2.3", userAgent: "curl/8.0" }, transactionId: "TX-1" }),
  logEvent({ client: null, actor: { id: "00u3", type: "SystemPrincipal", alternateId: null, displayName: null } }),
  logEvent({
    eventType: "policy.evaluate_sign_on",
    target: [userTarget("00u1"), userTarget("00u2", { alternateId: null })],
    outcome: { result: "FAILURE", reason: "Too many attempts" },
  }),
  logEvent({ eventType: "user.account.lock", target: [userTarget("00u9", { displayName: "Phone person" })] }),
  logEvent({
    eventType: "user.mfa.factor.activate",
    target: [phoneTarget("ph3", { displayName: "Desk phone" }), phoneTarget("ph4", { displayName: null })],
  }),
  logEvent({
    published: new Date("2024-01-15T10:00:00.123Z"),
    actor: { id: "00u1", type: "User", alternateId: "bob@example.com", displayName: "alvin" },
  }),
  logEvent({ published: new Date("2024-03-01T10:00:00.000Z"), actor: { id: "00u4", type: "User", displayName: "ALBERT" } }),
  logEvent({ published: new Date("2024-03-01T10:00:00.001Z"), debugContext: { count: -1 } }),
  logEvent({ published: new Date("2024-05-31T23:59:59.999Z"), severity: "WARN", transactionId: "" }),
  logEvent({ published: new Date("2024-06-01T00:00:00.000Z"), debugContext: { count: 2 ** 53 } }),
  logEvent({ eventType: "zeta.event", displayMessage: "zzz", debugContext: { msg: "Zebra" } }),
  logEvent({ eventType: "alpha.event", displayMessage: "AAA", target: [{ id: "x1", type: "App" }] }),
];

export const EQUIVALENCE_FILTERS: readonly string[] = [
  'eventType eq "user.session.start"',
  'eventType ne "user.session.start"',
  'eventType co "session"',
  'eventType sw "user."',
  'eventType ew ".Start"',
  'eventType gt "system"',
  'eventType le "policy.evaluate_sign_on"',
  'severity eq "ERROR" or severity eq "WARN"',
  'not (severity eq "INFO")',
  'displayMessage eq "user login to okta"',
  'displayMessage co "50%"',
  'displayMessage co "_"',
  'displayMessage co "%under_"',
  'displayMessage co "\\\\"',
  'displayMessage sw "sms"',
  'displayMessage ew "TEST"',
  'displayMessage gt "m"',
  'displayMessage co "ü"',
  'displayMessage co "Ü"',
  'displayMessage lt "\\uE001"',
  'displayMessage eq ""',
  "transactionId pr",
  "transactionId eq null",
  'transactionId ne "tx-1"',
  'not (transactionId eq "tx-1")',
  'transactionId sw "TX"',
  'outcome.reason co "RATE_"',
  'outcome.reason ne "INVALID_CODE"',
  'outcome.reason pr and not (outcome.result eq "SUCCESS")',
  'outcome.reason eq "50%"',
  'actor.alternateId eq "alice@example.com"',
  'actor.alternateId ew "@EXAMPLE.COM"',
  "actor.alternateId eq null",
  'actor.displayName sw "al"',
  'actor.displayName ge "alice"',
  'actor.type ne "User"',
  'target.type eq "User"',
  'target.type ne "User"',
  'not (target.type eq "User")',
  "target.alternateId pr",
  "target.alternateId eq null",
  'target.displayName co "phone" and target.type eq "User"',
  'target.id eq "00u1" or actor.id eq "00u2"',
  'target.displayName ne "Mobile Phone"',
  'client.ipAddress sw "10."',
  'client.ipAddress eq "fe80::1"',
  'client.ipAddress ne "10.0.0.1"',
  'client.userAgent co "MOZILLA"',
  "client.userAgent pr",
  'published gt "2024-03-01T10:00:00Z"',
  'published ge "2024-03-01T12:00:00.000+02:00" and published lt "2024-06-01"',
  'published eq "2024-01-15T10:00:00.123Z"',
  'published ne "2024-01-15T10:00:00.123Z" and published le "2024-01-20"',
  "debugContext.count eq 3",
  "debugContext.count gt 1",
  "debugContext.count ge 3.5",
  "debugContext.count lt 0.5",
  'debugContext.count eq "3"',
  "debugContext.count ne 3",
  "debugContext.count pr",
  "debugContext.count eq null",
  "debugContext.count eq 9007199254740993",
  "debugContext.Count pr",
  "debugContext.flag eq true",
  "debugContext.flag ne false",
  'debugContext.flag eq "true"',
  'debugContext.msg co "%_"',
  'debugContext.msg co "*b?"',
  'debugContext.msg sw "a*"',
  'debugContext.msg ew "[d]"',
  'debugContext.msg gt "a"',
  'debugContext.msg lt "a"',
  "debugContext.nested pr",
  'debugContext.nested ne "x" and debugContext.msg ne "a"',
  "debugContext.list pr and debugContext.missing eq null",
  "debugContext.big gt 1e20",
  'debugContext.1abc eq "digit key"',
  'uuid pr and not (eventType eq "zeta.event")',
  'severity eq "INFO" and (eventType sw "user" or displayMessage co "sms")',
  'not not (severity eq "INFO")',
  'not (debugContext.count ge 0 or debugContext.msg pr) and severity ne "DEBUG"',
];

export interface LogEventRow {
  uuid: string;
  published: number;
  event_type: string;
  severity: string;
  display_message: string;
  actor_id: string;
  actor_type: string;
  actor_alternate_id: string | null;
  actor_display_name: string | null;
  outcome_result: string;
  outcome_reason: string | null;
  client_ip: string | null;
  client_user_agent: string | null;
  transaction_id: string | null;
  debug_context: string | null;
}

export interface LogEventTargetRow {
  event_uuid: string;
  position: number;
  id: string;
  type: string;
  alternate_id: string | null;
  display_name: string | null;
}

export function logEventRow(event: LogEventShape): LogEventRow {
  return {
    uuid: event.uuid,
    published: event.published.getTime(),
    event_type: event.eventType,
    severity: event.severity,
    display_message: event.displayMessage,
    actor_id: event.actor.id,
    actor_type: event.actor.type,
    actor_alternate_id: event.actor.alternateId ?? null,
    actor_display_name: event.actor.displayName ?? null,
    outcome_result: event.outcome.result,
    outcome_reason: event.outcome.reason ?? null,
    client_ip: event.client?.ipAddress ?? null,
    client_user_agent: event.client?.userAgent ?? null,
    transaction_id: event.transactionId ?? null,
    debug_context: event.debugContext ? JSON.stringify(event.debugContext) : null,
  };
}

export function logEventTargetRows(event: LogEventShape): LogEventTargetRow[] {
  return event.target.map((target, position) => ({
    event_uuid: event.uuid,
    position,
    id: target.id,
    type: target.type,
    alternate_id: target.alternateId ?? null,
    display_name: target.displayName ?? null,
  }));
}
