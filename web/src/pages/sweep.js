// A sweep: its jobs live (state, progress, key metrics, duration) ranked by the objective, bulk
// stop, the objective's best so far over trials (with the jobs early stopping ended), the metric
// curves of its jobs overlaid and growing, and hyperparameters against the objective (log axes
// for log-scaled ranges). Loaded once, then kept current by the event stream alone.
import { html } from "htm/preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../lib/api.js";
import { formatDuration, formatNumber, formatTime, formatValue } from "../lib/format.js";
import { Link, navigate } from "../lib/router.js";
import { SweepStore } from "../lib/sweep_store.js";
import { takeSweepFeed } from "../lib/sweep_feed.js";
import { TERMINAL, axisScaling, bestSoFar, earlyStop, objectiveValue, rankJobs, stateOf, summarize,
  sweptNames } from "../lib/sweep.js";
import { ErrorBox, LiveIndicator, ProgressBar, Spinner, stateLabel } from "../components/common.js";
import { JobTable } from "../components/job_table.js";
import { LineChart } from "../components/line_chart.js";
import { ParallelCoordinates } from "../components/parallel_coordinates.js";

const CHART_JOBS = 40;      // curves drawn at once: the best-ranked jobs that have started
const TABLE_METRICS = 4;    // metric columns in the table
const STATES = ["InProgress", "Queued", "Stopping", "Completed", "Failed", "Stopped"];

