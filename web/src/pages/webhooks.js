// Webhooks (docs/webhooks.md): create one (URL, events, format, secret), see the secret the
// server made once, list them, open a webhook's delivery log (status, answer code, latency, tries,
// next try), send a delivery again, delete a webhook.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api.js";
import { formatTime } from "../lib/format.js";
import { ErrorBox, Spinner } from "../components/common.js";

export const WEBHOOK_EVENTS = ["job.completed", "job.failed", "job.stopped", "sweep.completed",
  "sweep.best_job"];

function CreateForm({ onCreated }) {
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState(new Set(WEBHOOK_EVENTS));
  const [format, setFormat] = useState("json");
  const [secret, setSecret] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  function toggle(event) {
    const next = new Set(events);
    if (next.has(event)) next.delete(event);
    else next.add(event);
    setEvents(next);
  }

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { url, events: WEBHOOK_EVENTS.filter((event) => events.has(event)), format };
    if (secret) body.secret = secret;
    try {
      const webhook = await api("/webhooks", { method: "POST", body });
      setUrl("");
      setSecret("");
      onCreated(webhook);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card" onSubmit=${submit} aria-label="New webhook">
      <h2>New webhook</h2>
      <div class="field">
        <label for="webhook-url">URL</label>
        <input id="webhook-url" type="url" required placeholder="https://hooks.example.com/trainyard"
          value=${url} onInput=${(e) => setUrl(e.target.value)} />
      </div>
      <fieldset class="field">
        <legend>Events</legend>
        ${WEBHOOK_EVENTS.map((event) => html`
          <label class="checkbox"><input type="checkbox" checked=${events.has(event)}
            onChange=${() => toggle(event)} /> ${event}</label>`)}
      </fieldset>
      <div class="field inline">
        <label for="webhook-format">Format</label>
        <select id="webhook-format" value=${format} onChange=${(e) => setFormat(e.target.value)}>
          <option value="json">JSON (signed)</option>
          <option value="slack">Slack incoming webhook</option>
        </select>
      </div>
      <div class="field">
        <label for="webhook-secret">Signing secret (optional: made by the server when empty)</label>
        <input id="webhook-secret" type="password" autocomplete="new-password" minlength="16"
          value=${secret} onInput=${(e) => setSecret(e.target.value)} />
      </div>
      <${ErrorBox} error=${error} title="The webhook was not created" />
      <button type="submit" disabled=${busy || events.size === 0}>Create webhook</button>
    </form>`;
}

function Deliveries({ webhook }) {
  const [deliveries, setDeliveries] = useState(null);
  const [error, setError] = useState(null);
  async function load() {
    try {
      setDeliveries((await api(`/webhooks/${encodeURIComponent(webhook.id)}/deliveries`)).deliveries);
    } catch (caught) {
      setError(caught);
    }
  }
  useEffect(() => {
    load();
  }, [webhook.id]);
  async function redeliver(delivery) {
    try {
      await api(`/webhooks/${encodeURIComponent(webhook.id)}/deliveries/${encodeURIComponent(delivery.id)}/redeliver`,
        { method: "POST" });
      load();
    } catch (caught) {
      setError(caught);
    }
  }
  if (error) return html`<${ErrorBox} error=${error} title="The deliveries could not be read" />`;
  if (deliveries === null) return html`<${Spinner} label="Loading the deliveries" />`;
  if (deliveries.length === 0) {
    return html`<p class="muted" data-testid="no-deliveries">No deliveries yet: they come when jobs and sweeps end.</p>`;
  }
  return html`
    <div class="table-scroll">
      <table class="data stack" data-testid="deliveries">
        <thead><tr><th scope="col">Event</th><th scope="col">Job</th><th scope="col">Status</th>
          <th scope="col">Tries</th><th scope="col">Answer</th><th scope="col">Latency</th>
          <th scope="col">Next try</th><th scope="col">Error</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          ${deliveries.map((delivery) => html`
            <tr key=${delivery.id} data-testid="delivery-row" data-status=${delivery.status}>
              <td data-label="Event">${delivery.event_type}</td>
              <td data-label="Job">${delivery.job_name || "-"}</td>
              <td data-label="Status">${delivery.status}</td>
              <td data-label="Tries" class="number">${delivery.attempts}</td>
              <td data-label="Answer" class="number">${delivery.response_code ?? "-"}</td>
              <td data-label="Latency" class="number">${delivery.latency_ms == null ? "-" : `${delivery.latency_ms} ms`}</td>
              <td data-label="Next try">${delivery.next_attempt_at ? formatTime(delivery.next_attempt_at) : "-"}</td>
              <td data-label="Error">${delivery.last_error || ""}</td>
              <td class="actions"><button type="button" class="secondary" onClick=${() => redeliver(delivery)}
                aria-label=${`Send delivery ${delivery.id} again`}>Redeliver</button></td>
            </tr>`)}
        </tbody>
      </table>
    </div>`;
}

export function WebhooksPage() {
  const [webhooks, setWebhooks] = useState(null);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [open, setOpen] = useState("");

  async function load() {
    try {
      setWebhooks((await api("/webhooks")).webhooks);
    } catch (caught) {
      setError(caught);
    }
  }
  useEffect(() => {
    document.title = "Webhooks · trainyard";
    load();
  }, []);

  async function remove(webhook) {
    try {
      await api(`/webhooks/${encodeURIComponent(webhook.id)}`, { method: "DELETE" });
      if (open === webhook.id) setOpen("");
      load();
    } catch (caught) {
      setError(caught);
    }
  }

  return html`
    <section>
      <h1>Webhooks</h1>
      <p class="lead">trainyard POSTs a signed message to each webhook when a job completes, fails
        or is stopped, when a sweep ends and when it finds a new best job, with links to the job's
        model, predictions and log.</p>
      <${CreateForm} onCreated=${(webhook) => { setCreated(webhook); load(); }} />
      ${created && html`
        <div class="card" role="status" data-testid="webhook-created">
          <p>Created <code>${created.id}</code>.</p>
          ${created.secret && html`<p>Its signing secret, shown only this once:${" "}
            <code data-testid="webhook-secret">${created.secret}</code></p>`}
        </div>`}
      <${ErrorBox} error=${error} title="The webhooks could not be changed" onDismiss=${() => setError(null)} />
      <h2>All webhooks</h2>
      ${webhooks === null ? html`<${Spinner} label="Loading the webhooks" />`
        : webhooks.length === 0 ? html`<p class="muted">No webhooks yet.</p>`
        : html`
        <div class="table-scroll">
          <table class="data stack" data-testid="webhooks">
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Format</th>
              <th scope="col">Created</th><th scope="col">ID</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${webhooks.map((webhook) => html`
                <tr key=${webhook.id} data-testid="webhook-row" data-id=${webhook.id}>
                  <td data-label="URL"><code>${webhook.url}</code></td>
                  <td data-label="Events">${webhook.events.join(", ")}</td>
                  <td data-label="Format">${webhook.format}</td>
                  <td data-label="Created">${formatTime(webhook.created_at)}</td>
                  <td data-label="ID"><code>${webhook.id}</code></td>
                  <td class="actions">
                    <button type="button" class="secondary" aria-expanded=${open === webhook.id}
                      onClick=${() => setOpen(open === webhook.id ? "" : webhook.id)}
                      aria-label=${`Deliveries of ${webhook.id}`}>Deliveries</button>
                    <button type="button" class="secondary" onClick=${() => remove(webhook)}
                      aria-label=${`Delete ${webhook.id}`}>Delete</button>
                  </td>
                </tr>`)}
            </tbody>
          </table>
        </div>`}
      ${open && html`<h2>Deliveries of <code>${open}</code></h2>
        <${Deliveries} webhook=${{ id: open }} key=${open} />`}
    </section>`;
}
