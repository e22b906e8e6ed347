#include "app/sweep_runner.h"

#include <deque>
#include <thread>

#include "app/job_result_file.h"
#include "common/files.h"
#include "common/log.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Describe is cheap for the local executor, and a finished job's slot should be refilled quickly;
// the terminal is redrawn less often than that.
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);

executor::JobSpec MakeSpec(const RunOptions& options, const std::string& job_name,
                           const core::HyperparameterMap& hyperparameters) {
  executor::JobSpec spec;
  contract::JobDefinition& definition = spec.definition;
  definition.job_name = job_name;
  definition.hyperparameters = hyperparameters;
  for (const auto& [channel, source] : options.channels) {
    definition.channels.push_back({channel});
    spec.channel_sources[channel] = source;
  }
  definition.environment = options.environment;
  definition.metric_definitions = options.metric_definitions;
  definition.max_runtime_seconds = options.max_runtime_seconds;
  spec.command = options.command;
  spec.artifact_dir = options.out_dir / job_name;
  spec.stop_grace_period = options.stop_grace_period;
  return spec;
}

// From the job's own record rather than from when this process saw it start: a job followed
// again after a restart keeps its true duration.
double DurationSeconds(const executor::JobDescription& description) {
  TimePoint end = description.status.end_time().value_or(std::chrono::system_clock::now());
  return std::chrono::duration<double>(end - description.status.creation_time()).count();
}

// sweep.json, best job first. Not rewritten when it already says the same: resuming a finished
// run changes nothing.
Status WriteSummary(const RunOptions& options, const std::vector<JobResult>& results) {
  json summary = {{"sweep", options.sweep_name}, {"jobs", json::array()}};
  if (options.objective) {
    summary["objective"] = {{"metric", options.objective->metric},
                            {"direction", core::ObjectiveGoalName(options.objective->goal)}};
  }
  for (const JobResult& result : results) summary["jobs"].push_back(JobResultJson(result));
  std::string text = summary.dump(2) + "\n";
  fs::path file = options.out_dir / "sweep.json";
  std::error_code error;
  if (fs::exists(file, error)) {
    auto existing = ReadFile(file);
    if (existing.ok() && *existing == text) return Status::Ok();
  }
  TY_RETURN_IF_ERROR(SyncFileSystem(options.out_dir));
  return WriteFileAtomic(file, text);
}

// One pass over the sweep: the jobs, which of them run, which wait.
class SweepLoop {
 public:
  SweepLoop(const RunOptions& options, std::vector<PlannedJob>& jobs, executor::Executor& executor,
            const StepHook& on_step)
      : options_(options), jobs_(jobs), executor_(executor), on_step_(on_step) {
    for (size_t i = 0; i < jobs_.size(); ++i) {
      switch (jobs_[i].start) {
        case JobStart::kSubmit: waiting_.push_back(i); break;
        case JobStart::kFollow: active_.push_back(i); break;
        case JobStart::kEnded: break;
      }
    }
  }

  bool done() const { return waiting_.empty() && active_.empty(); }

  // Stops what runs and drops what waits: the jobs that never started are left without a
  // description, and end up "Stopped before it started".
  void Stop() {
    for (size_t index : active_) StopJob(jobs_[index].result.job_name);
    waiting_.clear();
  }

  // Fills the free slots in submission order.
  Status SubmitWaiting() {
    while (active_.size() < options_.parallel && !waiting_.empty()) {
      const JobResult& job = jobs_[waiting_.front()].result;
      TY_RETURN_IF_ERROR(executor_.Submit(MakeSpec(options_, job.job_name, job.hyperparameters)));
      active_.push_back(waiting_.front());
      waiting_.pop_front();
    }
    return Status::Ok();
  }