function metricOrder(names, objective) {
  const rank = (name) => (objective && name === objective.metric ? 0 : name.startsWith("eval_") ? 1 : 2);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

// A value that follows `value` at most once per `ms`, for the costlier views.
function useThrottled(value, ms) {
  const [current, setCurrent] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (value === current) return undefined;
    const wait = Math.max(0, last.current + ms - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      setCurrent(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

// "learning_rate: continuous 1e-05 to 0.1, logarithmic".
function rangeText(name, range) {
  if (range.type === "categorical") return `${name}: one of ${range.values.map(formatValue).join(", ")}`;
  return `${name}: ${range.type} ${formatNumber(range.min)} to ${formatNumber(range.max)}, ${(range.scaling || "auto").replace("_", " ")}`;
}

function SpecSummary({ spec }) {
  const trainer = spec.trainer.image ? `image ${spec.trainer.image}`
    : (spec.trainer.command || []).map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(" ");
  const strategy = spec.strategy || "grid";
  const search = strategy === "grid" ? [
    ["Grid", spec.grid ? Object.entries(spec.grid).map(([k, v]) => `${k}: ${v.map(formatValue).join(", ")}`).join("; ")
      : `${(spec.combinations || []).length} combinations`],
  ] : [
    ["Strategy", strategy],
    ["Ranges", Object.entries(spec.ranges || {}).map(([name, range]) => rangeText(name, range)).join("; ")],
    ["Max jobs", spec.max_jobs],
    ["Random seed", spec.random_seed === undefined ? "chosen by the server" : String(spec.random_seed)],
    ...(spec.hyperband ? [["Hyperband", `${spec.hyperband.resource} from ${spec.hyperband.min_resource} to ${spec.hyperband.max_resource}, eta ${spec.hyperband.eta}`]] : []),
  ];
  const rows = [
    ["Trainer", html`<code>${trainer}</code>`],
    ["Executor", spec.executor],
    ["Channels", Object.entries(spec.channels || {}).map(([c, id]) => `${c}: ${id}`).join(", ") || "none"],
    ["Fixed hyperparameters", Object.entries(spec.hyperparameters || {}).map(([k, v]) => `${k}=${formatValue(v)}`).join(", ") || "none"],
    ...search,
    ["Early stopping", spec.early_stopping === "auto" ? "auto (median rule)" : "off"],
    ["Max parallel", spec.max_parallel || "no limit of its own"],
    ["Max runtime", formatDuration(spec.max_runtime_seconds)],
    ["Environment", Object.keys(spec.environment || {}).join(", ") || "none"],
  ];
  return html`<details class="card spec"><summary>How this sweep was defined</summary>
    <dl>${rows.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl></details>`;
}

export function SweepPage({ id }) {
  const store = useRef(new SweepStore());
  const [sweep, setSweep] = useState(null);
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [live, setLive] = useState("");
  const [version, setVersion] = useState(0);
  const [selected, setSelected] = useState(new Set());
  const [filter, setFilter] = useState("all");
  const [metric, setMetric] = useState("");
  const [showPlots, setShowPlots] = useState(false);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const frame = useRef(0);

  // One re-render per animation frame, however many events arrived in it.
  const bump = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setVersion((v) => v + 1);
    });
  };

  useEffect(() => {
    const feed = takeSweepFeed(id);
    store.current = feed.store;
    const sync = (what) => {
      if (what === "state") setLive(feed.live);
      else if (what === "error") setError(feed.error);
      else if (what === "loaded") {
        document.title = `${feed.sweep.name} · trainyard`;
        setSweep(feed.sweep);
        setVersion((v) => v + 1);  // in the same render as the sweep: the first screen is whole
      } else bump();
    };
    const unsubscribe = feed.subscribe(sync);
    // What the feed did before this page subscribed.
    if (feed.live) sync("state");
    if (feed.error) sync("error");
    else if (feed.sweep) sync("loaded");
    return () => {
      unsubscribe();
      feed.stop();
      cancelAnimationFrame(frame.current);
    };
  }, [id]);

  const jobs = useMemo(() => [...store.current.jobs.values()], [version]);
  const objective = sweep && sweep.spec.objective;
  const ranked = useMemo(() => rankJobs(jobs, objective), [jobs, objective]);
  const rankIndex = useMemo(() => new Map(ranked.map((job, i) => [job.name, i + 1])), [ranked]);
  const { counts, progress } = useMemo(() => summarize(jobs), [jobs]);
  const hyperparameters = useMemo(() => (sweep ? sweptNames(sweep.spec) : []), [sweep]);
  const scalings = useMemo(() => Object.fromEntries(hyperparameters.map((name) =>
    [name, axisScaling(sweep.spec, name)])), [hyperparameters]);
  const stoppedEarly = useMemo(() => jobs.filter((job) => earlyStop(job)).sort((a, b) => a.index - b.index), [jobs]);
  const metricNames = useMemo(() => {
    const names = new Set();
    for (const job of jobs) Object.keys(job.metrics || {}).forEach((name) => names.add(name));
    if (objective) names.add(objective.metric);
    return metricOrder(names, objective);
  }, [jobs, objective]);
  const shown = filter === "all" ? ranked : ranked.filter((job) => stateOf(job) === filter);
  const running = (counts.InProgress || 0) + (counts.Queued || 0) + (counts.Stopping || 0);

  // Preact runs effects once the frame is painted: here the first screen is on it. The UI test
  // reads this mark. The plots follow, so as not to hold it up.
  useEffect(() => {
    if (!sweep) return undefined;
    if (!performance.getEntriesByName("trainyard:sweep-first-render").length) {
      performance.mark("trainyard:sweep-first-render");
    }
    const timer = setTimeout(() => setShowPlots(true), 0);
    return () => clearTimeout(timer);
  }, [sweep]);

  // Durations of running jobs tick while any runs.
  useEffect(() => {
    if (!(counts.InProgress || counts.Stopping)) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [counts.InProgress, counts.Stopping]);

  // Curves: the best-ranked jobs that have started; their history is fetched once each.
  const chartJobs = useMemo(() => ranked.filter((job) => job.started_at || TERMINAL.has(job.status))
    .slice(0, CHART_JOBS), [ranked]);
  useEffect(() => {
    if (!showPlots) return;
    const wanted = chartJobs.filter((job) => !store.current.historyLoaded.has(job.name));
    wanted.forEach((job) => store.current.historyLoaded.add(job.name));
    let index = 0;
    const worker = async () => {
      while (index < wanted.length) {
        const job = wanted[index++];
        try {
          const answer = await api(`/jobs/${encodeURIComponent(job.name)}/metrics`);
          store.current.addPoints(job.name, answer.metrics);
          bump();
        } catch {
          store.current.historyLoaded.delete(job.name);  // tried again at the next change
        }
      }
    };
    for (let i = 0; i < 4; i += 1) worker();
  }, [chartJobs, showPlots]);

  const chartMetric = metric || (metricNames.includes("loss") ? "loss" : metricNames[0] || "");
  const plotVersion = useThrottled(version, 700);
  const series = useMemo(() => chartJobs.map((job, i) => ({
    label: job.name,
    points: store.current.pointsOf(job.name, chartMetric),
    highlight: i === 0 && objectiveValue(job, objective) !== undefined,
  })).filter((one) => one.points.length), [plotVersion, chartMetric, chartJobs.length]);
  // The same vnode while plotVersion stands still: Preact then skips the 1,000 lines entirely.
  const parallel = useMemo(() => html`<${ParallelCoordinates} jobs=${jobs} names=${hyperparameters}
    objective=${objective} scalings=${scalings}
    onSelect=${(name) => navigate(`/jobs/${encodeURIComponent(name)}`)} />`,
  [plotVersion, hyperparameters, objective, scalings]);
  // The objective of each finished trial and the running best (points, then a line).
  const progressSeries = useMemo(() => {
    const { trials, best: running } = bestSoFar(jobs, objective);
    if (!trials.length) return [];
    return [
      { label: objective.metric, points: trials, line: false, color: "#2563eb" },
      { label: "best so far", points: running, color: "#16a34a", highlight: true },
    ];
  }, [plotVersion, objective]);

  function toggle(name) {
    const next = new Set(selected);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelected(next);
  }

  async function act(action) {
    setBusy(true);
    setActionError(null);
    try {
      await action();
    } catch (caught) {
      setActionError(caught);
    } finally {
      setBusy(false);
    }
  }
  const stopSweep = () => act(() => api(`/sweeps/${encodeURIComponent(id)}/stop`, { method: "POST" }));
  const retrySweep = () => act(() => api(`/sweeps/${encodeURIComponent(id)}/retry`, { method: "POST" }));
  const stopSelected = () => act(async () => {
    const names = [...selected];
    const failures = [];
    for (const name of names) {
      try {
        await api(`/jobs/${encodeURIComponent(name)}/stop`, { method: "POST" });
      } catch (caught) {
        failures.push(caught);
      }
    }
    setSelected(new Set());
    if (failures.length) throw failures[0];
  });

  if (error) return html`<section><h1>Sweep ${id}</h1><${ErrorBox} error=${error} title="The sweep could not be loaded" /></section>`;
  if (!sweep) return html`<section><h1>Sweep ${id}</h1><${Spinner} label="Loading the sweep" /></section>`;

  const best = ranked.length && objectiveValue(ranked[0], objective) !== undefined ? ranked[0] : null;
  const selectedLive = [...selected].filter((name) => {
    const job = store.current.jobs.get(name);
    return job && !TERMINAL.has(job.status);
  });

  return html`
    <section>
      <div class="page-head">
        <h1>${sweep.name}</h1>
        <code class="muted">${sweep.id}</code>
        <${LiveIndicator} state=${live} />
      </div>
      <div class="summary card">
        <div class="summary-progress">
          <${ProgressBar} value=${progress} label="Progress of the sweep" />
          <span data-testid="sweep-counts">${jobs.length} jobs:
            ${STATES.filter((s) => counts[s]).map((s) => html` <span class=${`count count-${s}`}>${counts[s]} ${stateLabel(s).toLowerCase()}${
              s === "Stopped" && stoppedEarly.length ? ` (${stoppedEarly.length} early)` : ""}</span>`)}</span>
        </div>
        <div class="summary-meta muted">${`Created ${formatTime(sweep.created_at)} · `}
          ${objective ? html`objective <strong>${objective.metric}</strong> (${objective.goal === "min" ? "lower" : "higher"} is better)` : "no objective"}</div>
        ${best && html`<p class="best" data-testid="best-job">Best so far:${" "}
          <${Link} href=${`/jobs/${encodeURIComponent(best.name)}`}>${best.name}</${Link}>
          ${` with ${objective.metric} `}<strong>${formatNumber(objectiveValue(best, objective))}</strong>
          ${hyperparameters.length ? ` (${hyperparameters.map((n) => `${n}=${formatValue(best.hyperparameters[n])}`).join(", ")})` : ""}</p>`}
        <div class="toolbar">
          <button type="button" class="danger" onClick=${stopSweep} disabled=${busy || running === 0}>Stop the sweep</button>
          <button type="button" class="secondary" onClick=${stopSelected} disabled=${busy || selectedLive.length === 0}>
            Stop selected (${selectedLive.length})</button>
          ${counts.Failed > 0 && html`<button type="button" class="secondary" onClick=${retrySweep} disabled=${busy}>
            Retry failed jobs</button>`}
          <${Link} href="/sweeps/new" class="button secondary">New sweep</${Link}>
        </div>
        <${ErrorBox} error=${actionError} title="The server refused" onDismiss=${() => setActionError(null)} />
      </div>
      <${SpecSummary} spec=${sweep.spec} />

      <div class="section-head">
        <h2>Jobs</h2>
        <label for="state-filter" class="inline-label">Show</label>
        <select id="state-filter" value=${filter} onChange=${(e) => setFilter(e.target.value)}>
          <option value="all">every job (${jobs.length})</option>
          ${STATES.filter((s) => counts[s]).map((s) => html`<option value=${s}>${stateLabel(s).toLowerCase()} (${counts[s]})</option>`)}
        </select>
      </div>
      <${JobTable} jobs=${shown} rankOf=${(job) => rankIndex.get(job.name)} hyperparameters=${hyperparameters}
        metrics=${metricNames.slice(0, TABLE_METRICS)} objective=${objective} selected=${selected}
        onToggle=${toggle} onToggleAll=${(names) => setSelected(new Set(names))} now=${now} />

      <div class="plots">
        ${objective && html`<div class="card plot" data-testid="best-so-far">
          <h2>Best ${objective.metric} so far</h2>
          ${!showPlots ? html`<${Spinner} label="Drawing" />`
            : progressSeries.length === 0 ? html`<p class="muted">No job has completed with ${objective.metric} yet: each appears here as it does.</p>`
            : html`<${LineChart} series=${progressSeries} xLabel="trial"
                label=${`${objective.metric} of ${progressSeries[0].points.length} completed trials by trial number, and the best so far`} />
              <p class="help">A dot per completed job at its trial number (the order the sweep started them), and the best ${objective.metric} up to it (${objective.goal === "min" ? "lower" : "higher"} is better).</p>`}
          ${stoppedEarly.length > 0 && html`
            <h3>Stopped early (${stoppedEarly.length})</h3>
            <ul class="stopped-early" data-testid="stopped-early">
              ${stoppedEarly.map((job) => {
                const stop = earlyStop(job);
                return html`<li data-job=${job.name}><${Link} href=${`/jobs/${encodeURIComponent(job.name)}`}>${job.name}</${Link}>
                  ${stop.step ? ` at step ${stop.step}` : ""}: <span class="muted">${stop.reason}</span></li>`;
              })}
            </ul>`}
        </div>`}
        <div class="card plot">
          <div class="section-head">
            <h2>Metric curves</h2>
            ${metricNames.length > 0 && html`
              <label for="curve-metric" class="inline-label">Metric</label>
              <select id="curve-metric" value=${chartMetric} onChange=${(e) => setMetric(e.target.value)}>
                ${metricNames.map((name) => html`<option value=${name}>${name}</option>`)}
              </select>`}
          </div>
          ${!showPlots ? html`<${Spinner} label="Drawing" />`
            : series.length === 0 ? html`<p class="muted">No ${chartMetric || "metric"} points yet: they appear as the jobs report them.</p>`
            : html`<${LineChart} series=${series} label=${`${chartMetric} of ${series.length} jobs by step`} />
              <p class="help">${series.length} job${series.length === 1 ? "" : "s"}${jobs.length > CHART_JOBS ? `, the ${CHART_JOBS} best-ranked that have started` : ""}; the best is drawn thicker.</p>`}
        </div>
        <div class="card plot">
          <h2>Hyperparameters against ${objective ? objective.metric : "the objective"}</h2>
          ${!showPlots ? html`<${Spinner} label="Drawing" />`
            : html`${parallel}
              <p class="help">One line per job through its values; darker is better, green is the best. Click a line to open its job.</p>`}
        </div>
      </div>
    </section>`;
}
