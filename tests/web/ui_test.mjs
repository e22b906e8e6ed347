// The web UI end to end, in real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core from web/node_modules): the built `trainyard server` with the example trainer
// on its jobs' PATH; sign in, upload the sample data, create a 2x2 sweep and watch it complete
// live, download the model and the predictions, see an API error, create a random search with a
// log-scaled range from the form and see its best-so-far chart and log axis, see a job that early
// stopping ended marked with its step, stop a running sweep, time the first screen of a 1,000-job
// sweep, and a narrow window. Screenshots of every page go to
// $TRAINYARD_BUILD_DIR/test-output/web/.
//
// Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium), as ctest's SKIP_RETURN_CODE.
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CHROMIUM = process.env.TRAINYARD_CHROMIUM || "/usr/bin/chromium";
const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = process.env.TRAINYARD_SOURCE_DIR || path.resolve(here, "../..");
const buildDir = process.env.TRAINYARD_BUILD_DIR || path.join(sourceDir, "build");
const outputDir = path.join(buildDir, "test-output", "web");
// The test guards that a 1,000-job sweep stays usable on a loaded machine; the issue's 1 s target
// is measured by bench/web/first_render.sh (more loads, the 1 s budget; docs/benchmarks.md).
const FIRST_RENDER_LOADS = Number(process.env.TRAINYARD_FIRST_RENDER_LOADS || 3);
const FIRST_RENDER_BUDGET_MS = Number(process.env.TRAINYARD_FIRST_RENDER_BUDGET_MS || 3000);
const started = Date.now();

function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}
function skip(reason) {
  console.log(`SKIPPED: ${reason}`);
  process.exit(77);
}
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

if (!existsSync(CHROMIUM)) {
  skip(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh does)`);
}
const trainyard = path.join(buildDir, "apps", "trainyard");
const trainerDir = path.join(buildDir, "examples", "trainer");
for (const needed of [trainyard, path.join(buildDir, "apps", "trainyard-wrap"),
  path.join(trainerDir, "trainyard-example-trainer"), path.join(buildDir, "web", "index.html")]) {
  if (!existsSync(needed)) throw new Error(`${needed} is missing: build first (make build)`);
}
const requireFromWeb = createRequire(path.join(sourceDir, "web", "package.json"));
let chromium;
try {
  ({ chromium } = requireFromWeb("playwright-core"));
} catch (error) {
  throw new Error(`playwright-core is not in web/node_modules (the web build's npm ci puts it ` +
    `there): ${error.message}`);
}

// --- the server -------------------------------------------------------------------------------

const work = mkdtempSync(path.join(tmpdir(), "trainyard-web-test-"));
const TOKEN = "web-ui-test-" + createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 24);
let server = null;

