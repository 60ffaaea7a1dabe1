import type { Client } from "graphql-ws";
import { LogsDocument, SmsUsageReportDocument, SystemLogDocument, type LogEventFieldsFragment, type LogsQuery } from "../../src/generated/graphql";
import "../shared/base.css";
import { byId } from "../shared/dom";
import { asRequestError, authorizationFor, connect, request, subscribe, type GraphQLRequestError } from "../shared/graphql";
import "./admin.css";
import { DeliveryFunnel, FUNNEL_FILTER, renderFunnelRow, renderFunnelSummary } from "./funnel";
import { LogTable } from "./log-table";
import { renderUsageCharts, renderUsageTable, type ChannelChoice } from "./usage-chart";

/**
 * A live dashboard for admins: the System Log through `systemLog(filter)`, a delivery funnel
 * derived from the same events, and the monthly usage report. Every live part subscribes
 * before it reads its history, so nothing written in between is missed; overlaps are dropped.
 */

/** Per tab, gone with it: an admin token is not left behind in the browser's long-term storage. */
const TOKEN_KEY = "ringfence.admin.token";
const FUNNEL_WINDOW_MS = 24 * 60 * 60 * 1000;
/** A page left open for days still shows only the last 24 hours: messages age out of the window between events too. */
const FUNNEL_AGEING_MS = 60 * 1000;
const FUNNEL_HISTORY_PAGES = 5;
const LOG_HISTORY = 50;
/** Usage is re-read after sends settle, not on every event: it is a month-level aggregate. */
const USAGE_REFRESH_MS = 3000;
/** A live feed the gateway ended (it fell behind, or could not read an event) is opened again after this, doubling each time. */
const RESUBSCRIBE_MS = 2000;
/** Ends in a row after which a panel stops trying and says why. */
const RESUBSCRIBE_TRIES = 5;

/**
 * The gateway ends a feed that fell too far behind (RATE_LIMITED) or could not read an event
 * (INTERNAL) and expects the client to subscribe again and read what it missed: each panel
 * does, after the wait the error names, and longer each time it ends again before anything came
 * through; past RESUBSCRIBE_TRIES it stops and shows the error. Refusals of the token or the
 * filter stay refusals.
 */
function resubscribeAfter(error: GraphQLRequestError, endsInARow: number): number | null {
  if (error.code !== "RATE_LIMITED" && error.code !== "INTERNAL") return null;
  if (endsInARow >= RESUBSCRIBE_TRIES) return null;
  return Math.max(RESUBSCRIBE_MS * 2 ** endsInARow, (error.numberAt("retryAfterSeconds") ?? 0) * 1000);
}

const errorBox = byId("error", HTMLParagraphElement);
const connection = byId("connection", HTMLParagraphElement);
const panels = byId("panels", HTMLDivElement);
const tokenInput = byId("token", HTMLInputElement);
const filterInput = byId("filter", HTMLInputElement);
const logTable = new LogTable(byId("log-rows", HTMLTableSectionElement));

interface Session {
  authorization: string;
  client: Client;
  stopFunnel: () => void;
  stopLog: () => void;
  usageTimer: ReturnType<typeof setTimeout> | null;
}

let session: Session | null = null;
/** Counts start(): one that a newer one overtook while it checked the token gives up. */
let starts = 0;

function setConnection(state: "idle" | "connecting" | "live" | "lost", text: string): void {
  connection.dataset.state = state;
  connection.textContent = text;
}

function showError(error: GraphQLRequestError | string): void {
  errorBox.textContent = typeof error === "string" ? error : error.code === "UNAUTHENTICATED" || error.code === "FORBIDDEN" ? "That token is not an admin token of this gateway." : error.message;
}

async function start(token: string): Promise<void> {
  const attempt = ++starts;
  stop();
  errorBox.textContent = "";
  const authorization = authorizationFor(token);
  if (!authorization) return;
  setConnection("connecting", "Connecting…");
  try {
    // One cheap admin-only read first: a wrong token is told here, not by three failing panels.
    await request(LogsDocument, { first: 1 }, authorization);
  } catch (error) {
    if (attempt !== starts) return;
    setConnection("idle", "Not connected.");
    showError(asRequestError(error));
    return;
  }
  // Connect pressed again, or Forget, while this one checked: the newer word stands, and no
  // second session is left streaming unseen.
  if (attempt !== starts) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  const client = connect(authorization, {
    onConnected: () => setConnection("live", "Connected: streaming live."),
    onClosed: () => session?.client === client && setConnection("lost", "Connection lost; reconnecting…"),
  });
  session = { authorization, client, stopFunnel: () => undefined, stopLog: () => undefined, usageTimer: null };
  panels.hidden = false;
  startFunnel(session);
  startLog(session, filterInput.value);
  void loadUsage(session);
}

