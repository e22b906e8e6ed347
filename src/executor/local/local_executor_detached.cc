// LocalExecutor with detach_jobs: starting wrappers that outlive us, following them by pid and
// start time, persisting each job's state and adopting the jobs an earlier executor left.
#include <signal.h>

#include <thread>

#include "common/files.h"
#include "common/log.h"
#include "executor/job_root.h"
#include "executor/local/local_executor.h"
#include "executor/local/local_job.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kPollInterval{100};
// What a wrapper that left no exit file died of: only SIGKILL (ours, or the OOM killer's) stops
// it without its writing one.
constexpr int kKilledExitCode = 128 + SIGKILL;

int64_t EpochMillis(TimePoint time) {
  return std::chrono::duration_cast<milliseconds>(time.time_since_epoch()).count();
}

}  // namespace

Status LocalExecutor::StartDetached(Job& job) {
  std::vector<std::string> argv, environment;
  WrapperInvocation(job, &argv, &environment);
  {
    std::lock_guard lock(mutex_);
    if (job.stop_requested) return Cancelled("stopped before training started");
    // Under the lock, so that a Stop either comes before (and is seen above) or finds the pid.
    TY_ASSIGN_OR_RETURN(
        job.process, SpawnDetached(argv, environment, job.root.root().parent_path() / "console.log",
                                   job.launch_claim_file()));
    job.started_at = std::chrono::system_clock::now();
  }
  ReachStep(options_.on_step, "executor.launched", job.spec.definition.job_name);
  Persist(job, Durability::kDurable);
  return Status::Ok();
}

Status LocalExecutor::FollowDetached(Job& job, int* exit_code) {
  ProcessIdentity process;
  std::optional<TimePoint> runtime_deadline;
  {
    std::lock_guard lock(mutex_);
    process = job.process;
    if (job.started_at) {
      runtime_deadline =
          *job.started_at + std::chrono::seconds(job.spec.definition.max_runtime_seconds);
    }
  }
  ProcessWaiter waiter(process);
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  bool killed = false;
  while (!waiter.WaitForExit(kPollInterval)) {
    if (shutting_down_) return Unavailable("the executor is shutting down");
    bool changed = false;
    {
      std::lock_guard lock(mutex_);
      if (!job.stop_requested && runtime_deadline &&
          std::chrono::system_clock::now() >= *runtime_deadline) {
        job.stop_requested = true;
        job.max_runtime_exceeded = true;
        LogIfRefused(
            job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                  "Stopping: MaxRuntimeInSeconds reached"),
            job.spec.definition.job_name);
        // False (nothing sent) only when the wrapper has just ended: the loop sees it.
        SignalProcessGroup(process, SIGTERM);
        changed = true;
      }
      auto now = std::chrono::steady_clock::now();
      // The wrapper sends SIGKILL to the command after the grace period; it gets a margin more.
      if (job.stop_requested && !kill_at) {
        kill_at = now + job.spec.stop_grace_period + options_.wrapper_kill_margin;
      }
      if (kill_at && !killed && now >= *kill_at) {
        SignalProcessGroup(process, SIGKILL);  // false: it ended meanwhile, as wanted
        killed = true;
      }
    }
    if (changed) Persist(job);
  }
  *exit_code = ReadWrapperExitCode(job.root).value_or(kKilledExitCode);
  std::lock_guard lock(mutex_);
  job.exit_code = *exit_code;
  return Status::Ok();
}

void LocalExecutor::Persist(Job& job, Durability durability) {
  if (!options_.detach_jobs) return;
  std::lock_guard persist(job.persist_mutex);
  json state;
  {
    std::lock_guard lock(mutex_);
    const JobSpec& spec = job.spec;
    state = {{"job_name", spec.definition.job_name},
             {"artifact_dir", spec.artifact_dir.string()},
             {"stop_grace_period_ms", spec.stop_grace_period.count()},
             {"max_runtime_seconds", spec.definition.max_runtime_seconds},
             {"status", job.status.ToJson()},
             {"stop_requested", job.stop_requested},
             {"max_runtime_exceeded", job.max_runtime_exceeded},
             {"progress", job.final_progress},
             {"metrics", job.final_metrics}};
    if (job.process.pid > 0) {
      state["pid"] = job.process.pid;
      state["pid_start_time"] = job.process.start_time;
    }
    if (job.started_at) state["started_at_ms"] = EpochMillis(*job.started_at);
    if (job.exit_code) state["exit_code"] = *job.exit_code;
  }
  // The job's directory is made by its first record (Downloading), before anything is copied:
  // a directory without a record is one whose job never ran.
  Status written = MakeDirectories(job.state_file().parent_path());
  if (written.ok()) written = WriteFileAtomic(job.state_file(), state.dump(2) + "\n", durability);
  if (!written.ok()) {
    // The job goes on; a restart before the next write would find it one step behind.
    Logger("executor")
        .error("job={} state could not be written: {}", job.spec.definition.job_name,
               written.message());
  }
}