async function startServer() {
  const child = spawn(trainyard, ["server", "--data-dir", path.join(work, "data"),
    "--listen", "127.0.0.1:0", "--token", TOKEN, "--progress-interval", "1", "--max-running", "4"], {
    env: { ...process.env, PATH: `${trainerDir}:${process.env.PATH}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 20000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`the server exited (${code}):\n${output}`)));
  });
  child.stdout.on("data", (chunk) => (serverLog += chunk));
  child.stderr.on("data", (chunk) => (serverLog += chunk));
  return { child, url };
}
let serverLog = "";

async function apiGet(base, pathname) {
  const response = await fetch(base + pathname, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (!response.ok) throw new Error(`GET ${pathname}: HTTP ${response.status}`);
  return response.json();
}

async function apiPost(base, pathname, body) {
  const response = await fetch(base + pathname, { method: "POST", body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" } });
  if (!response.ok) throw new Error(`POST ${pathname}: HTTP ${response.status}: ${await response.text()}`);
  return response.json();
}

// --- helpers ------------------------------------------------------------------------------------

const screenshots = [];
async function screenshot(page, name) {
  const file = path.join(outputDir, `${String(screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

async function downloadArtifact(page, label, directory) {
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 15000 }),
    page.getByRole("button", { name: label, exact: true }).click(),
  ]);
  const file = path.join(directory, download.suggestedFilename());
  await download.saveAs(file);
  return file;
}

// Fills the new-sweep form; `grid` maps a row's parameter name to its values text; a `strategy`
// other than grid fills `ranges` ({name, type, min, max, scaling}), `maxJobs` and `randomSeed`.
async function fillSweepForm(page, { name, command, channels, fixed = [], grid = {}, maxParallel,
  objective, strategy, ranges = [], maxJobs, randomSeed, earlyStopping }) {
  await page.getByRole("navigation").getByRole("link", { name: "New sweep", exact: true }).click();
  await page.getByRole("heading", { name: "New sweep" }).waitFor();
  await page.getByRole("button", { name: "Clear the form" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Command", { exact: true }).fill(command);
  for (const [channel, id] of Object.entries(channels)) {
    await page.locator(`#channel-${channel}`).selectOption(id);
  }
  for (const [index, [key, value]] of fixed.entries()) {
    if (index > 0) await page.getByRole("button", { name: "Add a fixed hyperparameter" }).click();
    await page.locator(`#fixed-name-${index}`).fill(key);
    await page.locator(`#fixed-value-${index}`).fill(value);
  }
  if (strategy) await page.getByLabel("Strategy", { exact: true }).selectOption(strategy);
  if (earlyStopping) await page.getByLabel("Early stopping", { exact: true }).selectOption(earlyStopping);
  for (const [index, range] of ranges.entries()) {
    if (index >= await page.getByTestId("range-row").count()) {
      await page.getByRole("button", { name: "Add a range" }).click();
    }
    await page.locator(`#range-name-${index}`).fill(range.name);
    await page.locator(`#range-type-${index}`).selectOption(range.type);
    await page.locator(`#range-min-${index}`).fill(String(range.min));
    await page.locator(`#range-max-${index}`).fill(String(range.max));
    await page.locator(`#range-scaling-${index}`).selectOption(range.scaling);
  }
  if (maxJobs !== undefined) await page.getByLabel("Max jobs", { exact: true }).fill(String(maxJobs));
  if (randomSeed !== undefined) await page.getByLabel("Random seed", { exact: true }).fill(String(randomSeed));
  const rows = await page.locator("[id^=grid-name-]").count();
  for (let index = 0; index < rows; index += 1) {
    const rowName = await page.locator(`#grid-name-${index}`).inputValue();
    if (grid[rowName] !== undefined) await page.locator(`#grid-values-${index}`).fill(grid[rowName]);
  }
  if (maxParallel !== undefined) await page.getByLabel("Max parallel jobs").fill(String(maxParallel));
  if (objective) {
    await page.getByLabel("Metric", { exact: true }).fill(objective.metric);
    await page.getByLabel("Goal").selectOption(objective.goal);
  }
}

async function jobCountShown(page) {
  return Number(await page.getByTestId("job-count").getAttribute("data-count"));
}

async function createSweep(page) {
  await page.getByRole("button", { name: /^Create the sweep/ }).click();
  await page.waitForURL(/\/sweeps\/sw-[^/]+$/, { timeout: 15000 });
  await page.getByTestId("job-row").first().waitFor({ timeout: 15000 });
  return new URL(page.url()).pathname.split("/").pop();
}

async function waitForRows(page, state, count, timeout) {
  await page.waitForFunction(({ state, count }) =>
    document.querySelectorAll(`[data-testid=job-row][data-state=${state}]`).length >= count,
  { state, count }, { timeout, polling: 100 });
}

// --- the test -----------------------------------------------------------------------------------

async function staticFileChecks(base) {
  const index = await fetch(base + "/");
  check(index.status === 200, `GET / answers ${index.status}`);
  check(index.headers.get("cache-control") === "no-cache", "index.html is no-cache");
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html);
  check(asset, "index.html names its script");
  const script = await fetch(base + asset[1], { method: "HEAD" });
  check(script.status === 200, `HEAD ${asset[1]} answers ${script.status}`);
  check(script.headers.get("content-type").startsWith("text/javascript"), "scripts are JavaScript");
  check(script.headers.get("cache-control") === "public, max-age=31536000, immutable",
    "hashed assets are immutable");
  const page = await fetch(base + "/sweeps/sw-anything");
  check(page.status === 200 && (await page.text()) === html, "UI paths fall back to index.html");
  check((await fetch(base + "/assets/missing-000.js")).status === 404, "a missing asset is 404");
  check((await fetch(base + "/api/v1/nothing", { headers: { Authorization: `Bearer ${TOKEN}` } }))
    .status === 404, "unknown API paths stay JSON 404s");
  log("static files: /, hashed assets, SPA fallback and 404s as expected");
}

async function run() {
  rmSync(outputDir, { recursive: true, force: true });
  mkdirSync(outputDir, { recursive: true });
  server = await startServer();
  const base = server.url;
  log(`trainyard server at ${base} (data in ${work})`);
  await staticFileChecks(base);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
    acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // The refused token and the invalid sweep are expected 4xx answers; anything else is not.
    if (message.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  const jobListings = [];
  page.on("request", (request) => {
    if (/\/api\/v1\/jobs\?sweep=/.test(request.url())) jobListings.push(request.url());
  });
  const downloads = path.join(work, "downloads");
  mkdirSync(downloads);

  try {
    // Sign in: a wrong token is refused readably, the right one (typed, then Enter) works.
    await page.goto(base + "/");
    await page.getByRole("heading", { name: "Sign in to trainyard" }).waitFor();
    await screenshot(page, "sign-in");
    await page.getByLabel("API token").fill("not-the-token");
    await page.getByLabel("API token").press("Enter");
    await page.getByText("The server does not accept this token.").waitFor();
    await page.getByLabel("API token").fill(TOKEN);
    await page.getByLabel("API token").press("Enter");
    await page.getByRole("heading", { name: "Sweeps" }).waitFor();
    check(await page.evaluate(() => localStorage.getItem("trainyard.token")) === TOKEN,
      "the token is kept in localStorage");
    log("signed in");

    // Datasets: train.csv dropped on the drop zone, eval.csv and the pretrained model chosen.
    await page.getByRole("navigation").getByRole("link", { name: "Datasets", exact: true }).click();
    await page.getByRole("heading", { name: "Datasets", exact: true }).waitFor();
    const digits = path.join(sourceDir, "examples", "data", "digits");
    const trainCsv = path.join(digits, "train.csv");
    const dataTransfer = await page.evaluateHandle(({ text }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], "train.csv", { type: "text/csv" }));
      return transfer;
    }, { text: readFileSync(trainCsv, "utf8") });
    await page.getByTestId("drop-zone").dispatchEvent("drop", { dataTransfer });
    await page.locator("#dataset-files").setInputFiles([path.join(digits, "eval.csv"),
      path.join(digits, "pretrained", "model.json")]);
    await page.waitForFunction(() =>
      document.querySelectorAll("[data-testid=upload][data-state=done]").length === 3 &&
      document.querySelectorAll("[data-testid=dataset-row]").length === 3);
    const ids = {};
    for (const [file, kind] of [["train.csv", "training"], ["eval.csv", "evaluation"],
      ["model.json", "pretrained"]]) {
      const row = page.locator(`[data-testid=dataset-row][data-name="${file}"]`);
      ids[kind] = await row.getAttribute("data-id");
      check(await row.locator("td").nth(1).innerText() === kind, `${file} was guessed ${kind}`);
      const source = file === "model.json" ? path.join(digits, "pretrained", file) : path.join(digits, file);
      check(await row.getByTestId("sha256").innerText() === sha256(source),
        `the SHA-256 shown for ${file} is the file's`);
    }
    check(await page.locator("[data-testid=upload] progress").count() === 3, "a progress bar per file");
    await screenshot(page, "datasets");
    log(`uploaded ${Object.values(ids).join(", ")}; sizes and SHA-256 shown`);

    // A 2x2 sweep; the job count follows the grid as it is typed.
    await fillSweepForm(page, {
      name: "digits", command: "trainyard-example-trainer", channels: ids,
      fixed: [["iterations", "3000"]], grid: { learning_rate: "0.1, 0.02" },
      maxParallel: 2, objective: { metric: "eval_accuracy", goal: "max" },
    });
    check(await jobCountShown(page) === 2, "2 jobs with one swept parameter");
    const batchRow = await page.locator("[id^=grid-name-]").evaluateAll((inputs) =>
      inputs.findIndex((input) => input.value === "batch_size"));
    await page.locator(`#grid-values-${batchRow}`).fill("16, 64");
    check(await jobCountShown(page) === 4, "4 jobs shown before submitting the 2x2 grid");
    await screenshot(page, "new-sweep");
    const listingsBefore = jobListings.length;
    const digitsSweep = await createSweep(page);
    log(`created ${digitsSweep}; watching it live`);
    check(await page.getByTestId("job-row").count() === 4, "4 job rows");
    await page.evaluate(() => { window.__sameDocument = true; });
    await waitForRows(page, "InProgress", 1, 30000);
    await waitForRows(page, "Completed", 4, 180000);
    check(await page.evaluate(() => window.__sameDocument === true), "no reload while watching");
    check(jobListings.length - listingsBefore === 1,
      `the jobs were listed once and followed by events (${jobListings.length - listingsBefore} listings)`);
    await page.getByTestId("best-job").waitFor();
    await page.locator(".plot .uplot").first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll("svg.parallel path.pc-line").length === 4);
    const cells = await page.locator("[data-testid=job-row] td[data-metric=eval_accuracy]").allInnerTexts();
    check(cells.every((text) => Number(text) > 0.5), `eval_accuracy shown for every job: ${cells}`);
    const ranked = cells.map(Number);
    check(ranked.every((value, i) => i === 0 || ranked[i - 1] >= value), "ranked best first");
    await screenshot(page, "sweep-completed");
    log(`all 4 jobs completed live; eval_accuracy ${cells.join(", ")}`);

    // The best job: timeline, log, metrics, downloads.
    await page.getByTestId("best-job").getByRole("link").click();
    await page.waitForURL(/\/jobs\//);
    const jobName = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    await page.getByText("eval_accuracy=").first().waitFor();
    const steps = await page.getByTestId("timeline").locator("li").allInnerTexts();
    for (const status of ["Starting", "Downloading", "Training", "Uploading", "Completed"]) {
      check(steps.some((text) => text.startsWith(status)), `the timeline shows ${status}`);
    }
    // A chart per metric with a curve (loss and accuracy; eval_* are reported once).
    await page.locator(".plot .uplot").nth(1).waitFor();
    await screenshot(page, "job");
    const model = await downloadArtifact(page, "Model", downloads);
    const listing = execFileSync("tar", ["-tzf", model], { encoding: "utf8" });
    check(listing.split("\n").some((entry) => entry.replace(/^\.\//, "") === "model.json"),
      `model.tar.gz holds model.json (${listing.trim()})`);
    const unpacked = path.join(downloads, "model");
    mkdirSync(unpacked);
    execFileSync("tar", ["-xzf", model, "-C", unpacked]);
    const modelJson = JSON.parse(readFileSync(path.join(unpacked, "model.json"), "utf8"));
    check(modelJson.format === "trainyard.example.softmax/v1" && modelJson.weights.length === 10,
      "model.json is the example trainer's model");
    const predictions = await downloadArtifact(page, "Predictions", downloads);
    const lines = readFileSync(predictions, "utf8").trim().split("\n");
    check(lines[0] === "row,label,predicted,confidence", `predictions header: ${lines[0]}`);
    check(lines.length === 1 + 396 || lines.length === 1 + 397, `a prediction per eval row (${lines.length - 1})`);
    const jobJson = JSON.parse(readFileSync(await downloadArtifact(page, "job.json", downloads), "utf8"));
    check(jobJson.hyperparameters.iterations === 3000, "job.json carries the hyperparameters");
    log(`${jobName}: model.tar.gz (model.json), predictions (${lines.length - 1} rows), job.json downloaded`);

    // An invalid sweep: the API's error, readable, on the field it names.
    await fillSweepForm(page, { name: "not a valid name!", command: "trainyard-example-trainer",
      channels: { training: ids.training } });
    await page.getByRole("button", { name: /^Create the sweep/ }).click();
    const error = page.getByTestId("error");
    await error.waitFor();
    const errorText = await error.innerText();
    check(/InvalidArgument · HTTP 400/.test(errorText) && /field 'name'/.test(errorText),
      `the API error is shown: ${errorText}`);
    check(await page.locator("#sweep-name").getAttribute("aria-invalid") === "true",
      "the field named by the error is marked");
    check(await page.evaluate(() => document.activeElement.id) === "sweep-name", "and focused");
    await screenshot(page, "api-error");
    log("the invalid sweep's API error is rendered on its field");

    // A job that fails: its reason up front on its page, its stderr in the log.
    await fillSweepForm(page, { name: "failing", command: '["sh", "-c", "echo boom >&2; exit 3"]',
      channels: { training: ids.training } });
    const failingSweep = await createSweep(page);
    await waitForRows(page, "Failed", 1, 30000);
    await page.getByTestId("job-row").getByRole("link").click();
    const reason = await page.getByTestId("failure-reason").innerText();
    check(/exit/i.test(reason) || /3/.test(reason), `the failure reason is shown: ${reason}`);
    await page.locator("[data-testid=log] .stderr", { hasText: "boom" }).waitFor();
    await screenshot(page, "job-failed");
    log(`${failingSweep}: the failed job shows "${reason.trim()}" and its stderr`);

    // A random search from the form: a log-scaled learning rate, 4 jobs; its spec as typed, the
    // best-so-far chart over its trials, and a log axis for the learning rate.
    // Without max jobs first: the API's refusal names the field, which is marked and focused.
    await fillSweepForm(page, { name: "tune", command: "trainyard-example-trainer", channels: ids,
      fixed: [["iterations", "300"]], strategy: "random", randomSeed: 7, maxParallel: 2,
      ranges: [{ name: "learning_rate", type: "continuous", min: "0.001", max: "1", scaling: "logarithmic" }],
      objective: { metric: "eval_accuracy", goal: "max" } });
    await page.getByRole("button", { name: /^Create the sweep/ }).click();
    const searchError = await page.getByTestId("error").innerText();
    check(/field 'max_jobs'/.test(searchError) && /strategy random/.test(searchError),
      `a search without max jobs is refused naming the field: ${searchError}`);
    check(await page.evaluate(() => document.activeElement.id) === "max-jobs",
      "the max jobs field is focused");
    await page.getByLabel("Max jobs", { exact: true }).fill("4");
    check(await jobCountShown(page) === 4, "up to 4 jobs shown for the search");
    check(await page.getByRole("button", { name: "Create the sweep (up to 4 jobs)" }).count() === 1,
      "the button says the search starts up to 4 jobs");
    await screenshot(page, "new-search");
    const tuneSweep = await createSweep(page);
    const tuneSpec = (await apiGet(base, `/api/v1/sweeps/${tuneSweep}`)).spec;
    check(tuneSpec.strategy === "random" && tuneSpec.max_jobs === 4 && tuneSpec.random_seed === 7 &&
      JSON.stringify(tuneSpec.ranges) === JSON.stringify({ learning_rate: { max: 1, min: 0.001,
        scaling: "logarithmic", type: "continuous" } }), `the search as typed: ${JSON.stringify(tuneSpec)}`);
    await waitForRows(page, "Completed", 4, 180000);
    const tuneJobs = (await apiGet(base, `/api/v1/jobs?sweep=${tuneSweep}`)).jobs;
    const rates = tuneJobs.map((job) => Number(job.hyperparameters.learning_rate));
    check(rates.every((rate) => rate >= 0.001 && rate <= 1) && new Set(rates).size === 4,
      `4 learning rates drawn in the range: ${rates}`);
    await page.getByTestId("best-so-far").locator(".uplot").waitFor();
    check(/best so far/.test(await page.getByTestId("best-so-far").innerText()),
      "the best-so-far chart names its running best");
    const axis = page.locator("svg.parallel g.pc-axis[data-axis=learning_rate]");
    check(await axis.getAttribute("data-scale") === "log", "the learning rate's axis is logarithmic");
    check(/learning_rate \(log\)/.test(await axis.locator(".pc-name").textContent()),
      "and says so");
    await page.waitForFunction(() => document.querySelectorAll("svg.parallel path.pc-line").length === 4);
    await screenshot(page, "search-completed");
    log(`${tuneSweep}: a random search from the form (learning rates ${rates.map((r) => r.toPrecision(3)).join(", ")}); ` +
      "best-so-far chart and a log axis");

    // Early stopping: three jobs that learn, one at a time, then one that learns nothing and
    // would run for minutes; the median rule stops it, and the page marks it with its step.
    const combinations = [0.5, 0.4, 0.3].map((rate) => ({ learning_rate: rate, iterations: 300 }));
    combinations.push({ learning_rate: 1e-9, iterations: 20000000 });
    const stopping = await apiPost(base, "/api/v1/sweeps", { name: "stopping",
      trainer: { command: ["trainyard-example-trainer"] }, channels: { training: ids.training },
      combinations, max_parallel: 1, objective: { metric: "loss", goal: "min" }, early_stopping: "auto" });
    const stoppingSweep = stopping.id;
    await page.goto(`${base}/sweeps/${stoppingSweep}`);
    await page.getByTestId("job-row").first().waitFor();
    const early = page.locator("[data-testid=job-row][data-state=Stopped] [data-early=true]");
    await early.waitFor({ timeout: 180000 });
    const badge = await early.innerText();
    check(/early at step \d+/.test(badge), `the stopped job is marked with its step: ${badge}`);
    check(/^Early stopping \(median rule\): at step/.test(await early.getAttribute("title")),
      "its reason is the badge's title");
    const listed = await page.getByTestId("stopped-early").locator("li").innerText();
    check(/at step \d+: Early stopping \(median rule\)/.test(listed), `and listed under the chart: ${listed}`);
    await page.waitForFunction(() => / \(1 early\)/.test(
      document.querySelector("[data-testid=sweep-counts]").textContent), null, { timeout: 10000 });
    await screenshot(page, "sweep-stopped-early");
    await page.getByTestId("stopped-early").getByRole("link").click();
    const stopReason = await page.getByTestId("stop-reason").innerText();
    check(/^Stopped early at step \d+: Early stopping \(median rule\)/.test(stopReason),
      `the job's page says why it stopped: ${stopReason}`);
    log(`${stoppingSweep}: the job early stopping ended is marked "${badge.trim()}"`);

    // A running sweep, stopped from its page.
    await fillSweepForm(page, { name: "sleepy", command: '["sh", "-c", "sleep 60"]',
      channels: { training: ids.training }, grid: { learning_rate: "0.1, 0.2, 0.3" }, maxParallel: 2 });
    const sleepySweep = await createSweep(page);
    await page.waitForFunction(() => document.querySelector(
      "[data-testid=job-row][data-state=InProgress] .badge-detail")?.textContent.includes("Training"),
    null, { timeout: 30000, polling: 100 });
    await screenshot(page, "sweep-running");
    await page.getByRole("button", { name: "Stop the sweep" }).click();
    await waitForRows(page, "Stopped", 3, 60000);
    await screenshot(page, "sweep-stopped");
    log(`${sleepySweep}: running, stopped from the page, every job Stopped`);

    // 1,000 jobs: the count before submitting, then the first screen of a fresh page load.
    await fillSweepForm(page, { name: "wide", command: '["sh", "-c", "sleep 60"]',
      channels: { training: ids.training }, maxParallel: 1,
      grid: { learning_rate: "1,2,3,4,5,6,7,8,9,10", iterations: "1,2,3,4,5,6,7,8,9,10",
        batch_size: "1,2,3,4,5,6,7,8,9,10" }, objective: { metric: "eval_accuracy", goal: "max" } });
    check(await jobCountShown(page) === 1000, "1000 jobs shown for a 10x10x10 grid");
    const wideSweep = await createSweep(page);
    const wideUrl = page.url();
    const renders = [];
    for (let attempt = 0; attempt < FIRST_RENDER_LOADS; attempt += 1) {
      const before = Date.now();
      await page.goto(wideUrl);
      await page.waitForFunction(() =>
        performance.getEntriesByName("trainyard:sweep-first-render").length > 0, null, { polling: 10 });
      const wall = Date.now() - before;
      const mark = await page.evaluate(() =>
        performance.getEntriesByName("trainyard:sweep-first-render")[0].startTime);
      renders.push({ mark: Math.round(mark), wall });
    }
    const rows = await page.getByTestId("job-row").count();
    check(await page.getByTestId("jobs").getAttribute("aria-rowcount") === "1001", "1000 jobs in the table");
    check(rows > 0 && rows < 100, `only the rows in view are rendered (${rows})`);
    await screenshot(page, "sweep-1000-jobs");
    await page.locator(".job-table").evaluate((element) => { element.scrollTop = element.scrollHeight; });
    await page.locator("[data-testid=job-row]").filter({ hasText: "wide" }).last().waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=job-row] td:nth-child(2)")]
      .some((cell) => cell.textContent.trim() === "1000"));
    const median = [...renders.map((r) => r.mark)].sort((a, b) => a - b)[Math.floor(renders.length / 2)];
    log(`1,000-job sweep ${wideSweep}: first screen at ${renders.map((r) => `${r.mark} ms`).join(", ")} ` +
      `after navigation start (page.goto to mark: ${renders.map((r) => `${r.wall} ms`).join(", ")}); ` +
      `${rows} rows rendered`);
    // The median of the loads: this machine's other work should not decide alone.
    check(median <= FIRST_RENDER_BUDGET_MS,
      `the first screen of 1,000 jobs within ${FIRST_RENDER_BUDGET_MS} ms (median ${median} ms)`);
    await page.getByRole("button", { name: "Stop the sweep" }).click();
    await page.waitForFunction(() => /1000 stopped/.test(
      document.querySelector("[data-testid=sweep-counts]").textContent), null, { timeout: 120000 });
    log("the 1,000-job sweep stopped; its counts followed 1,000 events");

    // A narrow window (a phone): nothing wider than the window but the tables' own scrollers.
    await page.setViewportSize({ width: 390, height: 844 });
    // Each page with what shows it is drawn.
    for (const [where, name, drawn] of [
      [`/sweeps/${digitsSweep}`, "narrow-sweep", "svg.parallel path.pc-line >> nth=3"],
      [`/jobs/${jobName}`, "narrow-job", "text=eval_accuracy="],
      ["/sweeps/new", "narrow-new-sweep", "#job-count"],
      ["/datasets", "narrow-datasets", "[data-testid=dataset-row] >> nth=2"],
      ["/", "narrow-sweeps", "[data-testid=sweep-row] >> nth=3"]]) {
      await page.goto(base + where);
      await page.locator(drawn).waitFor();
      if (where.startsWith("/sweeps/sw-") || where.startsWith("/jobs/")) {
        await page.locator(".plot .uplot").first().waitFor();
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 1, `${where} fits a 390 px window (${overflow} px too wide)`);
      await screenshot(page, name);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(base + "/");
    await page.getByTestId("sweep-row").first().waitFor();
    check(await page.getByTestId("sweep-row").count() === 6, "the six sweeps listed");
    await screenshot(page, "sweeps");

    // Webhooks: a loopback target is refused naming the field; a public one is created with the
    // secret the server made shown once; its (empty) delivery log opens; it is deleted.
    await page.getByRole("navigation").getByRole("link", { name: "Webhooks", exact: true }).click();
    await page.getByRole("heading", { name: "Webhooks", exact: true }).waitFor();
    await page.getByLabel("URL", { exact: true }).fill("http://127.0.0.1:9/hook");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByTestId("error").getByText(/loopback/).waitFor();
    check(await page.getByTestId("error").locator("code", { hasText: "url" }).count() === 1,
      "the refusal names the field url");
    await page.getByLabel("URL", { exact: true }).fill("https://203.0.113.7/hook");
    await page.getByLabel("job.stopped").uncheck();
    await page.getByLabel("Format", { exact: true }).selectOption("slack");
    await page.getByRole("button", { name: "Create webhook" }).click();
    const secret = (await page.getByTestId("webhook-secret").textContent()).trim();
    check(/^[0-9a-f]{64}$/.test(secret), `the secret the server made is shown once (${secret})`);
    await page.getByTestId("webhook-row").first().waitFor();
    const hooks = await apiGet(base, "/api/v1/webhooks");
    check(hooks.webhooks.length === 1 && hooks.webhooks[0].format === "slack" &&
      !hooks.webhooks[0].events.includes("job.stopped") && hooks.webhooks[0].events.length === 4,
      `the webhook as created: ${JSON.stringify(hooks.webhooks)}`);
    check(!JSON.stringify(hooks).includes(secret), "the secret is never listed");
    const hookId = hooks.webhooks[0].id;
    await page.getByRole("button", { name: `Deliveries of ${hookId}` }).click();
    await page.getByTestId("no-deliveries").waitFor();
    await screenshot(page, "webhooks");
    await page.getByRole("button", { name: `Delete ${hookId}` }).click();
    await page.getByText("No webhooks yet.").waitFor();
    check((await apiGet(base, "/api/v1/webhooks")).webhooks.length === 0, "the webhook deleted");
    log("webhooks created, refused, listed and deleted");

    // Sign out: the token is forgotten.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to trainyard" }).waitFor();
    check(await page.evaluate(() => localStorage.getItem("trainyard.token")) === null, "signed out");

    check(problems.length === 0, `no errors in the page:\n${problems.join("\n")}`);
    // Every job has ended: none is left running after the test.
    for (const sweep of [digitsSweep, failingSweep, tuneSweep, stoppingSweep, sleepySweep, wideSweep]) {
      const answer = await apiGet(base, `/api/v1/sweeps/${sweep}`);
      check(!answer.counts.InProgress && !answer.counts.Queued && !answer.counts.Stopping,
        `${sweep} has ended: ${JSON.stringify(answer.counts)}`);
    }
  } catch (error) {
    await screenshot(page, "failure").catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

let failed = false;
try {
  await run();
  log("PASSED");
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.stack || error}`);
  console.error(`server output:\n${serverLog.slice(-4000)}`);
} finally {
  if (server) {
    server.child.kill("SIGTERM");
    await new Promise((resolve) => server.child.once("exit", resolve));
  }
  console.log(`screenshots (${screenshots.length}):\n${screenshots.map((file) => `  ${file}`).join("\n")}`);
  if (!failed) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work} for a look`);
}
process.exit(failed ? 1 : 0);
