// The pure logic behind the sweep pages: reading what people type into the form, counting the
// jobs a grid makes, building the API request, and ranking jobs by the objective.

// "0.1, 0.01" -> [0.1, 0.01]; "true" -> true; "[64, 32]" -> [64, 32]; anything else a string.
export function parseValue(text) {
  const trimmed = text.trim();
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (/^[[{"]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // not JSON: kept as written
    }
  }
  return trimmed;
}

// A job's hyperparameters arrive as SageMaker's strings ("0.1"): numbers again for plotting.
export function asNumber(value) {
  if (typeof value === "string" && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim())) {
    return Number(value);
  }
  return value;
}

// Splits on commas outside brackets and quotes: "1, [2, 3], 'a,b'" has three values.
export function splitValues(text) {
  const values = [];
  let depth = 0;
  let quote = "";
  let current = "";
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"') {
      quote = c;
    } else if (c === "[" || c === "{") {
      depth += 1;
    } else if (c === "]" || c === "}") {
      depth -= 1;
    } else if (c === "," && depth === 0) {
      values.push(current);
      current = "";
      continue;
    }
    current += c;
  }
  values.push(current);
  return values.map((value) => value.trim()).filter((value) => value !== "");
}

export function parseValueList(text) {
  return splitValues(text).map(parseValue);
}

// A command as typed: a JSON array, or words with '...' and "..." quoting and \ escapes.
export function parseCommand(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    const parsed = JSON.parse(trimmed);
    if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === "string")) {
      throw new Error("the command must be a JSON array of strings");
    }
    return parsed;
  }
  const words = [];
  let word = null;
  let quote = "";
  for (let i = 0; i < trimmed.length; i += 1) {
    const c = trimmed[i];
    if (quote) {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"' && i + 1 < trimmed.length) word += trimmed[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word = word ?? "";
    } else if (c === "\\" && i + 1 < trimmed.length) {
      word = (word ?? "") + trimmed[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new Error(`the command has an unclosed ${quote}`);
  if (word !== null) words.push(word);
  return words;
}

// The grid rows that count: a name and at least one value.
export function gridOf(rows) {
  const grid = {};
  for (const row of rows) {
    const name = row.name.trim();
    const values = parseValueList(row.values);
    if (name && values.length) grid[name] = values;
  }
  return grid;
}

// Jobs the grid makes: the product of the value counts (1 with no grid).
export function jobCount(grid) {
  return Object.values(grid).reduce((product, values) => product * values.length, 1);
}

// "KEY=VALUE" lines into an object; blank lines and # comments are skipped.
export function parseEnvironment(text) {
  const environment = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const equals = line.indexOf("=");
    if (equals <= 0) throw new Error(`environment line ${index + 1}: '${line}' is not KEY=VALUE`);
    environment[line.slice(0, equals).trim()] = line.slice(equals + 1);
  }
  return environment;
}

export const STRATEGIES = ["grid", "random", "bayesian", "hyperband"];
export const RANGE_TYPES = ["continuous", "integer", "categorical"];
export const SCALINGS = ["auto", "linear", "logarithmic", "reverse_logarithmic"];

// A number typed into the form, or an Error naming `field`.
function numberOf(text, field, what) {
  const trimmed = String(text).trim();
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) {
    throw Object.assign(new Error(`${what} must be a number, not '${trimmed}'`), { field });
  }
  return Number(trimmed);
}

// The range rows that count (a name) as the API's `ranges` (docs/search.md): continuous and
// integer ranges with min, max and scaling, categorical ones with their values.
export function rangesOf(rows) {
  const ranges = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (!name) continue;
    const field = `ranges.${name}`;
    if (row.type === "categorical") {
      ranges[name] = { type: "categorical", values: parseValueList(row.values) };
    } else {
      ranges[name] = {
        type: row.type,
        min: numberOf(row.min, field, "min"),
        max: numberOf(row.max, field, "max"),
        scaling: row.scaling || "auto",
      };
    }
  }
  return ranges;
}

// How a numeric range is really sampled: "auto" is logarithmic when min > 0 and max spans two
// decades or more (docs/search.md), else linear.
export function resolvedScaling(range) {
  if (!range || range.type === "categorical") return "linear";
  const scaling = range.scaling || "auto";
  if (scaling !== "auto") return scaling;
  return range.min > 0 && range.max >= 100 * range.min ? "logarithmic" : "linear";
}

