// LocalExecutor with detach_jobs: starting wrappers that outlive us, following them by pid and
// start time, persisting each job's state and adopting the jobs an earlier executor left.
#include <signal.h>

#include "common/files.h"
#include "executor/job_root.h"
#include "executor/local/local_executor.h"
#include "executor/local/local_job.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr char kStateFileName[] = "executor-state.json";
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
    TY_ASSIGN_OR_RETURN(job.process, SpawnDetached(argv, environment,
                                                   job.root.root().parent_path() / "console.log"));
    job.started_at = std::chrono::system_clock::now();
  }
  Persist(job);
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
        (void)job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                    "Stopping: MaxRuntimeInSeconds reached");
        (void)SignalProcessGroup(process, SIGTERM);
        changed = true;
      }
      auto now = std::chrono::steady_clock::now();
      // The wrapper sends SIGKILL to the command after the grace period; it gets a margin more.
      if (job.stop_requested && !kill_at) {
        kill_at = now + job.spec.stop_grace_period + options_.wrapper_kill_margin;
      }
      if (kill_at && !killed && now >= *kill_at) {
        (void)SignalProcessGroup(process, SIGKILL);
        killed = true;
      }
    }
    if (changed) Persist(job);
  }
  *exit_code = ReadWrapperExitCode(job.root).value_or(kKilledExitCode);
  {
    std::lock_guard lock(mutex_);
    job.exit_code = *exit_code;
  }
  Persist(job);
  return Status::Ok();
}

void LocalExecutor::Persist(Job& job) {
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
  // Durable: after a power loss the next executor must not take a finished job for a live one.
  (void)WriteFileAtomic(job.state_file(), state.dump(2) + "\n", Durability::kDurable);
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
  std::error_code error;
  fs::directory_iterator entries(options_.work_dir, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    return Internal("cannot list '" + options_.work_dir.string() + "': " + error.message());
  }
  for (const fs::directory_entry& entry : entries) {
    fs::path state_file = entry.path() / kStateFileName;
    if (!fs::is_regular_file(state_file, error)) continue;
    auto loaded = LoadJob(state_file);
    if (!loaded.ok()) continue;
    std::unique_ptr<Job> job = std::move(loaded).value();
    std::string name = job->spec.definition.job_name;
    Job* adopted = nullptr;
    bool ended_unstarted = false;
    {
      std::lock_guard lock(mutex_);
      if (jobs_.count(name)) continue;
      if (!core::IsTerminal(job->status.status())) {
        if (job->process.pid > 0) {
          job->adopted = true;
        } else {
          // Its wrapper never started: the input may be half copied, and nothing ran to follow.
          auto now = std::chrono::system_clock::now();
          if (job->stop_requested) {
            (void)job->status.Transition(SecondaryStatus::kStopped, now, "Training job stopped");
          } else {
            (void)job->status.Fail(
                "InternalServerError: the executor stopped before the job's command started "
                "(while " +
                    std::string(core::ToString(job->status.secondary_status())) +
                    "); run the job again",
                now);
          }
          ended_unstarted = true;
        }
      }
      adopted = job.get();
      jobs_[name] = std::move(job);
      if (adopted->adopted) adopted->thread = std::thread([this, adopted] { RunJob(*adopted); });
    }
    if (ended_unstarted) {
      Persist(*adopted);
      if (!options_.keep_job_roots) fs::remove_all(adopted->root.root(), error);
    }
  }
  return Status::Ok();
}

}  // namespace trainyard::executor