  // Describes every active job and records those that ended. Sets *changed when one did.
  Status Poll(bool* changed) {
    for (auto it = active_.begin(); it != active_.end();) {
      JobResult& job = jobs_[*it].result;
      TY_ASSIGN_OR_RETURN(job.description, executor_.Describe(job.job_name));
      job.duration_seconds = DurationSeconds(*job.description);
      if (!core::IsTerminal(job.description->status.status())) {
        ++it;
        continue;
      }
      *changed = true;
      TY_RETURN_IF_ERROR(WriteJobResultFile(options_.out_dir, job));
      ReachStep(on_step_, "run.recorded", job.job_name);
      it = active_.erase(it);
    }
    return Status::Ok();
  }

  // After an error: stops every active job and waits for each to end, so that none outlives
  // this process unrecorded.
  void StopAndWaitForActive() {
    for (size_t index : active_) StopJob(jobs_[index].result.job_name);
    for (size_t index : active_) {
      const std::string& name = jobs_[index].result.job_name;
      while (true) {
        auto description = executor_.Describe(name);
        if (!description.ok()) {
          Logger("run").error("job={} not followed to its end: {}", name,
                              description.status().message());
          break;
        }
        if (core::IsTerminal(description->status.status())) break;
        std::this_thread::sleep_for(kPollInterval);
      }
    }
  }

 private:
  void StopJob(const std::string& name) {
    if (Status stopped = executor_.Stop(name); !stopped.ok()) {
      Logger("run").error("job={} could not be stopped: {}", name, stopped.message());
    }
  }

  const RunOptions& options_;
  std::vector<PlannedJob>& jobs_;
  executor::Executor& executor_;
  const StepHook& on_step_;
  std::deque<size_t> waiting_;  // to submit, in order
  std::vector<size_t> active_;  // submitted or followed, not yet ended, in submission order
};

void Show(ProgressDisplay& display, const std::vector<PlannedJob>& jobs, bool stopping) {
  std::vector<DisplayedJob> displayed;
  displayed.reserve(jobs.size());
  for (const PlannedJob& job : jobs) {
    const JobResult& result = job.result;
    displayed.push_back({result.job_name, result.description ? &*result.description : nullptr,
                         result.duration_seconds});
  }
  display.Update(displayed, stopping ? "stopping (Ctrl-C): waiting for jobs to end" : "");
}

}  // namespace

Result<SweepOutcome> RunSweep(const RunOptions& options, std::vector<PlannedJob> jobs,
                              executor::Executor& executor, ProgressDisplay& display,
                              const std::atomic<bool>& interrupted, const StepHook& on_step) {
  SweepOutcome outcome;
  SweepLoop loop(options, jobs, executor, on_step);
  auto last_redraw = SteadyClock::now() - kRedrawInterval;
  while (!loop.done()) {
    if (interrupted && !outcome.interrupted) {
      outcome.interrupted = true;
      loop.Stop();
    }
    bool changed = false;
    Status status = loop.SubmitWaiting();
    if (status.ok()) status = loop.Poll(&changed);
    if (!status.ok()) {
      loop.StopAndWaitForActive();
      return status;
    }
    if (changed || SteadyClock::now() - last_redraw >= kRedrawInterval) {
      Show(display, jobs, outcome.interrupted);
      last_redraw = SteadyClock::now();
    }
    // A slot that just freed up is refilled at once; otherwise wait for news.
    if (!changed && !loop.done()) std::this_thread::sleep_for(kPollInterval);
  }
  display.Close();

  outcome.all_completed = true;
  for (PlannedJob& job : jobs) {
    // Never started: still leave a status.json behind (one recorded before stays as it is).
    if (!job.result.description && job.start != JobStart::kEnded) {
      TY_RETURN_IF_ERROR(WriteJobResultFile(options.out_dir, job.result));
    }
    bool completed = job.result.description &&
                     job.result.description->status.status() == core::JobStatus::kCompleted;
    outcome.all_completed = outcome.all_completed && completed;
    outcome.results.push_back(std::move(job.result));
  }
  SortBestFirst(outcome.results, options.objective);
  ReachStep(on_step, "run.summarizing", options.sweep_name);
  TY_RETURN_IF_ERROR(WriteSummary(options, outcome.results));
  return outcome;
}

}  // namespace trainyard::app
