#include "executor/recorded_jobs.h"

#include <thread>

#include "common/log.h"
#include "executor/job_root.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using nlohmann::json;
using std::chrono::milliseconds;

RecordedJobsExecutor::Job::Job(JobSpec job_spec, const fs::path& work_dir)
    : spec(std::move(job_spec)),
      root(work_dir / spec.definition.job_name / "ml"),
      status(std::chrono::system_clock::now()) {}

fs::path RecordedJobsExecutor::Job::state_file() const {
  return job_dir() / kExecutorStateFileName;
}

std::optional<TimePoint> RecordedJobsExecutor::Job::runtime_deadline() const {
  if (!started_at) return std::nullopt;
  return *started_at + std::chrono::seconds(spec.definition.max_runtime_seconds);
}

RecordedJobsExecutor::RecordedJobsExecutor(RecordedJobsOptions options)
    : options_(std::move(options)) {}

std::unique_ptr<RecordedJobsExecutor::Job> RecordedJobsExecutor::NewJob(JobSpec spec) const {
  return std::make_unique<Job>(std::move(spec), options_.work_dir);
}

void RecordedJobsExecutor::ShutDownJobs() {
  if (options_.detach_jobs) {
    // The jobs go on; what each one's state records lets the next executor follow them.
    shutting_down_ = true;
  } else {
    std::vector<std::string> names;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [name, job] : jobs_) names.push_back(name);
    }
    for (const std::string& name : names) {
      WarnIfFailed("executor", Stop(name), "job={} could not be stopped with the executor", name);
    }
  }
  for (auto& [name, job] : jobs_) {
    if (job->thread.joinable()) job->thread.join();
  }
}

Status RecordedJobsExecutor::Submit(const JobSpec& spec) {
  TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
  std::lock_guard lock(mutex_);
  for (Job* finished : finished_threads_) finished->thread.join();
  finished_threads_.clear();
  if (jobs_.count(spec.definition.job_name)) {
    return AlreadyExists("job '" + spec.definition.job_name + "' was already submitted");
  }
  std::unique_ptr<Job> job = NewJob(spec);
  Job& started = *job;
  jobs_[spec.definition.job_name] = std::move(job);
  started.thread = std::thread([this, &started] { RunJob(started); });
  return Status::Ok();
}

Result<JobDescription> RecordedJobsExecutor::Describe(const std::string& job_name) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(job_name);
  if (it == jobs_.end()) return NotFound("job '" + job_name + "' not found");
  Job& job = *it->second;
  JobDescription description{job_name,      job.status, job.final_progress, job.final_metrics,
                             job.exit_code, job.image,  job.image_digest};
  if (!core::IsTerminal(job.status.status())) {
    ReadWrapperState(job.root, &description.progress, &description.metrics);
  }
  return description;
}

Status RecordedJobsExecutor::Stop(const std::string& job_name) {
  Job* stopped = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(job_name);
    if (it == jobs_.end()) return NotFound("job '" + job_name + "' not found");
    Job& job = *it->second;
    if (core::IsTerminal(job.status.status()) || job.stop_requested) return Status::Ok();
    job.stop_requested = true;
    WarnIfFailed("executor",
                 job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                       "Stopping the training job"),
                 "job={} is stopping but could not be marked Stopping", job_name);
    SignalStop(job);
    stopped = &job;
  }
  Persist(*stopped);
  NotifyStatusChanged(job_name);
  return Status::Ok();
}

Status RecordedJobsExecutor::Transition(Job& job, SecondaryStatus next,
                                        const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) return Unavailable("the executor is shutting down");
    if (job.stop_requested && next != SecondaryStatus::kStopped &&
        next != SecondaryStatus::kMaxRuntimeExceeded) {
      return Cancelled("job '" + job.name() + "' was stopped");
    }
    TY_RETURN_IF_ERROR(job.status.Transition(next, std::chrono::system_clock::now(), message));
  }
  if (options_.record_every_transition) Persist(job);
  NotifyStatusChanged(job.name());
  return Status::Ok();
}

