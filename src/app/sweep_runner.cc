#include "app/sweep_runner.h"

#include <thread>

#include "app/job_result_file.h"
#include "common/files.h"
#include "common/log.h"
#include "core/job_naming.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Describe is cheap for the local executor, and a finished job's slot should be refilled quickly;
// the terminal is redrawn less often than that.
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);

struct SweepJob {
  JobResult result;
  SteadyClock::time_point started;
};

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

}  // namespace

Result<SweepOutcome> RunSweep(const RunOptions& options,
                              const std::vector<core::HyperparameterMap>& combinations,
                              executor::Executor& executor, ProgressDisplay& display,
                              const std::atomic<bool>& interrupted) {
  std::vector<SweepJob> jobs(combinations.size());
  for (size_t i = 0; i < combinations.size(); ++i) {
    jobs[i].result.job_name = core::MakeJobName(options.sweep_name, i, combinations.size());
    jobs[i].result.hyperparameters = combinations[i];
  }

  SweepOutcome outcome;
  size_t next = 0, finished = 0;
  std::vector<size_t> active;  // submitted and not yet ended, in submission order
  bool stopping = false;
  auto last_redraw = SteadyClock::now() - kRedrawInterval;
  while (finished < jobs.size()) {
    if (interrupted && !stopping) {
      stopping = true;
      outcome.interrupted = true;
      for (size_t index : active) {
        const std::string& name = jobs[index].result.job_name;
        WarnIfFailed("run", executor.Stop(name), "job={} could not be stopped", name);
      }
      for (; next < jobs.size(); ++next) {  // what never started is finished now
        ++finished;
      }
    }
    while (!stopping && active.size() < options.parallel && next < jobs.size()) {
      SweepJob& job = jobs[next];
      TY_RETURN_IF_ERROR(
          executor.Submit(MakeSpec(options, job.result.job_name, job.result.hyperparameters)));
      job.started = SteadyClock::now();
      active.push_back(next++);
    }

    bool changed = false;
    for (auto it = active.begin(); it != active.end();) {
      SweepJob& job = jobs[*it];
      auto description = executor.Describe(job.result.job_name);
      if (!description.ok()) return description.status();
      job.result.description = std::move(description).value();
      job.result.duration_seconds =
          std::chrono::duration<double>(SteadyClock::now() - job.started).count();
      if (!core::IsTerminal(job.result.description->status.status())) {
        ++it;
        continue;
      }
      changed = true;
      ++finished;
      TY_RETURN_IF_ERROR(WriteJobResultFile(options.out_dir, job.result));
      it = active.erase(it);
    }

    if (changed || SteadyClock::now() - last_redraw >= kRedrawInterval) {
      std::vector<DisplayedJob> displayed;
      displayed.reserve(jobs.size());
      for (const SweepJob& job : jobs) {
        displayed.push_back({job.result.job_name,
                             job.result.description ? &*job.result.description : nullptr,
                             job.result.duration_seconds});
      }
      display.Update(displayed, stopping ? "stopping (Ctrl-C): waiting for jobs to end" : "");
      last_redraw = SteadyClock::now();
    }
    // A slot that just freed up is refilled at once; otherwise wait for news.
    if (!changed && finished < jobs.size()) std::this_thread::sleep_for(kPollInterval);
  }
  display.Close();

  outcome.all_completed = true;
  for (SweepJob& job : jobs) {
    if (!job.result.description) {  // never started: still leave a status.json behind
      TY_RETURN_IF_ERROR(WriteJobResultFile(options.out_dir, job.result));
    }
    bool completed = job.result.description &&
                     job.result.description->status.status() == core::JobStatus::kCompleted;
    outcome.all_completed = outcome.all_completed && completed;
    outcome.results.push_back(std::move(job.result));
  }
  SortBestFirst(outcome.results, options.objective);

  json summary = {{"sweep", options.sweep_name}, {"jobs", json::array()}};
  if (options.objective) {
    summary["objective"] = {{"metric", options.objective->metric},
                            {"direction", core::ObjectiveGoalName(options.objective->goal)}};
  }
  for (const JobResult& result : outcome.results) summary["jobs"].push_back(JobResultJson(result));
  TY_RETURN_IF_ERROR(SyncFileSystem(options.out_dir));
  TY_RETURN_IF_ERROR(WriteFileAtomic(options.out_dir / "sweep.json", summary.dump(2) + "\n"));
  return outcome;
}

}  // namespace trainyard::app
