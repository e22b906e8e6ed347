// Sweeps: every sweep, newest first, with its jobs' states; counts follow the event stream.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../lib/api.js";
import { followEvents } from "../lib/events.js";
import { formatTime } from "../lib/format.js";
import { Link } from "../lib/router.js";
import { ErrorBox, LiveIndicator, ProgressBar, Spinner, stateLabel } from "../components/common.js";

const ORDER = ["InProgress", "Queued", "Stopping", "Completed", "Failed", "Stopped"];

function Counts({ counts }) {
  return html`<span class="counts">${ORDER.filter((state) => counts[state]).map((state) => html`
    <span class=${`count count-${state}`}>${counts[state]} ${stateLabel(state).toLowerCase()}</span>`)}</span>`;
}

export function SweepsPage() {
  const [sweeps, setSweeps] = useState(null);
  const [error, setError] = useState(null);
  const [live, setLive] = useState("");
  const pending = useRef(null);

  async function load() {
    try {
      setSweeps((await api("/sweeps")).sweeps);
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }

  useEffect(() => {
    document.title = "Sweeps · trainyard";
    load();
    // A status change anywhere reloads the list, at most once a second.
    const stream = followEvents("/api/v1/events", {
      onState: setLive,
      onEvent: (event) => {
        if (event.type !== "job.status" && event.type !== "job.created") return;
        if (pending.current) return;
        pending.current = setTimeout(() => {
          pending.current = null;
          load();
        }, 1000);
      },
    });
    return () => {
      stream.stop();
      clearTimeout(pending.current);
    };
  }, []);

  return html`
    <section>
      <div class="page-head">
        <h1>Sweeps</h1>
        <${LiveIndicator} state=${live} />
        <${Link} href="/sweeps/new" class="button">New sweep</${Link}>
      </div>
      <${ErrorBox} error=${error} title="The sweeps could not be loaded" />
      ${sweeps === null ? !error && html`<${Spinner} label="Loading the sweeps" />`
        : sweeps.length === 0 ? html`<div class="card empty">
            <p>No sweeps yet. <${Link} href="/datasets">Upload datasets</${Link}>,
            then <${Link} href="/sweeps/new">create a sweep</${Link}>.</p></div>`
        : html`
        <div class="table-scroll">
          <table class="data stack" data-testid="sweeps">
            <thead><tr><th scope="col">Sweep</th><th scope="col">Jobs</th>
              <th scope="col">Done</th><th scope="col">States</th><th scope="col">Objective</th>
              <th scope="col">Created</th></tr></thead>
            <tbody>
              ${sweeps.map((sweep) => {
                const counts = sweep.counts || {};
                const ended = (counts.Completed || 0) + (counts.Failed || 0) + (counts.Stopped || 0);
                const objective = sweep.spec && sweep.spec.objective;
                return html`
                  <tr key=${sweep.id} data-testid="sweep-row">
                    <td><${Link} href=${`/sweeps/${encodeURIComponent(sweep.id)}`}>${sweep.name}</${Link}>
                      <div class="muted small"><code>${sweep.id}</code></div></td>
                    <td data-label="Jobs" class="number">${sweep.job_count}</td>
                    <td data-label="Done"><${ProgressBar} value=${sweep.job_count ? ended / sweep.job_count : 0}
                      label=${`Jobs of ${sweep.name} ended`} /></td>
                    <td data-label="States"><${Counts} counts=${counts} /></td>
                    <td data-label="Objective">${objective ? `${objective.metric} (${objective.goal})` : html`<span class="muted">none</span>`}</td>
                    <td data-label="Created">${formatTime(sweep.created_at)}</td>
                  </tr>`;
              })}
            </tbody>
          </table>
        </div>`}
    </section>`;
}