Result<std::unique_ptr<LocalExecutor::Job>> LocalExecutor::LoadJob(const fs::path& state_file) {
  TY_ASSIGN_OR_RETURN(std::string text, ReadFile(state_file));
  json state = json::parse(text, nullptr, false);
  if (!state.is_object()) return InvalidArgument("'" + state_file.string() + "' is not JSON");
  try {
    JobSpec spec;
    spec.definition.job_name = state.at("job_name").get<std::string>();
    spec.definition.max_runtime_seconds = state.at("max_runtime_seconds").get<int64_t>();
    spec.artifact_dir = state.at("artifact_dir").get<std::string>();
    spec.stop_grace_period = milliseconds(state.at("stop_grace_period_ms").get<int64_t>());
    TY_ASSIGN_OR_RETURN(core::JobStatusTracker status,
                        core::JobStatusTracker::FromJson(state.at("status")));
    auto job = std::make_unique<Job>(std::move(spec), options_.work_dir);
    job->status = std::move(status);
    job->stop_requested = state.value("stop_requested", false);
    job->max_runtime_exceeded = state.value("max_runtime_exceeded", false);
    if (state.contains("pid")) {
      job->process = {state["pid"].get<pid_t>(), state.at("pid_start_time").get<uint64_t>()};
    }
    if (state.contains("started_at_ms")) {
      job->started_at = TimePoint(milliseconds(state["started_at_ms"].get<int64_t>()));
    }
    if (state.contains("exit_code")) job->exit_code = state["exit_code"].get<int>();
    if (state.value("progress", json()).is_object()) job->final_progress = state["progress"];
    if (state.value("metrics", json()).is_object()) {
      job->final_metrics = state["metrics"].get<std::map<std::string, double>>();
    }
    return job;
  } catch (const json::exception& error) {
    return InvalidArgument("'" + state_file.string() + "': " + error.what());
  }
}

Status LocalExecutor::AdoptRunningJobs() {
  if (!options_.detach_jobs) return FailedPrecondition("adopting jobs needs detach_jobs");
  TY_ASSIGN_OR_RETURN(std::vector<fs::path> states, RecordedJobStates(options_.work_dir));
  for (const fs::path& state_file : states) {
    auto loaded = LoadJob(state_file);
    if (!loaded.ok()) {
      Logger("executor")
          .error("job_dir={} left alone: its state is unreadable: {}",
                 state_file.parent_path().string(), loaded.status().message());
      continue;
    }
    std::unique_ptr<Job> job = std::move(loaded).value();
    std::string name = job->spec.definition.job_name;
    if (!core::IsTerminal(job->status.status()) && job->process.pid <= 0) {
      // Recorded, but no wrapper was recorded as started: this process may have died anywhere
      // from copying the input to just after the launch. The launch claim settles it.
      auto launched = FenceLaunch(job->launch_claim_file());
      if (!launched.ok()) {
        Logger("executor").error("job={} left alone: {}", name, launched.status().message());
        continue;
      }
      if (!launched->has_value()) {
        Logger("executor")
            .info("job={} had not started its command: forgotten, to run again", name);
        RemoveLeftover(state_file.parent_path());
        continue;
      }
      job->process =
          IdentifyByEnvironment(**launched, "TRAINYARD_ML_ROOT=" + job->root.root().string());
      if (job->status.secondary_status() != SecondaryStatus::kTraining) {
        LogIfRefused(
            job->status.Transition(SecondaryStatus::kTraining, std::chrono::system_clock::now(),
                                   "Training in progress"),
            name);
      }
      if (!job->started_at) job->started_at = std::chrono::system_clock::now();
    }
    if (core::IsTerminal(job->status.status()) && !options_.keep_job_roots) {
      // Ended, but killed before its root was removed.
      RemoveLeftover(job->root.root());
    }
    Job* adopted = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (jobs_.count(name)) continue;
      job->adopted = !core::IsTerminal(job->status.status());
      adopted = job.get();
      jobs_[name] = std::move(job);
      if (adopted->adopted) adopted->thread = std::thread([this, adopted] { RunJob(*adopted); });
    }
  }
  return Status::Ok();
}

}  // namespace trainyard::executor
