// New sweep: the trainer and executor, a dataset per channel, fixed hyperparameters, and how the
// jobs are chosen: a grid editor that shows how many jobs the sweep makes before it is submitted,
// or a search (random, bayesian, hyperband) over typed ranges with max jobs, a seed and early
// stopping (docs/search.md).
import { html } from "htm/preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../lib/api.js";
import { formatBytes } from "../lib/format.js";
import { Link, navigate } from "../lib/router.js";
import { RANGE_TYPES, SCALINGS, STRATEGIES, buildSweepRequest, gridOf, jobCount,
  parseValueList } from "../lib/sweep.js";
import { ErrorBox } from "../components/common.js";

const CHANNELS = [
  { name: "training", help: "what the trainer learns from" },
  { name: "evaluation", help: "held-out data for the eval_* metrics" },
  { name: "pretrained", help: "a model to start from (fine-tuning)" },
  { name: "config", help: "a config file for the trainer" },
];
const EXECUTORS = [
  { name: "local", help: "runs the command on the server's machine" },
  { name: "container", help: "runs the image with podman or docker (docs/container.md)" },
  { name: "sagemaker", help: "runs the image on AWS SageMaker (docs/sagemaker.md)" },
];
const MAX_JOBS = 10000;
const STRATEGY_HELP = {
  grid: "every combination of the values listed",
  random: "each range sampled in its scaling, independently for every job",
  bayesian: "TPE: learns from the finished jobs where the objective is best",
  hyperband: "successive halving: many configurations on a small budget, the best given more",
};
const SCALING_HELP = {
  auto: "auto",
  linear: "linear",
  logarithmic: "logarithmic",
  reverse_logarithmic: "reverse logarithmic",
};

function emptyRange(name = "") {
  return { name, type: "continuous", min: "", max: "", scaling: "auto", values: "" };
}

// Kept while the app runs, so that leaving the page and coming back keeps what was typed.
let savedForm = null;

function emptyForm() {
  return {
    name: "",
    trainerKind: "command",
    command: "",
    image: "",
    executor: "local",
    channels: { training: "", evaluation: "", pretrained: "", config: "" },
    fixed: [{ name: "", value: "" }],
    grid: [
      { name: "learning_rate", values: "" },
      { name: "iterations", values: "" },
      { name: "batch_size", values: "" },
    ],
    strategy: "grid",
    ranges: [emptyRange("learning_rate")],
    maxJobs: "",
    randomSeed: "",
    earlyStopping: "off",
    hyperband: { resource: "iterations", minResource: "", maxResource: "", eta: "" },
    maxParallel: "",
    maxRuntime: "",
    environment: "",
    objectiveMetric: "",
    objectiveGoal: "max",
  };
}

// The element a field named in an API error belongs to.
function elementIdOf(field, form) {
  if (!field) return "";
  const [head, rest] = [field.split(".")[0], field.split(".").slice(1).join(".")];
  if (head === "name") return "sweep-name";
  if (head === "trainer") return form.trainerKind === "image" ? "trainer-image" : "trainer-command";
  if (head === "executor") return "executor";
  if (head === "channels") return `channel-${CHANNELS.some((c) => c.name === rest) ? rest : "training"}`;
  if (head === "strategy") return "strategy";
  if (head === "ranges") {
    const index = form.ranges.findIndex((row) => row.name.trim() === rest.split(".")[0]);
    return index >= 0 ? `range-name-${index}` : "range-name-0";
  }
  if (head === "max_jobs") return "max-jobs";
  if (head === "random_seed") return "random-seed";
  if (head === "early_stopping") return "early-stopping";
  if (head === "hyperband") {
    return { min_resource: "hyperband-min", max_resource: "hyperband-max", eta: "hyperband-eta" }[rest] ||
      "hyperband-resource";
  }
  if (head === "grid") {
    const index = form.grid.findIndex((row) => row.name.trim() === rest.split("[")[0]);
    return index >= 0 ? `grid-values-${index}` : "grid-name-0";
  }
  if (head === "hyperparameters") {
    const index = form.fixed.findIndex((row) => row.name.trim() === rest);
    return `fixed-name-${Math.max(index, 0)}`;
  }
  if (head === "max_parallel") return "max-parallel";
  if (head === "max_runtime_seconds") return "max-runtime";
  if (head === "environment") return "environment";
  if (head === "objective") return "objective-metric";
  return "";
}