function stop(): void {
  if (!session) return;
  const ending = session;
  session = null;
  ending.stopFunnel();
  ending.stopLog();
  if (ending.usageTimer) clearTimeout(ending.usageTimer);
  void ending.client.dispose();
}

// --- Delivery funnel -------------------------------------------------------------------------

/** Counts startFunnel(): an earlier run's history, still being read, does not draw over a newer one. */
let funnelRuns = 0;

function startFunnel(current: Session, endsInARow = 0): void {
  const run = ++funnelRuns;
  const ours = () => session === current && run === funnelRuns;
  let ends = endsInARow;
  const funnel = new DeliveryFunnel();
  const forgetOld = () => funnel.forgetBefore(Date.now() - FUNNEL_WINDOW_MS);
  const render = () => {
    forgetOld();
    const rows = funnel.rows();
    byId("funnel-summary", HTMLDivElement).replaceChildren(renderFunnelSummary(rows));
    const largest = Math.max(1, ...rows.map((row) => row.queued));
    byId("funnel-rows", HTMLTableSectionElement).replaceChildren(...rows.map((row) => renderFunnelRow(row, largest)));
    byId("funnel-empty", HTMLParagraphElement).hidden = rows.length > 0;
  };
  const add = (event: LogEventFieldsFragment, live: boolean) => {
    if (!ours()) return;
    if (live) ends = 0;
    if (!funnel.add(event)) return;
    render();
    if (live) scheduleUsageRefresh(current);
  };
  render();
  const ageing = setInterval(() => {
    if (!ours()) clearInterval(ageing);
    else if (forgetOld()) render();
  }, FUNNEL_AGEING_MS);
  const unsubscribe = subscribe(current.client, SystemLogDocument, { filter: FUNNEL_FILTER }, {
    next: ({ systemLog }) => add(systemLog, true),
    error: (error) => {
      if (!ours()) return;
      const wait = resubscribeAfter(error, ends);
      if (wait === null) return showError(error);
      // Read again from the start of the window: the counts are rebuilt, none counted twice.
      setTimeout(() => ours() && startFunnel(current, ends + 1), wait);
    },
  });
  current.stopFunnel = () => {
    clearInterval(ageing);
    unsubscribe();
  };
  void (async () => {
    const since = new Date(Date.now() - FUNNEL_WINDOW_MS).toISOString();
    let after: string | null = null;
    try {
      for (let page = 0; page < FUNNEL_HISTORY_PAGES && ours(); page += 1) {
        const { logs }: LogsQuery = await request(
          LogsDocument,
          { filter: FUNNEL_FILTER, since, sortOrder: "ASCENDING", first: 1000, after },
          current.authorization,
        );
        for (const edge of logs.edges) add(edge.node, false);
        if (!logs.pageInfo.hasNextPage) break;
        after = logs.pageInfo.endCursor;
      }
    } catch (error) {
      if (ours()) showError(asRequestError(error));
    }
  })();
}

// --- System Log ------------------------------------------------------------------------------

/** Counts startLog(): what an earlier filter's stream or history does once a newer one began is dropped. */
let logRuns = 0;