Status RecordedJobsExecutor::SetStatusMessage(Job& job, const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) return Unavailable("the executor is shutting down");
    if (job.stop_requested) return Cancelled("job '" + job.name() + "' was stopped");
    TY_RETURN_IF_ERROR(job.status.SetStatusMessage(message, std::chrono::system_clock::now()));
  }
  if (options_.record_every_transition) Persist(job);
  NotifyStatusChanged(job.name());
  return Status::Ok();
}

bool RecordedJobsExecutor::MarkMaxRuntimeExceeded(Job& job) {
  std::optional<TimePoint> deadline = job.runtime_deadline();
  if (job.stop_requested || !deadline || std::chrono::system_clock::now() < *deadline) {
    return false;
  }
  job.stop_requested = true;
  job.max_runtime_exceeded = true;
  WarnIfFailed("executor",
               job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                     "Stopping: MaxRuntimeInSeconds reached"),
               "job={} reached its max runtime but could not be marked Stopping", job.name());
  return true;
}

void RecordedJobsExecutor::RunJob(Job& job) {
  const std::string& name = job.name();
  Status status = Status::Ok();
  if (!job.adopted) {
    const bool starts_at_launch = StartsAtLaunch();
    if (starts_at_launch) {
      status = Transition(job, SecondaryStatus::kDownloading, "Downloading input data");
    }
    // The first record: a job directory without one is a job that never ran.
    if (status.ok() && (!options_.record_every_transition || !starts_at_launch)) Persist(job);
    if (status.ok()) ReachStep(options_.on_step, "executor.recorded", name);
    if (status.ok()) status = PrepareJobRoot(job.root, job.spec);
    if (status.ok()) ReachStep(options_.on_step, "executor.staged", name);
    if (status.ok() && starts_at_launch) {
      status = Transition(job, SecondaryStatus::kTraining, "Training in progress");
    }
    if (status.ok() && job.spec.before_launch) status = job.spec.before_launch();
    if (status.ok()) status = Launch(job);
  }
  if (status.ok()) status = Follow(job);
  AfterFollow(job);
  if (shutting_down_) {
    // This executor is going away: what it has recorded lets the next one finish the job.
    std::lock_guard lock(mutex_);
    finished_threads_.push_back(&job);
    return;
  }

  // Another executor sharing the records (a server that took the job over, or the one whose
  // lease on it expired and that still follows it) may be ending it at this instant: the end is
  // made by one at a time, and by one only.
  std::optional<FileLock> end_lock;
  if (options_.detach_jobs) {
    Result<FileLock> locked = LockJobEnd(job);
    if (!locked.ok()) {
      if (shutting_down_) {
        std::lock_guard lock(mutex_);
        finished_threads_.push_back(&job);
        return;
      }
      Logger("executor")
          .warn("job={} its end is made without the lock on it: {}", name,
                locked.status().message());
    } else {
      end_lock.emplace(std::move(locked).value());
    }
    if (TakeEndRecordedElsewhere(job)) {
      NotifyStatusChanged(name);
      std::lock_guard lock(mutex_);
      finished_threads_.push_back(&job);
      return;
    }
  }

  Outcome outcome;
  if (status.ok()) {
    outcome = Settle(job);
    std::lock_guard lock(mutex_);
    job.exit_code = outcome.exit_code;
  }
  bool ran = status.ok() && outcome.launch_failure.empty();
  if (fs::exists(job.root.root())) {
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      ReadWrapperState(job.root, &job.final_progress, &job.final_metrics);
      stopping = job.stop_requested;
    }
    if (!stopping && ran) {
      Status uploading =
          Transition(job, SecondaryStatus::kUploading, "Uploading generated training model");
      // Cancelled: a stop came meanwhile, and Finish records the job Stopped.
      if (uploading.code() != StatusCode::kCancelled) {
        WarnIfFailed("executor", uploading, "job={} could not be marked Uploading", name);
      }
    }
    if (ran) BeforePack(job);
    // Files written to model/ before a stop are still packed, as SageMaker does.
    PackArtifacts(job.root, job.spec.artifact_dir);
  }
  ReachStep(options_.on_step, "executor.packed", name);
  if (!status.ok() && status.code() != StatusCode::kCancelled) {
    std::lock_guard lock(mutex_);
    WarnIfFailed(
        "executor",
        job.status.Fail("ClientError: " + status.message(), std::chrono::system_clock::now()),
        "job={} failed ({}) but could not be marked Failed", name, status.message());
  } else {
    Finish(job, outcome);
  }
  // Durable: after a power loss the next executor must not take a finished job for a live one.
  Persist(job, Durability::kDurable);
  NotifyStatusChanged(name);
  AfterEnd(job);
  if (!options_.keep_job_roots) RemoveLeftover(job.root.root());
  std::lock_guard lock(mutex_);
  finished_threads_.push_back(&job);
}

