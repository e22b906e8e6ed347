// A job: its failure reason up front, the status timeline (SageMaker's secondary statuses with
// their times), the log following live, a chart per metric, and its downloads.
import { html } from "htm/preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, download } from "../lib/api.js";
import { followEvents } from "../lib/events.js";
import { formatDuration, formatNumber, formatTime, formatValue, secondsBetween } from "../lib/format.js";
import { Link } from "../lib/router.js";
import { SweepStore } from "../lib/sweep_store.js";
import { TERMINAL, earlyStop, stateOf } from "../lib/sweep.js";
import { ErrorBox, LiveIndicator, ProgressBar, Spinner, StatusBadge } from "../components/common.js";
import { LineChart } from "../components/line_chart.js";

const MAX_LOG_LINES = 5000;
const ARTIFACTS = [
  { artifact: "log", label: "Log", file: "training.log" },
  { artifact: "predictions", label: "Predictions", file: "predictions" },
  { artifact: "model", label: "Model", file: "model.tar.gz" },
  { artifact: "output", label: "Output", file: "output.tar.gz" },
  { artifact: "job.json", label: "job.json", file: "job.json" },
  { artifact: "metrics", label: "Metric points", file: "metrics.jsonl" },
];

function Timeline({ job }) {
  const transitions = job.transitions || [];
  if (!transitions.length) return html`<p class="muted">No status yet.</p>`;
  return html`
    <ol class="timeline" data-testid="timeline">
      ${transitions.map((transition, index) => {
        const current = !transition.end_time && index === transitions.length - 1 && !TERMINAL.has(job.status);
        const seconds = secondsBetween(transition.start_time, transition.end_time);
        return html`
          <li class=${current ? "current" : index === transitions.length - 1 ? `end end-${job.status}` : ""}
            aria-current=${current ? "step" : undefined}>
            <span class="timeline-dot" aria-hidden="true"></span>
            <div>
              <strong>${transition.status}</strong>
              <span class="muted"> ${formatTime(transition.start_time)}${transition.end_time || current
                ? ` · ${formatDuration(seconds)}${current ? " so far" : ""}` : ""}</span>
              ${transition.status_message && html`<div class="timeline-message">${transition.status_message}</div>`}
            </div>
          </li>`;
      })}
    </ol>`;
}

// The log, following live: everything so far, then each new line; the stream ends when the job
// has ended. Scrolls with the log while it is at the bottom.
function LogView({ name }) {
  const [lines, setLines] = useState([]);
  const [state, setState] = useState("");
  const [follow, setFollow] = useState(true);
  const pre = useRef(null);
  const pending = useRef([]);
  const frame = useRef(0);

  useEffect(() => {
    setLines([]);
    const stream = followEvents(`/api/v1/jobs/${encodeURIComponent(name)}/logs?follow=1`, {
      onState: setState,
      onEvent: (event) => {
        if (event.type === "end") {
          stream.stop();
          setState("ended");
          return;
        }
        if (event.type !== "log") return;
        pending.current.push(event.data);
        if (frame.current) return;
        frame.current = requestAnimationFrame(() => {
          frame.current = 0;
          const added = pending.current.splice(0);
          setLines((current) => {
            const next = current.concat(added);
            return next.length > MAX_LOG_LINES ? next.slice(next.length - MAX_LOG_LINES) : next;
          });
        });
      },
    });
    return () => {
      stream.stop();
      cancelAnimationFrame(frame.current);
    };
  }, [name]);

  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines, follow]);

  return html`
    <div class="card">
      <div class="section-head">
        <h2>Log</h2>
        <${LiveIndicator} state=${state === "ended" ? "" : state} />
        ${state === "ended" && html`<span class="muted">complete</span>`}
        <label class="inline-label"><input type="checkbox" checked=${follow}
          onChange=${(e) => setFollow(e.target.checked)} /> Follow the end</label>
      </div>
      <pre class="log" ref=${pre} tabindex="0" role="log" aria-label="The job's log" data-testid="log"
        onScroll=${(e) => {
          const el = e.currentTarget;
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
          if (atBottom !== follow) setFollow(atBottom);
        }}>${lines.length === 0 ? html`<span class="muted">No output yet.</span>`
        : lines.map((line) => html`<span class=${line.stream === "stderr" ? "stderr" : ""}>${line.line + "\n"}</span>`)}</pre>
    </div>`;
}

