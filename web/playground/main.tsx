// Imported first: Monaco must find its workers' environment before GraphiQL loads it.
import "./workers";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { authorizationFor, connect, GRAPHQL_PATH } from "../shared/graphql";
import "./playground.css";

/** Per tab, gone with it: a pasted admin token should not outlive the browser session. */
const STORAGE_KEY = "ringfence.playground.credential";

const DEFAULT_QUERY = `# Ringfence playground: queries and mutations
# go to /graphql over HTTP, subscriptions over
# graphql-ws. Paste an admin or session token
# above to act as it; the book icon on the
# left browses the schema.

query PhoneAuthenticator {
  phoneAuthenticator {
    status
    methods
    codeLength
    resendCooldownSeconds
  }
}

# Admins: each new System Log event, live.
subscription LiveSystemLog {
  systemLog(filter: "eventType sw \\"user.\\"") {
    published
    eventType
    displayMessage
    outcome { result reason }
  }
}
`;

function Playground() {
  const [credential, setCredential] = useState(() => sessionStorage.getItem(STORAGE_KEY) ?? "");
  const [draft, setDraft] = useState(credential);
  const authorization = authorizationFor(credential);

  // One socket per credential: the gateway reads who is asking once, when the socket connects.
  const wsClient = useMemo(() => connect(authorization), [authorization]);
  useEffect(() => () => void wsClient.dispose(), [wsClient]);
  const fetcher = useMemo(
    () =>
      createGraphiQLFetcher({
        url: GRAPHQL_PATH,
        wsClient,
        headers: authorization ? { Authorization: authorization } : {},
        // The gateway answers plain JSON; multipart (@defer) is not offered.
        enableIncrementalDelivery: false,
      }),
    [authorization, wsClient],
  );

  const params = new URLSearchParams(location.search);
  const sharedQuery = params.get("query") ?? undefined;
  const sharedVariables = params.get("variables") ?? undefined;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const value = draft.trim();
    if (value) sessionStorage.setItem(STORAGE_KEY, value);
    else sessionStorage.removeItem(STORAGE_KEY);
    setCredential(value);
  };
  const forget = () => {
    // The token, and what GraphiQL kept of the operations run with it.
    sessionStorage.clear();
    setDraft("");
    setCredential("");
  };

  return (
    <>
      <header className="rf-bar">
        <a className="rf-brand" href="/playground">
          Ringfence <span>playground</span>
        </a>
        <form className="rf-credential" onSubmit={apply}>
          <label htmlFor="rf-credential">Token</label>
          <input
            id="rf-credential"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="admin token or session token"
            aria-describedby="rf-credential-state"
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
          />
          <button type="submit">Use</button>
          <button type="button" className="rf-secondary" onClick={forget} disabled={!credential && !draft}>
            Forget
          </button>
          <span id="rf-credential-state" className="rf-state" role="status">
            {authorization ? `Sending Authorization: ${authorization.split(/\s+/)[0]} ••••` : "Anonymous"}
          </span>
        </form>
        <nav aria-label="Pages">
          <a href="/demo/login">Demo login</a>
          <a href="/admin">Admin dashboard</a>
        </nav>
      </header>
      <main className="rf-graphiql">
        {/* Remounted per credential, so the schema is fetched again as the new caller sees it. */}
        {/* GraphiQL keeps its tabs, variables and history in localStorage unless told otherwise:
            a password or state handle typed into them would outlive the browser. Per tab instead. */}
        <GraphiQL
          key={authorization ?? "anonymous"}
          fetcher={fetcher}
          storage={sessionStorage}
          defaultQuery={DEFAULT_QUERY}
          initialQuery={sharedQuery}
          initialVariables={sharedVariables}
        />
      </main>
    </>
  );
}

createRoot(document.getElementById("root")!).render(<Playground />);