Result<FileLock> RecordedJobsExecutor::LockJobEnd(Job& job) {
  const fs::path lock_file = job.job_dir() / "end.lock";
  TY_RETURN_IF_ERROR(MakeDirectories(job.job_dir()));
  while (true) {
    Result<FileLock> locked = FileLock::Acquire(lock_file, /*create=*/true, "held");
    if (locked.ok() || locked.status().code() != StatusCode::kFailedPrecondition) return locked;
    // Held by another process ending the job: it packs the artifacts, then records the end.
    if (shutting_down_) return Unavailable("the executor is shutting down");
    std::this_thread::sleep_for(milliseconds(50));
  }
}

bool RecordedJobsExecutor::TakeEndRecordedElsewhere(Job& job) {
  std::error_code error;
  if (!fs::exists(job.state_file(), error)) return false;
  Result<std::unique_ptr<Job>> recorded = LoadJob(job.state_file());
  if (!recorded.ok()) {
    Logger("executor")
        .warn("job={} its record cannot be read before its end: {}", job.name(),
              recorded.status().message());
    return false;
  }
  Job& other = **recorded;
  if (!core::IsTerminal(other.status.status())) return false;
  {
    std::lock_guard lock(mutex_);
    job.status = std::move(other.status);
    job.exit_code = other.exit_code;
    job.final_progress = std::move(other.final_progress);
    job.final_metrics = std::move(other.final_metrics);
    job.stop_requested = other.stop_requested;
    job.max_runtime_exceeded = other.max_runtime_exceeded;
  }
  Logger("executor")
      .info("job={} its end ({}) was recorded by another server following it: taken as recorded",
            job.name(), core::ToString(job.status.secondary_status()));
  return true;
}

void RecordedJobsExecutor::Finish(Job& job, const Outcome& outcome) {
  auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  Status ended;
  if (job.stop_requested) {
    ended = job.max_runtime_exceeded
                ? job.status.Transition(SecondaryStatus::kMaxRuntimeExceeded, now,
                                        "Training job exceeded MaxRuntimeInSeconds")
                : job.status.Transition(SecondaryStatus::kStopped, now, "Training job stopped");
  } else if (!outcome.launch_failure.empty()) {
    ended = job.status.Fail(outcome.launch_failure, now);
  } else if (!outcome.failure_reason.empty()) {
    ended = job.status.Fail(outcome.failure_reason, now);
  } else if (outcome.exit_code == 0) {
    ended = job.status.Transition(SecondaryStatus::kCompleted, now, "Training job completed");
  } else {
    ended = job.status.Fail(FailureReason(job.root, outcome.exit_code), now);
  }
  WarnIfFailed("executor", ended, "job={} ended (exit code {}) but its end could not be recorded",
               job.name(), outcome.exit_code);
}