// The POST /api/v1/sweeps body from the form's state (docs/api.md). Throws Error with a
// `field` for what cannot be read.
export function buildSweepRequest(form) {
  const fail = (field, message) => Object.assign(new Error(message), { field });
  const request = { name: form.name.trim(), executor: form.executor };
  if (form.trainerKind === "image") {
    request.trainer = { image: form.image.trim() };
  } else {
    let command;
    try {
      command = parseCommand(form.command);
    } catch (error) {
      throw fail("trainer", error.message);
    }
    request.trainer = { command };
  }
  request.channels = {};
  for (const [channel, datasetId] of Object.entries(form.channels)) {
    if (datasetId) request.channels[channel] = datasetId;
  }
  const fixed = {};
  for (const row of form.fixed) {
    if (row.name.trim()) fixed[row.name.trim()] = parseValue(row.value);
  }
  if (Object.keys(fixed).length) request.hyperparameters = fixed;
  const strategy = form.strategy || "grid";
  if (strategy === "grid") {
    const grid = gridOf(form.grid);
    if (Object.keys(grid).length) request.grid = grid;
  } else {
    request.strategy = strategy;
    request.ranges = rangesOf(form.ranges);
    if (String(form.maxJobs).trim() !== "") {
      request.max_jobs = numberOf(form.maxJobs, "max_jobs", "max jobs");
    }
    if (String(form.randomSeed).trim() !== "") {
      request.random_seed = numberOf(form.randomSeed, "random_seed", "the random seed");
    }
    if (strategy === "hyperband") {
      const hyperband = { resource: form.hyperband.resource.trim() };
      const optional = [["minResource", "min_resource"], ["maxResource", "max_resource"], ["eta", "eta"]];
      for (const [key, name] of optional) {
        const text = String(form.hyperband[key]).trim();
        if (text !== "") hyperband[name] = numberOf(text, `hyperband.${name}`, name);
      }
      request.hyperband = hyperband;
    }
  }
  if (form.earlyStopping && form.earlyStopping !== "off") request.early_stopping = form.earlyStopping;
  if (form.maxParallel !== "") request.max_parallel = Number(form.maxParallel);
  if (form.maxRuntime !== "") request.max_runtime_seconds = Number(form.maxRuntime);
  let environment;
  try {
    environment = parseEnvironment(form.environment);
  } catch (error) {
    throw fail("environment", error.message);
  }
  if (Object.keys(environment).length) request.environment = environment;
  if (form.objectiveMetric.trim()) {
    request.objective = { metric: form.objectiveMetric.trim(), goal: form.objectiveGoal };
  }
  return request;
}

export const TERMINAL = new Set(["Completed", "Failed", "Stopped"]);

// The state shown for a job: Queued, InProgress, Stopping, Completed, Failed or Stopped.
export function stateOf(job) {
  if (job.queued && !TERMINAL.has(job.status)) return "Queued";
  return job.status;
}

// The objective's value of a job, or undefined.
export function objectiveValue(job, objective) {
  if (!objective || !job.metrics) return undefined;
  const value = job.metrics[objective.metric];
  return typeof value === "number" ? value : undefined;
}

// Best first by the objective; jobs without a value after, in their sweep order.
export function rankJobs(jobs, objective) {
  const sign = objective && objective.goal === "min" ? 1 : -1;
  return [...jobs].sort((a, b) => {
    const va = objectiveValue(a, objective);
    const vb = objectiveValue(b, objective);
    if (va !== undefined && vb !== undefined && va !== vb) return sign * (va - vb);
    if (va !== undefined && vb === undefined) return -1;
    if (va === undefined && vb !== undefined) return 1;
    return a.index - b.index;
  });
}

// The hyperparameters that differ between jobs: a search's ranges (and Hyperband's resource),
// the grid's, or the combinations' keys.
export function sweptNames(spec) {
  if (spec && spec.ranges) {
    const names = Object.keys(spec.ranges);
    if (spec.hyperband && spec.hyperband.resource) names.push(spec.hyperband.resource);
    return names;
  }
  if (spec && spec.grid) return Object.keys(spec.grid);
  if (spec && spec.combinations) {
    const names = new Set();
    for (const combination of spec.combinations) Object.keys(combination).forEach((n) => names.add(n));
    return [...names];
  }
  return [];
}

// Counts by state, and the sweep's progress (ended jobs count 1, running ones their progress).
export function summarize(jobs) {
  const counts = {};
  let done = 0;
  for (const job of jobs) {
    const state = stateOf(job);
    counts[state] = (counts[state] || 0) + 1;
    if (TERMINAL.has(job.status)) done += 1;
    else if (job.progress && typeof job.progress.progress === "number") {
      done += Math.min(1, Math.max(0, job.progress.progress));
    }
  }
  return { counts, progress: jobs.length ? done / jobs.length : 0 };
}

// How a parallel-coordinates axis of hyperparameter `name` is scaled: "logarithmic" or
// "reverse_logarithmic" when the sweep's range is sampled so, "linear" for its other ranges, and
// undefined when the sweep has no range of that name (a grid: the axis decides from the values).
export function axisScaling(spec, name) {
  const range = spec && spec.ranges && spec.ranges[name];
  if (range) return resolvedScaling(range);
  const hyperband = spec && spec.hyperband;
  if (hyperband && hyperband.resource === name) return "logarithmic";  // eta^k rungs
  return undefined;
}

// A job that early stopping ended (docs/search.md): its step and reason, else null. The reason
// reads "Early stopping (median rule): at step 120000 the best loss so far, ...".
export function earlyStop(job) {
  if (job.status !== "Stopped" || !job.stop_reason) return null;
  const match = /\bat step (\S+?)[,:]?\s/.exec(job.stop_reason);
  return { step: match ? match[1] : "", reason: job.stop_reason };
}

// The "best so far" over trials: for each job that Completed with an objective value, in the
// order the search started them, its value at its trial number (index + 1), and the running best.
export function bestSoFar(jobs, objective) {
  if (!objective) return { trials: [], best: [] };
  const maximize = objective.goal !== "min";
  const finished = jobs.filter((job) => job.status === "Completed" &&
    objectiveValue(job, objective) !== undefined).sort((a, b) => a.index - b.index);
  const trials = [];
  const best = [];
  let current;
  for (const job of finished) {
    const value = objectiveValue(job, objective);
    if (current === undefined || (maximize ? value > current : value < current)) current = value;
    trials.push([job.index + 1, value]);
    best.push([job.index + 1, current]);
  }
  return { trials, best };
}
