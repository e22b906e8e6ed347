// Hyperparameters against the objective as parallel coordinates: one vertical axis per swept
// hyperparameter and one for the objective, one line per job, darker the better its objective,
// the best job in green. Lines of jobs without a value yet are grey and stop before the last axis.
import { html } from "htm/preact";
import { useMemo } from "preact/hooks";
import { formatNumber, formatValue } from "../lib/format.js";
import { asNumber, objectiveValue } from "../lib/sweep.js";

const WIDTH = 800;
const HEIGHT = 300;
const TOP = 28;
const BOTTOM = 40;
const SIDE = 80;

// Maps values of one axis to [0, 1] (0 at the bottom). Numbers follow `scaling`, the sweep's
// range's ("logarithmic": log(value); "reverse_logarithmic": log(1 - value), values crowding
// towards 1 spread out; "linear"), or without one (a grid) logarithmically when they are positive
// and span more than a factor of 20, else linearly; anything else by its sorted position.
function makeScale(values, scaling) {
  const present = values.filter((value) => value !== undefined && value !== null);
  const numeric = present.length > 0 && present.every((value) => typeof value === "number");
  if (numeric) {
    const min = Math.min(...present);
    const max = Math.max(...present);
    let kind = "linear";
    if (scaling === "logarithmic" && min > 0) kind = "log";
    else if (scaling === "reverse_logarithmic" && max < 1) kind = "reverse-log";
    else if (scaling === undefined && min > 0 && max / min > 20) kind = "log";
    const f = kind === "log" ? Math.log10 : kind === "reverse-log" ? (x) => -Math.log10(1 - x) : (x) => x;
    const inverse = kind === "log" ? (t) => 10 ** t : kind === "reverse-log" ? (t) => 1 - 10 ** -t : (t) => t;
    const lo = f(min);
    const hi = f(max);
    const position = (value) => (hi === lo ? 0.5 : (f(value) - lo) / (hi - lo));
    const ticks = hi === lo ? [min] : [min, inverse((lo + hi) / 2), max];
    return { position, ticks, log: kind !== "linear", kind, label: formatNumber };
  }
  const keys = [...new Set(present.map((value) => JSON.stringify(value)))].sort();
  const index = new Map(keys.map((key, i) => [key, i]));
  const position = (value) =>
    keys.length === 1 ? 0.5 : index.get(JSON.stringify(value)) / (keys.length - 1);
  const ticks = keys.slice(0, 12).map((key) => JSON.parse(key));
  return { position, ticks, log: false, kind: "category", label: formatValue };
}

function mix(from, to, t) {
  const a = from.match(/\w\w/g).map((h) => parseInt(h, 16));
  const b = to.match(/\w\w/g).map((h) => parseInt(h, 16));
  return `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",")})`;
}

// `scalings` maps a hyperparameter to its range's scaling (lib/sweep.js axisScaling); an axis
// without one decides from its values.
export function ParallelCoordinates({ jobs, names, objective, onSelect, scalings = {} }) {
  const model = useMemo(() => {
    const axes = names.map((name) => ({
      name,
      scale: makeScale(jobs.map((job) => asNumber(job.hyperparameters[name])), scalings[name]),
    }));
    if (objective) {
      axes.push({
        name: objective.metric,
        objective: true,
        scale: makeScale(jobs.map((job) => objectiveValue(job, objective))),
      });
    }
    const values = jobs.map((job) => objectiveValue(job, objective)).filter((v) => v !== undefined);
    const maximize = !objective || objective.goal !== "min";
    const worst = values.length ? (maximize ? Math.min(...values) : Math.max(...values)) : 0;
    const best = values.length ? (maximize ? Math.max(...values) : Math.min(...values)) : 0;
    return { axes, worst, best };
  }, [jobs, names, objective, scalings]);

  if (!names.length) {
    return html`<p class="muted">This sweep varies no hyperparameters: there is nothing to compare.</p>`;
  }
  const { axes, worst, best } = model;
  const x = (i) => SIDE + (axes.length === 1 ? 0 : (i * (WIDTH - 2 * SIDE)) / (axes.length - 1));
  const y = (t) => TOP + (1 - t) * (HEIGHT - TOP - BOTTOM);
  let bestJob = null;
  const lines = [];
  for (const job of jobs) {
    const value = objectiveValue(job, objective);
    const points = [];
    axes.forEach((axis, i) => {
      const raw = axis.objective ? value : asNumber(job.hyperparameters[axis.name]);
      const position = raw === undefined || raw === null ? NaN : axis.scale.position(raw);
      if (Number.isFinite(position)) points.push(`${x(i).toFixed(1)},${y(position).toFixed(1)}`);
    });
    const t = value === undefined || best === worst ? 1 : (value - worst) / (best - worst);
    if (points.length === 0) continue;
    const line = { job, value, d: `M${points.join("L")}`, t };
    if (value !== undefined && value === best && !bestJob) bestJob = line;
    else lines.push(line);
  }
  // Better lines on top.
  lines.sort((a, b) => (a.value === undefined ? -1 : b.value === undefined ? 1 : a.t - b.t));
  const title = (line) => `${line.job.name}` +
    (line.value !== undefined ? `: ${objective.metric} ${formatNumber(line.value)}` : "");
  const select = (line) => onSelect && onSelect(line.job.name);

  return html`
    <div class="plot-scroll">
      <svg class="parallel" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img"
        aria-label=${`Parallel coordinates of ${names.join(", ")}` +
          (objective ? ` against ${objective.metric}` : "")}>
        ${lines.map((line) => html`
          <path d=${line.d} class="pc-line" onClick=${() => select(line)}
            stroke=${line.value === undefined ? "#cbd5e1" : mix("c7d2fe", "1e3a8a", line.t)}
            stroke-width=${line.value === undefined ? 1 : 1.5}><title>${title(line)}</title></path>`)}
        ${bestJob && html`
          <path d=${bestJob.d} class="pc-line pc-best" onClick=${() => select(bestJob)}
            stroke="#16a34a" stroke-width="3"><title>best: ${title(bestJob)}</title></path>`}
        ${axes.map((axis, i) => html`
          <g class="pc-axis" data-axis=${axis.name} data-scale=${axis.scale.kind}>
            <line x1=${x(i)} x2=${x(i)} y1=${TOP} y2=${HEIGHT - BOTTOM} />
            <text x=${x(i)} y=${HEIGHT - BOTTOM + 22} text-anchor="middle" class="pc-name">
              ${axis.name}${axis.scale.kind === "log" ? " (log)" : axis.scale.kind === "reverse-log" ? " (log 1−x)" : ""}${axis.objective ? (objective.goal === "min" ? " ↓" : " ↑") : ""}
            </text>
            ${axis.scale.ticks.map((tick) => html`
              <text x=${x(i) - 6} y=${y(axis.scale.position(tick)) + 4} text-anchor="end"
                class="pc-tick">${axis.scale.label(tick)}</text>`)}
          </g>`)}
      </svg>
    </div>`;
}