void RecordedJobsExecutor::Persist(Job& job, Durability durability) {
  if (!options_.record_jobs) return;
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
      state[options_.process_field] = job.process.pid;
      state[options_.process_field + "_start_time"] = job.process.start_time;
    }
    if (job.started_at) state["started_at_ms"] = EpochMillis(*job.started_at);
    // Followed and stopped as the same user after a restart; the sweep names the job in its
    // backend (the slurm executor's comment), so that a restarted server still knows it.
    if (!spec.run_as_user.empty()) state["run_as_user"] = spec.run_as_user;
    if (!spec.sweep_id.empty()) state["sweep_id"] = spec.sweep_id;
    if (job.exit_code) state["exit_code"] = *job.exit_code;
    if (!job.image_digest.empty()) {
      state["image"] = job.image;
      state["image_digest"] = job.image_digest;
    }
  }
  // The job's directory is made by its first record (Downloading), before anything is copied:
  // a directory without a record is one whose job never ran.
  Status written = MakeDirectories(job.state_file().parent_path());
  if (written.ok()) written = WriteFileAtomic(job.state_file(), state.dump(2) + "\n", durability);
  // The job goes on; a restart before the next write would find it one step behind.
  WarnIfFailed("executor", written, "job={} state could not be written", job.name());
}

Result<std::unique_ptr<RecordedJobsExecutor::Job>> RecordedJobsExecutor::LoadJob(
    const fs::path& state_file) {
  TY_ASSIGN_OR_RETURN(std::string text, ReadFile(state_file));
  json state = json::parse(text, nullptr, false);
  if (!state.is_object()) return InvalidArgument("'" + state_file.string() + "' is not JSON");
  const std::string& pid_field = options_.process_field;
  try {
    JobSpec spec;
    spec.definition.job_name = state.at("job_name").get<std::string>();
    spec.definition.max_runtime_seconds = state.at("max_runtime_seconds").get<int64_t>();
    spec.artifact_dir = state.at("artifact_dir").get<std::string>();
    spec.stop_grace_period = milliseconds(state.at("stop_grace_period_ms").get<int64_t>());
    spec.run_as_user = state.value("run_as_user", "");
    spec.sweep_id = state.value("sweep_id", "");
    TY_ASSIGN_OR_RETURN(core::JobStatusTracker status,
                        core::JobStatusTracker::FromJson(state.at("status")));
    std::unique_ptr<Job> job = NewJob(std::move(spec));
    job->status = std::move(status);
    job->stop_requested = state.value("stop_requested", false);
    job->max_runtime_exceeded = state.value("max_runtime_exceeded", false);
    if (state.contains(pid_field)) {
      job->process = {state[pid_field].get<pid_t>(),
                      state.at(pid_field + "_start_time").get<uint64_t>()};
    }
    if (state.contains("started_at_ms")) {
      job->started_at = TimePoint(milliseconds(state["started_at_ms"].get<int64_t>()));
    }
    if (state.contains("exit_code")) job->exit_code = state["exit_code"].get<int>();
    job->image = state.value("image", "");
    job->image_digest = state.value("image_digest", "");
    if (state.value("progress", json()).is_object()) job->final_progress = state["progress"];
    if (state.value("metrics", json()).is_object()) {
      job->final_metrics = state["metrics"].get<std::map<std::string, double>>();
    }
    return job;
  } catch (const json::exception& error) {
    return InvalidArgument("'" + state_file.string() + "': " + error.what());
  }
}

Result<bool> RecordedJobsExecutor::RecoverLaunch(Job& job) {
  if (job.process.pid > 0) return true;
  // Recorded, but no launch was recorded: this process may have died anywhere from copying the
  // input to just after the launch. The launch claim settles it.
  TY_ASSIGN_OR_RETURN(std::optional<pid_t> launched, FenceLaunch(job.launch_claim_file()));
  if (!launched) return false;
  job.process = IdentifyByEnvironment(
      *launched, options_.launch_marker_variable + "=" + job.root.root().string());
  if (job.status.secondary_status() != SecondaryStatus::kTraining) {
    WarnIfFailed("executor",
                 job.status.Transition(SecondaryStatus::kTraining, std::chrono::system_clock::now(),
                                       "Training in progress"),
                 "job={} was launched but could not be marked Training", job.name());
  }
  if (!job.started_at) job.started_at = std::chrono::system_clock::now();
  return true;
}