export function JobPage({ name }) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [live, setLive] = useState("");
  const [version, setVersion] = useState(0);
  const [now, setNow] = useState(Date.now());
  const store = useRef(new SweepStore());
  const refetch = useRef(null);

  useEffect(() => {
    document.title = `${name} · trainyard`;
    let cancelled = false;
    const path = `/jobs/${encodeURIComponent(name)}`;
    const reload = () => api(path).then((answer) => !cancelled && setJob(answer), (e) => !cancelled && setError(e));
    // A status change brings new transitions and times: read the job again (once per burst).
    const reloadSoon = () => {
      clearTimeout(refetch.current);
      refetch.current = setTimeout(reload, 150);
    };
    reload();
    // Read again once the stream is open: what changed before it started is then in the job.
    const stream = followEvents(`/api/v1/events?job=${encodeURIComponent(name)}`, {
      onState: setLive,
      onOpen: reload,
      onEvent: ({ data }) => {
        if (data.type === "job.metrics") {
          store.current.addPoints(name, data.data.metrics || []);
          setJob((current) => current && { ...current, metrics: { ...current.metrics,
            ...Object.fromEntries((data.data.metrics || []).map((p) => [p.name, p.value])) } });
          setVersion((v) => v + 1);
        } else if (data.type === "job.progress") {
          setJob((current) => current && { ...current, progress: data.data });
        } else if (data.type === "job.status") {
          reloadSoon();
        }
      },
    });
    api(`${path}/metrics`).then((answer) => {
      store.current.addPoints(name, answer.metrics);
      setVersion((v) => v + 1);
    }, () => {});
    return () => {
      cancelled = true;
      stream.stop();
      clearTimeout(refetch.current);
    };
  }, [name]);

  const running = job && !TERMINAL.has(job.status) && !job.queued;
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);

  const charts = useMemo(() => {
    const byMetric = store.current.points.get(name);
    if (!byMetric) return [];
    // A metric reported once (eval_accuracy at the end) is a number, not a curve: it is in the
    // latest metrics.
    return [...byMetric.entries()].filter(([, series]) => series.points.length > 1)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([metric, series]) => ({ metric, series: [{ label: metric, points: [...series.points] }] }));
  }, [version]);

  async function stop() {
    setActionError(null);
    try {
      setJob(await api(`/jobs/${encodeURIComponent(name)}/stop`, { method: "POST" }));
    } catch (caught) {
      setActionError(caught);
    }
  }

  async function get(artifact) {
    setActionError(null);
    try {
      await download(`/jobs/${encodeURIComponent(name)}/artifacts/${artifact.artifact}`,
        `${name}-${artifact.file}`);
    } catch (caught) {
      setActionError(caught);
    }
  }

  if (error) return html`<section><h1>${name}</h1><${ErrorBox} error=${error} title="The job could not be loaded" /></section>`;
  if (!job) return html`<section><h1>${name}</h1><${Spinner} label="Loading the job" /></section>`;

  const state = stateOf(job);
  const ended = TERMINAL.has(job.status);
  const progress = job.progress || {};
  const duration = job.started_at ? secondsBetween(job.started_at, job.ended_at || new Date(now).toISOString()) : null;
  const facts = [
    ["Sweep", html`<${Link} href=${`/sweeps/${encodeURIComponent(job.sweep_id)}`}>${job.sweep_id}</${Link}>`],
    ["Executor", job.executor],
    ["Attempt", job.attempt],
    ["Created", formatTime(job.created_at)],
    ["Started", job.started_at ? formatTime(job.started_at) : "not yet"],
    ["Ended", job.ended_at ? formatTime(job.ended_at) : "not yet"],
    ["Duration", formatDuration(duration) || "—"],
    ["Exit code", job.exit_code ?? "—"],
  ];
  // A container job's image as requested, and what exactly ran (REPOSITORY@sha256:...).
  if (job.image_digest) {
    facts.push(["Image", job.image], ["Image digest", html`<code>${job.image_digest}</code>`]);
  }

  return html`
    <section>
      <div class="page-head">
        <h1>${job.name}</h1>
        <${StatusBadge} state=${state} secondary=${job.secondary_status} early=${earlyStop(job)} />
        <${LiveIndicator} state=${live} />
      </div>
      ${job.failure_reason && html`
        <div class="failure" role="alert" data-testid="failure-reason">
          <strong>${job.status === "Failed" ? "Failed" : job.status}: </strong>${job.failure_reason}
        </div>`}
      ${job.stop_reason && html`
        <div class="card stop-reason" data-testid="stop-reason">
          <strong>${job.status === "Stopped" ? "Stopped early" : "Being stopped early"}${
            earlyStop(job) && earlyStop(job).step ? ` at step ${earlyStop(job).step}` : ""}: </strong>${job.stop_reason}
          <p class="help">The sweep's early stopping judged it worse than the others (docs/search.md); its model is kept.</p>
        </div>`}
      <div class="job-top">
        <div class="card">
          <h2>Status</h2>
          <div class="job-progress">
            <${ProgressBar} value=${job.status === "Completed" ? 1 : progress.progress} label="Progress of the job" />
            <span class="muted">${progress.step !== undefined ? `step ${progress.step}${progress.total_steps ? ` of ${progress.total_steps}` : ""}` : ""}
              ${progress.epoch !== undefined ? ` · epoch ${formatNumber(progress.epoch)}` : ""}</span>
          </div>
          ${progress.message && html`<p class="muted">${progress.message}</p>`}
          <${Timeline} job=${job} />
          <dl class="facts">${facts.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>
          ${!ended && html`<button type="button" class="danger" onClick=${stop}
            disabled=${job.status === "Stopping"}>Stop the job</button>`}
        </div>
        <div class="card">
          <h2>Downloads</h2>
          <p class="help">${ended ? "What the job left." : "Available once the job has ended."}</p>
          <div class="downloads">
            ${ARTIFACTS.map((artifact) => html`
              <button type="button" class="secondary" disabled=${!ended}
                data-artifact=${artifact.artifact} onClick=${() => get(artifact)}>${artifact.label}</button>`)}
          </div>
          <${ErrorBox} error=${actionError} title="The server refused" onDismiss=${() => setActionError(null)} />
          <h2>Hyperparameters</h2>
          ${Object.keys(job.hyperparameters || {}).length === 0 ? html`<p class="muted">None.</p>` : html`
          <table class="data compact">
            <tbody>${Object.entries(job.hyperparameters).map(([key, value]) => html`
              <tr><th scope="row">${key}</th><td class="mono">${formatValue(value)}</td></tr>`)}</tbody>
          </table>`}
          <h2>Latest metrics</h2>
          ${Object.keys(job.metrics || {}).length === 0 ? html`<p class="muted">None yet.</p>` : html`
          <table class="data compact" data-testid="job-metrics">
            <tbody>${Object.entries(job.metrics).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => html`
              <tr><th scope="row">${key}</th><td class="number">${formatNumber(value)}</td></tr>`)}</tbody>
          </table>`}
        </div>
      </div>
      ${charts.length > 0 && html`
        <h2>Metrics</h2>
        <div class="plots">
          ${charts.map((chart) => html`
            <div class="card plot" key=${chart.metric}>
              <h3>${chart.metric}</h3>
              <${LineChart} series=${chart.series} height=${200} label=${`${chart.metric} by step`} />
            </div>`)}
        </div>`}
      <${LogView} name=${name} />
    </section>`;
}
