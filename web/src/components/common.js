// Small pieces every page uses.
import { html } from "htm/preact";
import { ApiError } from "../lib/api.js";

// An error as a readable message: the API's code and message, the field it names.
export function ErrorBox({ error, title = "Something went wrong", onDismiss }) {
  if (!error) return null;
  const api = error instanceof ApiError;
  const heading = api && error.status === 0 ? "The server cannot be reached"
    : api && error.status ? `${title}` : title;
  return html`
    <div class="error-box" role="alert" data-testid="error">
      <div class="error-heading">
        <strong>${heading}</strong>
        ${api && error.status > 0 &&
          html`<span class="error-code">${error.code} · HTTP ${error.status}</span>`}
        ${onDismiss && html`<button type="button" class="link-button" onClick=${onDismiss}
          aria-label="Dismiss the error">Dismiss</button>`}
      </div>
      <p class="error-message">${error.message}</p>
      ${api && error.field && html`<p class="error-field">Field: <code>${error.field}</code></p>`}
    </div>`;
}

const STATE_CLASS = {
  Queued: "queued",
  InProgress: "running",
  Stopping: "stopping",
  Completed: "completed",
  Failed: "failed",
  Stopped: "stopped",
};

const STATE_LABEL = { InProgress: "Running" };

// The job's state, and while it runs the SageMaker secondary status (Downloading, Training...).
// A job that early stopping ended (`early`: lib/sweep.js earlyStop) says so with its step, and
// its full reason as the title.
export function StatusBadge({ state, secondary, early }) {
  const label = STATE_LABEL[state] || state;
  const detail = state === "InProgress" && secondary ? secondary
    : early ? `early${early.step ? ` at step ${early.step}` : ""}` : "";
  return html`<span class=${`badge badge-${STATE_CLASS[state] || "queued"}${early ? " badge-early" : ""}`}
    data-state=${state} data-early=${early ? "true" : undefined} title=${early ? early.reason : undefined}
    >${label}${detail && html`<span class="badge-detail"> · ${detail}</span>`}</span>`;
}

export function stateLabel(state) {
  return STATE_LABEL[state] || state;
}

export function ProgressBar({ value, label }) {
  const fraction = Math.min(1, Math.max(0, Number(value) || 0));
  return html`
    <span class="progress">
      <progress max="1" value=${fraction} aria-label=${label}></progress>
      <span class="progress-text">${Math.round(fraction * 100)}%</span>
    </span>`;
}

export function Spinner({ label = "Loading" }) {
  return html`<p class="muted" role="status"><span class="spinner" aria-hidden="true"></span>${label}…</p>`;
}

// "live" / "reconnecting" of an event stream, for people to know the page is current.
export function LiveIndicator({ state }) {
  if (!state) return null;
  const text = state === "live" ? "Live" : state === "reconnecting" ? "Reconnecting…" : "Not live";
  return html`<span class=${`live live-${state}`} role="status" title="The server's event stream">
    <span class="live-dot" aria-hidden="true"></span>${text}</span>`;
}