function startLog(current: Session, text: string, endsInARow = 0): void {
  const run = ++logRuns;
  let ends = endsInARow;
  current.stopLog();
  logTable.clear();
  hideFilterError();
  const filter = text.trim() || null;
  const state = byId("log-state", HTMLParagraphElement);
  state.textContent = filter ? "Streaming the events that match the filter." : "Streaming every event.";
  const ours = () => session === current && run === logRuns;
  let refused = false;
  const refuse = (error: GraphQLRequestError) => {
    if (refused || !ours()) return;
    refused = true;
    unsubscribe();
    const wait = resubscribeAfter(error, ends);
    if (wait !== null) {
      // Subscribed again, then the history read again: what came meanwhile is shown.
      state.textContent = "The live feed was cut off; catching up…";
      setTimeout(() => ours() && startLog(current, text, ends + 1), wait);
      return;
    }
    state.textContent = "";
    if (error.code === "BAD_FILTER") showFilterError(text, error);
    else showError(error);
  };
  const unsubscribe = subscribe(
    current.client,
    SystemLogDocument,
    { filter },
    {
      next: ({ systemLog }) => {
        if (!ours()) return;
        ends = 0;
        logTable.prepend(systemLog);
      },
      error: refuse,
    },
  );
  current.stopLog = unsubscribe;
  void request(LogsDocument, { filter, sortOrder: "DESCENDING", first: LOG_HISTORY }, current.authorization).then(
    ({ logs }) => {
      if (ours() && !refused) for (const edge of logs.edges) logTable.append(edge.node);
    },
    (error: unknown) => refuse(asRequestError(error)),
  );
}

/** BAD_FILTER names the 0-based offset where parsing stopped: show it under the text. */
function showFilterError(text: string, error: GraphQLRequestError): void {
  const position = error.numberAt("position");
  const reason = typeof error.extensions.reason === "string" ? error.extensions.reason : error.message;
  byId("filter-error-text", HTMLParagraphElement).textContent = position === null ? `The filter does not parse: ${reason}.` : `The filter does not parse at position ${position}: ${reason}.`;
  byId("filter-error-where", HTMLPreElement).textContent = position === null ? text : `${text}\n${" ".repeat(Math.min(position, text.length))}^`;
  byId("filter-error", HTMLDivElement).hidden = false;
  filterInput.setAttribute("aria-invalid", "true");
  filterInput.focus();
  if (position !== null) filterInput.setSelectionRange(position, Math.min(text.length, position + 1));
}

function hideFilterError(): void {
  byId("filter-error", HTMLDivElement).hidden = true;
  filterInput.removeAttribute("aria-invalid");
}

// --- Usage report ----------------------------------------------------------------------------

const usageFrom = byId("usage-from", HTMLInputElement);
const usageTo = byId("usage-to", HTMLInputElement);
const usageChannel = byId("usage-channel", HTMLSelectElement);

function monthOf(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}`;
}

function defaultUsageRange(): void {
  const now = new Date();
  usageTo.value = monthOf(now);
  usageFrom.value = monthOf(new Date(now.getFullYear(), now.getMonth() - 5, 1));
}

/** Counts loadUsage(): a slower answer to an earlier range or channel does not draw over a newer one. */
let usageLoads = 0;

async function loadUsage(current: Session): Promise<void> {
  const load = ++usageLoads;
  const ours = () => session === current && load === usageLoads;
  const charts = byId("usage-charts", HTMLDivElement);
  charts.setAttribute("aria-busy", "true");
  try {
    const { smsUsageReport } = await request(SmsUsageReportDocument, { from: usageFrom.value, to: usageTo.value }, current.authorization);
    if (!ours()) return;
    const channel = (usageChannel.value as ChannelChoice) || "SMS";
    charts.replaceChildren(...renderUsageCharts(smsUsageReport.rows, channel));
    renderUsageTable(byId("usage-table", HTMLTableElement), smsUsageReport.rows, channel);
  } catch (error) {
    if (ours()) showError(asRequestError(error));
  } finally {
    if (load === usageLoads) charts.setAttribute("aria-busy", "false");
  }
}

function scheduleUsageRefresh(current: Session): void {
  if (current.usageTimer) return;
  current.usageTimer = setTimeout(() => {
    current.usageTimer = null;
    if (session === current) void loadUsage(current);
  }, USAGE_REFRESH_MS);
}

// --- Wiring ----------------------------------------------------------------------------------

byId("token-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  void start(tokenInput.value);
});

byId("forget", HTMLButtonElement).addEventListener("click", () => {
  starts += 1;
  stop();
  sessionStorage.removeItem(TOKEN_KEY);
  tokenInput.value = "";
  panels.hidden = true;
  setConnection("idle", "Not connected.");
  tokenInput.focus();
});

byId("filter-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  if (session) startLog(session, filterInput.value);
});

byId("usage-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  if (session) void loadUsage(session);
});
usageChannel.addEventListener("change", () => session && void loadUsage(session));

defaultUsageRange();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  tokenInput.value = saved;
  void start(saved);
} else {
  tokenInput.focus();
}