export function NewSweepPage() {
  const [form, setForm] = useState(savedForm || emptyForm());
  const [datasets, setDatasets] = useState([]);
  const [error, setError] = useState(null);
  const [invalidId, setInvalidId] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = "New sweep · trainyard";
    api("/datasets").then((answer) => setDatasets(answer.datasets), setError);
  }, []);
  useEffect(() => {
    savedForm = form;
  }, [form]);

  const set = (change) => setForm((current) => ({ ...current, ...change }));
  const search = form.strategy !== "grid";
  const grid = useMemo(() => gridOf(form.grid), [form.grid]);
  // A search starts at most max_jobs jobs; a grid exactly its product.
  const jobs = search ? Math.max(0, Math.floor(Number(form.maxJobs) || 0)) : jobCount(grid);
  const jobsText = `${search ? "up to " : ""}${jobs} job${jobs === 1 ? "" : "s"}`;
  const formula = Object.entries(grid).map(([name, values]) => `${values.length} ${name}`).join(" × ");

  function setRow(list, index, change) {
    set({ [list]: form[list].map((row, i) => (i === index ? { ...row, ...change } : row)) });
  }
  function removeRow(list, index) {
    set({ [list]: form[list].filter((_, i) => i !== index) });
  }

  async function submit(event) {
    event.preventDefault();
    setError(null);
    setInvalidId("");
    let request;
    try {
      request = buildSweepRequest(form);
    } catch (problem) {
      setError(problem);
      setInvalidId(elementIdOf(problem.field, form));
      return;
    }
    setBusy(true);
    try {
      const sweep = await api("/sweeps", { method: "POST", body: request });
      savedForm = null;
      navigate(`/sweeps/${encodeURIComponent(sweep.id)}`);
    } catch (problem) {
      setError(problem);
      const id = elementIdOf(problem.field, form);
      setInvalidId(id);
      const element = id && document.getElementById(id);
      if (element) element.focus();
    } finally {
      setBusy(false);
    }
  }

  const invalid = (id) => (id === invalidId ? "true" : undefined);
  const datasetOptions = (channel) => {
    const matching = datasets.filter((d) => d.kind === channel);
    const others = datasets.filter((d) => d.kind !== channel);
    const option = (d) => html`<option value=${d.id}>${d.name} · ${formatBytes(d.size)} · ${d.id}</option>`;
    return html`
      <option value="">— none —</option>
      ${matching.length > 0 && html`<optgroup label=${`${channel} datasets`}>${matching.map(option)}</optgroup>`}
      ${others.length > 0 && html`<optgroup label="Other datasets">${others.map(option)}</optgroup>`}`;
  };

  return html`
    <section>
      <h1>New sweep</h1>
      <form class="sweep-form" onSubmit=${submit} novalidate>
        <fieldset class="card">
          <legend>Sweep</legend>
          <div class="field">
            <label for="sweep-name">Name</label>
            <input id="sweep-name" value=${form.name} onInput=${(e) => set({ name: e.target.value })}
              placeholder="digits" aria-describedby="sweep-name-help" aria-invalid=${invalid("sweep-name")} />
            <p id="sweep-name-help" class="help">Letters, digits and single dashes; it prefixes the job names.</p>
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>Trainer</legend>
          <div class="radio-row" role="radiogroup" aria-label="What runs">
            <label><input type="radio" name="trainer-kind" checked=${form.trainerKind === "command"}
              onChange=${() => set({ trainerKind: "command", executor: "local" })} /> A command</label>
            <label><input type="radio" name="trainer-kind" checked=${form.trainerKind === "image"}
              onChange=${() => set({ trainerKind: "image", executor: form.executor === "local" ? "container" : form.executor })} />
              A container image</label>
          </div>
          ${form.trainerKind === "command" ? html`
            <div class="field">
              <label for="trainer-command">Command</label>
              <input id="trainer-command" class="mono" value=${form.command}
                onInput=${(e) => set({ command: e.target.value })} placeholder="trainyard-example-trainer --verbose"
                aria-describedby="trainer-command-help" aria-invalid=${invalid("trainer-command")} />
              <p id="trainer-command-help" class="help">Words as in a shell ('quotes' work), or a JSON array
                such as <code>["sh", "-c", "python train.py"]</code>. It runs with job.json's path
                in <code>TRAINYARD_JOB_JSON</code>.</p>
            </div>` : html`
            <div class="field">
              <label for="trainer-image">Image</label>
              <input id="trainer-image" class="mono" value=${form.image}
                onInput=${(e) => set({ image: e.target.value })} placeholder="localhost/digits-trainer:latest"
                aria-invalid=${invalid("trainer-image")} />
            </div>`}
          <div class="field">
            <label for="executor">Executor</label>
            <select id="executor" value=${form.executor} onChange=${(e) => set({ executor: e.target.value })}
              aria-describedby="executor-help" aria-invalid=${invalid("executor")}>
              ${EXECUTORS.map((executor) => html`<option value=${executor.name}>${executor.name}: ${executor.help}</option>`)}
            </select>
            <p id="executor-help" class="help">Only the executors the server was started with work; it says
              which when another is chosen.</p>
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>Data</legend>
          <p class="help">A dataset per channel (<${Link} href="/datasets">upload datasets</${Link}>), or none: code that makes or downloads its own data needs no channel.</p>
          <div class="grid-2">
            ${CHANNELS.map((channel) => html`
              <div class="field">
                <label for=${`channel-${channel.name}`}>${channel.name}</label>
                <select id=${`channel-${channel.name}`} value=${form.channels[channel.name]}
                  aria-describedby=${`channel-${channel.name}-help`} aria-invalid=${invalid(`channel-${channel.name}`)}
                  onChange=${(e) => set({ channels: { ...form.channels, [channel.name]: e.target.value } })}>
                  ${datasetOptions(channel.name)}
                </select>
                <p id=${`channel-${channel.name}-help`} class="help">${channel.help}</p>
              </div>`)}
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>Hyperparameters</legend>
          <h3 id="fixed-heading">Fixed (every job)</h3>
          <div class="rows" role="group" aria-labelledby="fixed-heading">
            ${form.fixed.map((row, index) => html`
              <div class="row-edit">
                <label class="visually-hidden" for=${`fixed-name-${index}`}>Fixed hyperparameter ${index + 1} name</label>
                <input id=${`fixed-name-${index}`} class="mono" placeholder="seed" value=${row.name}
                  aria-invalid=${invalid(`fixed-name-${index}`)}
                  onInput=${(e) => setRow("fixed", index, { name: e.target.value })} />
                <label class="visually-hidden" for=${`fixed-value-${index}`}>Fixed hyperparameter ${index + 1} value</label>
                <input id=${`fixed-value-${index}`} class="mono" placeholder="1" value=${row.value}
                  onInput=${(e) => setRow("fixed", index, { value: e.target.value })} />
                <button type="button" class="secondary icon" onClick=${() => removeRow("fixed", index)}
                  aria-label=${`Remove fixed hyperparameter ${row.name || index + 1}`}>✕</button>
              </div>`)}
            <button type="button" class="secondary" onClick=${() => set({ fixed: [...form.fixed, { name: "", value: "" }] })}>
              Add a fixed hyperparameter</button>
          </div>

          <div class="grid-2">
            <div class="field">
              <label for="strategy">Strategy</label>
              <select id="strategy" value=${form.strategy} aria-describedby="strategy-help"
                aria-invalid=${invalid("strategy")} onChange=${(e) => set({ strategy: e.target.value })}>
                ${STRATEGIES.map((name) => html`<option value=${name}>${name}: ${STRATEGY_HELP[name]}</option>`)}
              </select>
              <p id="strategy-help" class="help">How the jobs are chosen (docs/search.md). A search needs ranges and
                max jobs; bayesian and hyperband also the objective below.</p>
            </div>
            <div class="field">
              <label for="early-stopping">Early stopping</label>
              <select id="early-stopping" value=${form.earlyStopping} aria-describedby="early-stopping-help"
                aria-invalid=${invalid("early-stopping")} onChange=${(e) => set({ earlyStopping: e.target.value })}>
                <option value="off">off</option>
                <option value="auto">auto: the median stopping rule</option>
              </select>
              <p id="early-stopping-help" class="help">auto stops a running job whose objective so far is worse than
                the median of the others' at the same step (needs the objective). It keeps its model.</p>
            </div>
          </div>
          ${search ? html`
          <h3 id="ranges-heading">Ranges (each job draws a value from each)</h3>
          <p class="help">Continuous and integer ranges go from min to max in their scaling (logarithmic: as many
            jobs between 1e-5 and 1e-4 as between 1e-2 and 1e-1; auto: logarithmic over two decades or more);
            categorical ones list their values, separated by commas.</p>
          <div class="rows" role="group" aria-labelledby="ranges-heading">
            ${form.ranges.map((row, index) => html`
              <div class="row-edit range-edit" data-testid="range-row">
                <label class="visually-hidden" for=${`range-name-${index}`}>Range ${index + 1} name</label>
                <input id=${`range-name-${index}`} class="mono" placeholder="learning_rate" value=${row.name}
                  aria-invalid=${invalid(`range-name-${index}`)}
                  onInput=${(e) => setRow("ranges", index, { name: e.target.value })} />
                <label class="visually-hidden" for=${`range-type-${index}`}>Type of ${row.name || `range ${index + 1}`}</label>
                <select id=${`range-type-${index}`} value=${row.type}
                  onChange=${(e) => setRow("ranges", index, { type: e.target.value })}>
                  ${RANGE_TYPES.map((type) => html`<option value=${type}>${type}</option>`)}
                </select>
                ${row.type === "categorical" ? html`
                  <label class="visually-hidden" for=${`range-values-${index}`}>Values of ${row.name || `range ${index + 1}`}</label>
                  <input id=${`range-values-${index}`} class="mono wide" placeholder="adam, sgd" value=${row.values}
                    onInput=${(e) => setRow("ranges", index, { values: e.target.value })} />` : html`
                  <label class="visually-hidden" for=${`range-min-${index}`}>Minimum of ${row.name || `range ${index + 1}`}</label>
                  <input id=${`range-min-${index}`} class="mono short" placeholder="min" inputmode="decimal" value=${row.min}
                    onInput=${(e) => setRow("ranges", index, { min: e.target.value })} />
                  <label class="visually-hidden" for=${`range-max-${index}`}>Maximum of ${row.name || `range ${index + 1}`}</label>
                  <input id=${`range-max-${index}`} class="mono short" placeholder="max" inputmode="decimal" value=${row.max}
                    onInput=${(e) => setRow("ranges", index, { max: e.target.value })} />
                  <label class="visually-hidden" for=${`range-scaling-${index}`}>Scaling of ${row.name || `range ${index + 1}`}</label>
                  <select id=${`range-scaling-${index}`} value=${row.scaling}
                    onChange=${(e) => setRow("ranges", index, { scaling: e.target.value })}>
                    ${SCALINGS.map((scaling) => html`<option value=${scaling}>${SCALING_HELP[scaling]}</option>`)}
                  </select>`}
                <button type="button" class="secondary icon" onClick=${() => removeRow("ranges", index)}
                  aria-label=${`Remove range ${row.name || index + 1}`}>✕</button>
              </div>`)}
            <button type="button" class="secondary" onClick=${() => set({ ranges: [...form.ranges, emptyRange()] })}>
              Add a range</button>
          </div>
          <div class="grid-2">
            <div class="field">
              <label for="max-jobs">Max jobs</label>
              <input id="max-jobs" type="number" min="1" inputmode="numeric" value=${form.maxJobs}
                placeholder="20" aria-invalid=${invalid("max-jobs")} aria-describedby="max-jobs-help"
                onInput=${(e) => set({ maxJobs: e.target.value })} />
              <p id="max-jobs-help" class="help">The most jobs the search starts.</p>
            </div>
            <div class="field">
              <label for="random-seed">Random seed</label>
              <input id="random-seed" type="number" min="0" inputmode="numeric" value=${form.randomSeed}
                placeholder="chosen by the server" aria-invalid=${invalid("random-seed")} aria-describedby="random-seed-help"
                onInput=${(e) => set({ randomSeed: e.target.value })} />
              <p id="random-seed-help" class="help">The same seed gives the same suggestions.</p>
            </div>
          </div>
          ${form.strategy === "hyperband" && html`
            <h3 id="hyperband-heading">Hyperband's resource</h3>
            <p class="help">The hyperparameter that carries each job's budget (iterations, epochs): rungs give
              min × eta<sup>k</sup> of it, up to max, and the top 1/eta of each rung go on to the next.</p>
            <div class="grid-4" role="group" aria-labelledby="hyperband-heading">
              ${[["hyperband-resource", "Resource", "resource", "iterations"], ["hyperband-min", "Min resource", "minResource", "1"],
                ["hyperband-max", "Max resource", "maxResource", "27"], ["hyperband-eta", "Eta", "eta", "3"]].map(([id, label, key, placeholder]) => html`
                <div class="field">
                  <label for=${id}>${label}</label>
                  <input id=${id} class="mono" value=${form.hyperband[key]} placeholder=${placeholder}
                    aria-invalid=${invalid(id)}
                    onInput=${(e) => set({ hyperband: { ...form.hyperband, [key]: e.target.value } })} />
                </div>`)}
            </div>`}
          <p class="job-count">
            <output id="job-count" data-testid="job-count" data-count=${jobs} aria-live="polite">${jobsText}</output>
            <span class="muted"> (max jobs: the ${form.strategy} search starts no more)</span>
          </p>` : html`
          <h3 id="grid-heading">Grid (every combination is a job)</h3>
          <p class="help">Values separated by commas: <code>0.1, 0.01</code>. Numbers and true/false stay
            typed; JSON such as <code>[64, 32]</code> is one value. A row without values is left out.</p>
          <div class="rows" role="group" aria-labelledby="grid-heading">
            ${form.grid.map((row, index) => {
              const count = parseValueList(row.values).length;
              return html`
              <div class="row-edit">
                <label class="visually-hidden" for=${`grid-name-${index}`}>Grid parameter ${index + 1} name</label>
                <input id=${`grid-name-${index}`} class="mono" placeholder="dropout" value=${row.name}
                  onInput=${(e) => setRow("grid", index, { name: e.target.value })} />
                <label class="visually-hidden" for=${`grid-values-${index}`}>Values of ${row.name || `grid parameter ${index + 1}`}</label>
                <input id=${`grid-values-${index}`} class="mono wide" value=${row.values}
                  placeholder=${{ learning_rate: "0.1, 0.01", iterations: "200, 400", batch_size: "32, 64" }[row.name] || "0.1, 0.2"}
                  aria-invalid=${invalid(`grid-values-${index}`)}
                  onInput=${(e) => setRow("grid", index, { values: e.target.value })} />
                <span class="muted value-count">${count} value${count === 1 ? "" : "s"}</span>
                <button type="button" class="secondary icon" onClick=${() => removeRow("grid", index)}
                  aria-label=${`Remove grid parameter ${row.name || index + 1}`}>✕</button>
              </div>`;
            })}
            <button type="button" class="secondary" onClick=${() => set({ grid: [...form.grid, { name: "", values: "" }] })}>
              Add a parameter</button>
          </div>
          <p class="job-count">
            <output id="job-count" data-testid="job-count" data-count=${jobs} aria-live="polite">
              ${jobs} job${jobs === 1 ? "" : "s"}</output>
            <span class="muted">${formula ? ` = ${formula}` : " (no grid: one job)"}</span>
            ${jobs > MAX_JOBS && html`<span class="warning"> more than ${MAX_JOBS}, the server's limit</span>`}
          </p>`}
        </fieldset>

        <fieldset class="card">
          <legend>Limits and environment</legend>
          <div class="grid-2">
            <div class="field">
              <label for="max-parallel">Max parallel jobs</label>
              <input id="max-parallel" type="number" min="0" inputmode="numeric" value=${form.maxParallel}
                placeholder="no limit of its own" aria-invalid=${invalid("max-parallel")}
                onInput=${(e) => set({ maxParallel: e.target.value })} />
            </div>
            <div class="field">
              <label for="max-runtime">Max runtime per job (seconds)</label>
              <input id="max-runtime" type="number" min="1" inputmode="numeric" value=${form.maxRuntime}
                placeholder="86400" aria-invalid=${invalid("max-runtime")}
                onInput=${(e) => set({ maxRuntime: e.target.value })} />
            </div>
          </div>
          <div class="field">
            <label for="environment">Environment</label>
            <textarea id="environment" class="mono" rows="3" value=${form.environment}
              placeholder="KEY=VALUE, one per line" aria-invalid=${invalid("environment")}
              onInput=${(e) => set({ environment: e.target.value })}></textarea>
          </div>
        </fieldset>

        <fieldset class="card">
          <legend>Objective</legend>
          <div class="grid-2">
            <div class="field">
              <label for="objective-metric">Metric</label>
              <input id="objective-metric" class="mono" list="metric-names" value=${form.objectiveMetric}
                placeholder="eval_accuracy" aria-invalid=${invalid("objective-metric")}
                onInput=${(e) => set({ objectiveMetric: e.target.value })} />
              <datalist id="metric-names">
                ${["eval_accuracy", "eval_loss", "accuracy", "loss"].map((m) => html`<option value=${m} />`)}
              </datalist>
            </div>
            <div class="field">
              <label for="objective-goal">Goal</label>
              <select id="objective-goal" value=${form.objectiveGoal}
                onChange=${(e) => set({ objectiveGoal: e.target.value })}>
                <option value="max">maximize</option>
                <option value="min">minimize</option>
              </select>
            </div>
          </div>
          <p class="help">Ranks the jobs and names the best one; bayesian and hyperband searches learn from it,
            and early stopping judges it.</p>
        </fieldset>

        <${ErrorBox} error=${error} title="The sweep was not created" />
        <div class="form-actions">
          <button type="submit" disabled=${busy || jobs > MAX_JOBS}>
            ${busy ? "Creating…" : `Create the sweep (${jobsText})`}</button>
          <button type="button" class="secondary" onClick=${() => { setForm(emptyForm()); setError(null); setInvalidId(""); }}>
            Clear the form</button>
        </div>
      </form>
    </section>`;
}
