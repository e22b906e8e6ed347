// trainyard's web UI: the app shell (sign-in, navigation) and the page for the current path.
import { html, render } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api, onUnauthenticated, storeToken, storedToken } from "./lib/api.js";
import { Link, useLocation } from "./lib/router.js";
import { ErrorBox, Spinner } from "./components/common.js";
import { LoginPage } from "./pages/login.js";
import { DatasetsPage } from "./pages/datasets.js";
import { SweepsPage } from "./pages/sweeps.js";
import { NewSweepPage } from "./pages/new_sweep.js";
import { SweepPage } from "./pages/sweep.js";
import { JobPage } from "./pages/job.js";
import { WebhooksPage } from "./pages/webhooks.js";
import { prefetchSweepFeed } from "./lib/sweep_feed.js";
import "./style.css";

// Starting on a sweep's page (a 1,000-job sweep's first screen is the heaviest): its data is on
// the way before the first render.
const startingSweep = /^\/sweeps\/(?!new$)([^/]+)$/.exec(location.pathname);
if (startingSweep && storedToken()) prefetchSweepFeed(decodeURIComponent(startingSweep[1]));

function route(path) {
  let match;
  if (path === "/" || path === "/sweeps") return html`<${SweepsPage} />`;
  if (path === "/sweeps/new") return html`<${NewSweepPage} />`;
  if ((match = /^\/sweeps\/([^/]+)$/.exec(path))) {
    return html`<${SweepPage} id=${decodeURIComponent(match[1])} key=${match[1]} />`;
  }
  if ((match = /^\/jobs\/([^/]+)$/.exec(path))) {
    return html`<${JobPage} name=${decodeURIComponent(match[1])} key=${match[1]} />`;
  }
  if (path === "/datasets") return html`<${DatasetsPage} />`;
  if (path === "/webhooks") return html`<${WebhooksPage} />`;
  return html`
    <section>
      <h1>Not found</h1>
      <p>There is no page at <code>${path}</code>. <${Link} href="/">See the sweeps</${Link}>.</p>
    </section>`;
}

function NavLink({ href, current, children }) {
  const active = href === "/" ? current === "/" || /^\/sweeps\/(?!new)/.test(current)
    : current === href || current.startsWith(href + "/");
  return html`<${Link} href=${href} class=${active ? "nav-link active" : "nav-link"}
    aria-current=${active ? "page" : undefined}>${children}</${Link}>`;
}

function App() {
  const path = useLocation();
  // With a stored token the page shows at once (a refusal brings the sign-in form); without
  // one, "checking" asks the server whether it needs a token at all (--no-auth).
  const [auth, setAuth] = useState(storedToken()
    ? { state: "ok", needsToken: true, error: null }
    : { state: "checking", needsToken: true, error: null });

  async function check() {
    try {
      await api("/datasets");
      setAuth({ state: "ok", needsToken: Boolean(storedToken()), error: null });
    } catch (error) {
      if (error.status === 401) setAuth({ state: "signin", needsToken: true, error: null });
      else setAuth({ state: "error", needsToken: true, error });
    }
  }

  useEffect(() => {
    if (!storedToken()) check();
    // A token refused later on (the server's token changed): sign in again.
    return onUnauthenticated(() => {
      setAuth((current) => {
        if (current.state !== "ok") return current;
        storeToken("");
        return { state: "signin", needsToken: true, error: null, expired: true };
      });
    });
  }, []);

  function signOut() {
    storeToken("");
    setAuth({ state: "signin", needsToken: true, error: null });
  }

  let content;
  if (auth.state === "checking") content = html`<${Spinner} label="Connecting to trainyard" />`;
  else if (auth.state === "signin") {
    content = html`<${LoginPage} expired=${auth.expired}
      onSignedIn=${() => setAuth({ state: "ok", needsToken: true, error: null })} />`;
  } else if (auth.state === "error") {
    content = html`<section><h1>trainyard</h1><${ErrorBox} error=${auth.error}
      title="The server answered with an error" />
      <button type="button" onClick=${check}>Try again</button></section>`;
  } else content = route(path);

  return html`
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="top">
      <${Link} href="/" class="brand" aria-label="trainyard: sweeps">
        <img src="/favicon.svg" alt="" width="22" height="22" /> trainyard
      </${Link}>
      ${auth.state === "ok" && html`
        <nav aria-label="Main">
          <${NavLink} href="/" current=${path}>Sweeps</${NavLink}>
          <${NavLink} href="/sweeps/new" current=${path}>New sweep</${NavLink}>
          <${NavLink} href="/datasets" current=${path}>Datasets</${NavLink}>
          <${NavLink} href="/webhooks" current=${path}>Webhooks</${NavLink}>
        </nav>
        ${auth.needsToken && html`<button type="button" class="sign-out secondary"
          onClick=${signOut}>Sign out</button>`}`}
    </header>
    <main id="main" tabindex="-1">${content}</main>`;
}

render(html`<${App} />`, document.getElementById("app"));
