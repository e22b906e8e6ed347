// The jobs of a sweep as a table that renders only the rows in view (plus a margin), so a sweep
// of thousands of jobs costs what fifty rows cost. Rows have one fixed height for that.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDuration, formatNumber, formatValue, secondsBetween } from "../lib/format.js";
import { Link } from "../lib/router.js";
import { TERMINAL, earlyStop, stateOf } from "../lib/sweep.js";
import { ProgressBar, StatusBadge } from "./common.js";

const ROW_HEIGHT = 41;
const MARGIN_ROWS = 10;

export function JobTable({ jobs, rankOf, hyperparameters, metrics, objective, selected, onToggle,
                           onToggleAll, now }) {
  const scroller = useRef(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const frame = useRef(0);

  useEffect(() => {
    const observer = new ResizeObserver(() => setViewport(scroller.current.clientHeight || 600));
    observer.observe(scroller.current);
    return () => observer.disconnect();
  }, []);

  function onScroll() {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (scroller.current) setScrollTop(scroller.current.scrollTop);
    });
  }

  const start = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - MARGIN_ROWS);
  const end = Math.min(jobs.length, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + MARGIN_ROWS);
  const visible = jobs.slice(start, end);
  const stoppable = jobs.filter((job) => !TERMINAL.has(job.status));
  const allSelected = stoppable.length > 0 && stoppable.every((job) => selected.has(job.name));
  const columns = 5 + hyperparameters.length + metrics.length + 1;

  return html`
    <div class="table-scroll job-table" ref=${scroller} onScroll=${onScroll} tabindex="0"
      aria-label="Jobs of the sweep, best first">
      <table class="data jobs" data-testid="jobs" aria-rowcount=${jobs.length + 1}>
        <thead>
          <tr aria-rowindex="1">
            <th scope="col" class="select">
              <input type="checkbox" checked=${allSelected} disabled=${stoppable.length === 0}
                onChange=${() => onToggleAll(allSelected ? [] : stoppable.map((job) => job.name))}
                aria-label="Select every job that has not ended" /></th>
            <th scope="col" class="number" title="Rank by the objective">#</th>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            ${hyperparameters.map((name) => html`<th scope="col" class="number hp">${name}</th>`)}
            ${metrics.map((name) => html`<th scope="col" class="number">
              ${name}${objective && name === objective.metric ? (objective.goal === "min" ? " ↓" : " ↑") : ""}</th>`)}
            <th scope="col" class="number">Duration</th>
          </tr>
        </thead>
        <tbody>
          ${start > 0 && html`<tr class="spacer" aria-hidden="true" style=${`height:${start * ROW_HEIGHT}px`}>
            <td colspan=${columns}></td></tr>`}
          ${visible.map((job, offset) => {
            const state = stateOf(job);
            const progress = TERMINAL.has(job.status) && job.status === "Completed" ? 1
              : job.progress && typeof job.progress.progress === "number" ? job.progress.progress : 0;
            const duration = job.started_at ? secondsBetween(job.started_at, job.ended_at || (now && new Date(now).toISOString())) : null;
            return html`
              <tr key=${job.name} data-testid="job-row" data-job=${job.name} data-state=${state}
                aria-rowindex=${start + offset + 2} class=${selected.has(job.name) ? "selected" : ""}>
                <td class="select"><input type="checkbox" checked=${selected.has(job.name)}
                  disabled=${TERMINAL.has(job.status)} onChange=${() => onToggle(job.name)}
                  aria-label=${`Select ${job.name}`} /></td>
                <td class="number">${rankOf(job)}</td>
                <td class="job-name"><${Link} href=${`/jobs/${encodeURIComponent(job.name)}`}>${job.name}</${Link}></td>
                <td><${StatusBadge} state=${state} secondary=${job.secondary_status} early=${earlyStop(job)} /></td>
                <td><${ProgressBar} value=${progress} label=${`Progress of ${job.name}`} /></td>
                ${hyperparameters.map((name) => html`<td class="number hp">${formatValue(job.hyperparameters[name])}</td>`)}
                ${metrics.map((name) => html`<td class="number" data-metric=${name}>${formatNumber(job.metrics ? job.metrics[name] : undefined)}</td>`)}
                <td class="number">${formatDuration(duration)}</td>
              </tr>`;
          })}
          ${end < jobs.length && html`<tr class="spacer" aria-hidden="true"
            style=${`height:${(jobs.length - end) * ROW_HEIGHT}px`}><td colspan=${columns}></td></tr>`}
        </tbody>
      </table>
    </div>`;
}