Result<std::set<std::string>> RecordedJobsExecutor::AdoptRecordedJobs() {
  if (!options_.detach_jobs) return FailedPrecondition("adopting jobs needs detach_jobs");
  std::set<std::string> kept;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, job] : jobs_) kept.insert(name);
  }
  TY_ASSIGN_OR_RETURN(std::vector<fs::path> states, RecordedJobStates(options_.work_dir));
  for (const fs::path& state_file : states) {
    auto loaded = LoadJob(state_file);
    if (!loaded.ok()) {
      Logger("executor")
          .error("job_dir={} left alone: its state is unreadable: {}",
                 state_file.parent_path().string(), loaded.status().message());
      kept.insert(state_file.parent_path().filename().string());
      continue;
    }
    std::unique_ptr<Job> job = std::move(loaded).value();
    std::string name = job->name();
    if (!core::IsTerminal(job->status.status())) {
      Result<bool> launched = RecoverLaunch(*job);
      if (!launched.ok()) {
        Logger("executor").error("job={} left alone: {}", name, launched.status().message());
        kept.insert(name);
        continue;
      }
      if (!*launched) {
        Logger("executor")
            .info("job={} had not started its command: forgotten, to run again", name);
        RemoveLeftover(state_file.parent_path());
        continue;
      }
    }
    if (core::IsTerminal(job->status.status())) {
      // Ended, but killed before its root was removed.
      if (!options_.keep_job_roots) RemoveLeftover(job->root.root());
    } else {
      kept.insert(name);
    }
    std::lock_guard lock(mutex_);
    if (jobs_.count(name)) continue;
    job->adopted = !core::IsTerminal(job->status.status());
    Job* adopted = job.get();
    jobs_[name] = std::move(job);
    if (adopted->adopted) adopted->thread = std::thread([this, adopted] { RunJob(*adopted); });
  }
  return kept;
}

Status RecordedJobsExecutor::AdoptRecordedJob(const std::string& job_name,
                                              const fs::path& artifact_dir) {
  if (!options_.detach_jobs) return FailedPrecondition("adopting jobs needs detach_jobs");
  {
    std::lock_guard lock(mutex_);
    if (jobs_.count(job_name)) return Status::Ok();
  }
  const fs::path job_dir = options_.work_dir / job_name;
  const fs::path state_file = kExecutorStateFileName;
  std::error_code error;
  if (!fs::exists(job_dir / state_file, error)) {
    return NotFound("job '" + job_name + "' is not recorded under '" + options_.work_dir.string() +
                    "'");
  }
  TY_ASSIGN_OR_RETURN(std::unique_ptr<Job> job, LoadJob(job_dir / state_file));
  if (job->name() != job_name) {
    return Internal("'" + (job_dir / state_file).string() + "' records job '" + job->name() +
                    "', not '" + job_name + "'");
  }
  job->spec.artifact_dir = artifact_dir;
  if (!core::IsTerminal(job->status.status())) {
    TY_ASSIGN_OR_RETURN(bool launched, RecoverLaunch(*job));
    if (!launched) {
      Logger("executor")
          .info("job={} had not started its command: forgotten, to run again", job_name);
      RemoveLeftover(job_dir);
      return NotFound("job '" + job_name + "' never started its command");
    }
  }
  std::lock_guard lock(mutex_);
  if (jobs_.count(job_name)) return Status::Ok();
  job->adopted = !core::IsTerminal(job->status.status());
  Job* adopted = job.get();
  jobs_[job_name] = std::move(job);
  if (adopted->adopted) adopted->thread = std::thread([this, adopted] { RunJob(*adopted); });
  Logger("executor").info("job={} taken over from its records", job_name);
  return Status::Ok();
}

}  // namespace trainyard::executor
