// Sign-in: the server's API token, kept in this browser (localStorage) until "Sign out".
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, storeToken } from "../lib/api.js";
import { ErrorBox } from "../components/common.js";

export function LoginPage({ onSignedIn, expired }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  useEffect(() => {
    document.title = "Sign in · trainyard";
    input.current.focus();
  }, []);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    storeToken(token.trim());
    try {
      await api("/datasets");
      onSignedIn();
    } catch (caught) {
      storeToken("");
      setError(caught.status === 401
        ? Object.assign(caught, { message: "The server does not accept this token." })
        : caught);
      input.current.focus();
    } finally {
      setBusy(false);
    }
  }

  return html`
    <section class="login">
      <h1>Sign in to trainyard</h1>
      ${expired && html`<p class="notice">The server no longer accepts the stored token: sign in again.</p>`}
      <form onSubmit=${submit} class="card">
        <label for="token">API token</label>
        <input id="token" ref=${input} type="password" autocomplete="current-password"
          value=${token} onInput=${(e) => setToken(e.target.value)} required
          aria-describedby="token-help" aria-invalid=${error ? "true" : undefined} />
        <p id="token-help" class="help">
          The token <code>trainyard server</code> printed at its first start
          (<code>export TRAINYARD_TOKEN=…</code>), or the one given with <code>--token</code>.
          It stays in this browser until you sign out.
        </p>
        <${ErrorBox} error=${error} title="Sign-in failed" />
        <button type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </section>`;
}
