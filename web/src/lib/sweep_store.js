// A sweep's jobs and their metric points in the browser, kept current by the event stream
// (docs/api.md, Events). Mutable on purpose: a 1,000-job sweep changes one job per event, and
// the page re-renders what is visible once per animation frame.
import { TERMINAL } from "./sweep.js";

export class SweepStore {
  constructor() {
    this.jobs = new Map();     // name -> job, as GET /api/v1/jobs answers it
    this.points = new Map();   // name -> Map(metric -> {points: [[x, y]], keys: Set})
    this.historyLoaded = new Set();
  }

  setJobs(jobs) {
    for (const job of jobs) this.jobs.set(job.name, job);
  }

  // Adds metric points, skipping ones already there (the history and the stream overlap).
  addPoints(name, points) {
    let byMetric = this.points.get(name);
    if (!byMetric) this.points.set(name, (byMetric = new Map()));
    const touched = new Set();
    for (const point of points) {
      let series = byMetric.get(point.name);
      if (!series) byMetric.set(point.name, (series = { points: [], keys: new Set() }));
      const key = `${point.step}|${point.timestamp}|${point.value}`;
      if (series.keys.has(key)) continue;
      series.keys.add(key);
      const x = typeof point.step === "number" ? point.step : series.points.length;
      series.points.push([x, point.value]);
      touched.add(series);
    }
    for (const series of touched) series.points.sort((a, b) => a[0] - b[0]);
  }

  pointsOf(name, metric) {
    const byMetric = this.points.get(name);
    const series = byMetric && byMetric.get(metric);
    return series ? series.points : [];
  }

  // Applies one event of /api/v1/events; false when it changed nothing this store holds.
  apply(event) {
    const { type, job_name: name, time, data } = event;
    if (type === "job.created") {
      if (this.jobs.has(name)) return false;
      this.jobs.set(name, {
        name, sweep_id: event.sweep_id, index: data.index, hyperparameters: data.hyperparameters || {},
        status: "InProgress", secondary_status: "Starting", queued: true, metrics: {}, progress: {},
        created_at: time, started_at: null, ended_at: null, failure_reason: "", stop_reason: "",
      });
      return true;
    }
    const job = this.jobs.get(name);
    if (!job) return false;
    if (type === "job.status") {
      const wasQueued = job.queued;
      job.status = data.status;
      job.secondary_status = data.secondary_status;
      job.queued = Boolean(data.queued);
      if (data.attempt !== undefined) job.attempt = data.attempt;
      job.failure_reason = data.failure_reason || "";
      job.stop_reason = data.stop_reason || "";
      if (job.queued) {
        job.started_at = null;  // queued again (a retry)
        job.ended_at = null;
      } else if (wasQueued || !job.started_at) {
        job.started_at = job.started_at || time;
      }
      if (TERMINAL.has(job.status) && !job.ended_at) job.ended_at = time;
      return true;
    }
    if (type === "job.progress") {
      job.progress = data;
      return true;
    }
    if (type === "job.metrics") {
      const points = data.metrics || [];
      job.metrics = { ...job.metrics };
      for (const point of points) job.metrics[point.name] = point.value;
      this.addPoints(name, points);
      return true;
    }
    return false;
  }
}
