#include "app/run_adapter.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "app/executor_registry.h"
#include "app/job_result_file.h"
#include "app/server_executors.h"
#include "common/files.h"
#include "common/log.h"
#include "storage/local/local_object_store.h"

namespace trainyard::app {
namespace fs = std::filesystem;
using metadata::JobRecord;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The terminal is redrawn at most this often, and the store read at least this often when no
// event wakes the adapter.
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
constexpr auto kIdleWait = std::chrono::milliseconds(200);

// The sweeps' name in the store: the run's own name is the jobs' prefix already.
constexpr char kSweepName[] = "run";

TimePoint Now() {
  return std::chrono::system_clock::now();
}

// The record's status as a tracker, read back through the tracker's own JSON (the one form that
// carries its transitions in).
Result<core::JobStatusTracker> TrackerOf(const JobRecord& record) {
  json status = {{"status", core::ToString(record.status)},
                 {"secondary_status", core::ToString(record.secondary_status)},
                 {"creation_time", FormatIso8601(record.created_at)},
                 {"last_modified_time", FormatIso8601(record.updated_at)},
                 {"secondary_status_transitions", core::TransitionsToJson(record.transitions)}};
  if (!record.failure_reason.empty()) status["failure_reason"] = record.failure_reason;
  if (record.ended_at) status["end_time"] = FormatIso8601(*record.ended_at);
  auto tracker = core::JobStatusTracker::FromJson(status);
  if (!tracker.ok()) {
    return Internal("job '" + record.name +
                    "': its recorded status cannot be read: " + tracker.status().message());
  }
  return tracker;
}

// Puts `source` at `target` as a whole: a hard link (the store and the results share one file
// system, so no byte is copied), else a copy, under a temporary name renamed into place.
Status PlaceFile(const fs::path& source, const fs::path& target) {
  const fs::path temporary =
      target.string() + ".tmp." + std::to_string(::getpid()) + ".0";  // RemoveInterruptedWrites
  std::error_code error;
  fs::remove(temporary, error);
  fs::create_hard_link(source, temporary, error);
  if (error) {
    Logger("run").debug("file={} not linked ({}): copied", target.string(), error.message());
    TY_RETURN_IF_ERROR(CopyFileContents(source, temporary));
  }
  fs::rename(temporary, target, error);
  if (error) {
    return Internal("cannot move '" + temporary.string() + "' to '" + target.string() +
                    "': " + error.message());
  }
  return Status::Ok();
}

}  // namespace

fs::path RunStoreDir(const fs::path& out_dir) {
  return out_dir / ".trainyard";
}

fs::path RunWorkDir(const fs::path& out_dir) {
  return out_dir / ".work";
}

Result<JobResult> JobResultOfRecord(const JobRecord& record) {
  JobResult result{record.name, record.hyperparameters, std::nullopt, 0};
  if (!record.started_at) return result;  // never left the queue
  TY_ASSIGN_OR_RETURN(core::JobStatusTracker tracker, TrackerOf(record));
  executor::JobDescription description{record.name, std::move(tracker)};
  description.progress = record.progress;
  description.metrics = record.metrics;
  description.exit_code = record.exit_code;
  result.description = std::move(description);
  TimePoint end = record.ended_at.value_or(Now());
  result.duration_seconds =
      std::max(0.0, std::chrono::duration<double>(end - *record.started_at).count());
  return result;
}

RunAdapter::RunAdapter(const RunRecord& record, StepHook on_step)
    : record_(record), on_step_(std::move(on_step)) {}

RunAdapter::~RunAdapter() {
  // Before the executor and the stores it uses.
  if (scheduler_) scheduler_->Shutdown();
}

Result<std::unique_ptr<RunAdapter>> RunAdapter::Open(const RunRecord& record,
                                                     const EnvironmentMap& host_environment,
                                                     StepHook on_step) {
  std::unique_ptr<RunAdapter> adapter(new RunAdapter(record, std::move(on_step)));
  const RunOptions& options = record.options;
  const fs::path store_dir = RunStoreDir(options.out_dir);
  TY_RETURN_IF_ERROR(MakeDirectories(store_dir));
  TY_ASSIGN_OR_RETURN(adapter->metadata_, metadata::OpenMetadataStore(
                                              "sqlite:///" + (store_dir / "metadata.db").string()));
  // This process alone uses the store (it holds the run's lock): whatever lies in its temp
  // folder was left by a killed one.
  TY_ASSIGN_OR_RETURN(adapter->objects_,
                      storage::LocalObjectStore::Open({.root = store_dir / "store",
                                                       .stale_temp_age = std::chrono::seconds(0)}));

  // Detached: each job's wrapper runs in its own session with its state in the work dir, so
  // that a `trainyard run` killed outright leaves its jobs running for --resume to adopt (the
  // registry adopts them as it opens the executor). The jobs get the allowlisted part of the
  // user's environment only (docs/security.md), and --env; a credential the user has in the
  // shell (AWS_*, TRAINYARD_TOKEN) stays there.
  ExecutorSettings executors;
  executors.local = {.work_dir = RunWorkDir(options.out_dir),
                     .wrapper_path = options.wrapper_path,
                     .environment = JobHostEnvironment(host_environment),
                     .keep_job_roots = options.keep_job_roots,
                     .detach_jobs = true,
                     .on_step = adapter->on_step_};
  if (options.executor == "slurm") {
    // The same, as Slurm batch jobs: their roots in OUT/.work, which the nodes must share;
    // Slurm's commands get the user's environment (SLURM_CONF, munge's socket), or slurmrestd
    // is called as --slurm-rest-user.
    SlurmSetup slurm;
    slurm.executor.work_dir = RunWorkDir(options.out_dir);
    slurm.executor.wrapper_path = options.wrapper_path;
    slurm.executor.job_environment = JobHostEnvironment(host_environment);
    slurm.executor.site = {.partition = options.slurm.partition,
                           .account = options.slurm.account,
                           .qos = options.slurm.qos,
                           .extra_sbatch_arguments = options.slurm.sbatch_args};
    slurm.executor.keep_job_roots = options.keep_job_roots;
    slurm.executor.detach_jobs = true;
    slurm.executor.on_step = adapter->on_step_;
    slurm.adopt_at_start = true;
    SetSlurmTransport(options.slurm, host_environment, slurm);
    executors.slurm = std::move(slurm);
  }
  TY_ASSIGN_OR_RETURN(adapter->executor_, OpenExecutor(options.executor, executors));

  control::SchedulerOptions scheduler;
  scheduler.work_dir = store_dir / "staging";
  // --parallel is the run's one limit: every job is a sweep of its own.
  scheduler.max_running = static_cast<int>(options.parallel);
  scheduler.on_step = adapter->on_step_;
  RunAdapter* self = adapter.get();
  scheduler.on_events = [self] {
    {
      std::lock_guard lock(self->wake_mutex_);
      self->woken_ = true;
    }
    self->wake_.notify_all();
  };
  // The run's own part of each job: its channels as they lie (no copy into a store), the
  // command as given (empty: trainyard-wrap resolves it), the stop grace and --env.
  scheduler.complete_job_spec = [options](const control::SweepRequest&, executor::JobSpec& spec) {
    for (const auto& [channel, path] : options.channels) {
      spec.definition.channels.push_back({channel});
      spec.channel_sources[channel] = path;
    }
    spec.command = options.command;
    spec.stop_grace_period = options.stop_grace_period;
    // --env as `trainyard run` checks it (core::ValidateEnvironment), which lets a job set the
    // wrapper's own TRAINYARD_* switches that a REST client may not.
    for (const auto& [key, value] : options.environment) {
      spec.definition.environment.emplace(key, value);
    }
    return Status::Ok();
  };
  adapter->scheduler_ = std::make_unique<control::Scheduler>(
      std::move(scheduler), *adapter->metadata_, *adapter->objects_,
      std::map<std::string, executor::Executor*>{{options.executor, adapter->executor_.get()}});
  return adapter;
}

control::SweepRequest RunAdapter::RequestFor(const RecordedJob& job) const {
  const RunOptions& options = record_.options;
  control::SweepRequest request;
  request.name = kSweepName;
  request.job_name = job.name;
  // A request names a command; the spec's is the run's own (complete_job_spec), which may be
  // empty.
  request.command = options.command.empty() ? std::vector<std::string>{"train"} : options.command;
  request.executor = options.executor;
  request.literal_hyperparameters = true;
  request.sweep.fixed = job.hyperparameters;
  request.max_runtime_seconds = options.max_runtime_seconds;
  request.metric_definitions = options.metric_definitions;
  request.objective = options.objective;
  request.idempotency_key = "run:" + job.name;
  return request;
}

Status RunAdapter::QueueRecordedJobs() {
  for (const RecordedJob& job : record_.jobs) {
    auto known = metadata_->GetJob(job.name);
    if (known.ok()) continue;
    if (known.status().code() != StatusCode::kNotFound) return known.status();
    control::SweepRequest request = RequestFor(job);
    // The scheduler reads the request back at every turn of its queue: one it could not read
    // would leave the job waiting for ever.
    auto readable =
        control::ParseSweepRequest(control::ToJson(request), control::SweepRequestOrigin::kStored);
    if (!readable.ok()) return readable.status().WithContext("job '" + job.name + "'");
    TY_RETURN_IF_ERROR(
        scheduler_->CreateSweep(request).status().WithContext("job '" + job.name + "'"));
  }
  return Status::Ok();
}

Result<RunStanding> RunAdapter::Standing() {
  RunStanding standing;
  for (const RecordedJob& job : record_.jobs) {
    auto record = metadata_->GetJob(job.name);
    if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
    if (!record.ok() || record->queued) {
      standing.to_start += 1;
    } else if (core::IsTerminal(record->status)) {
      standing.ended += 1;
    } else {
      // Claimed: launched if its executor knows it (the scheduler's recovery asks the same).
      auto known = executor_->Describe(record->executor_job_name);
      bool unknown = !known.ok() && known.status().code() == StatusCode::kNotFound;
      (unknown ? standing.to_start : standing.running) += 1;
    }
  }
  return standing;
}

Status RunAdapter::ReadChanges(std::set<std::string>* changed) {
  std::set<std::string> names;
  if (read_all_) {
    // The cursor first: what changes after it is read again at the next call.
    TY_ASSIGN_OR_RETURN(event_cursor_, metadata_->LastEventId());
    for (const RecordedJob& job : record_.jobs) names.insert(job.name);
    read_all_ = false;
  } else {
    while (true) {
      TY_ASSIGN_OR_RETURN(std::vector<metadata::Event> events,
                          metadata_->ListEvents(event_cursor_, {}));
      for (const metadata::Event& event : events) {
        if (!event.job_name.empty()) names.insert(event.job_name);
        event_cursor_ = event.id;
      }
      if (events.size() < 1000) break;
    }
  }
  for (const std::string& name : names) {
    auto record = metadata_->GetJob(name);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) continue;  // not queued yet
      return record.status();
    }
    records_[name] = std::move(record).value();
    changed->insert(name);
  }
  return Status::Ok();
}

Status RunAdapter::DeleteStoredOutputs(const std::string& job_name) {
  const std::string prefix = control::OutputKeysOf(RequestFor({job_name, {}}), job_name).archives;
  TY_ASSIGN_OR_RETURN(storage::ListPage page, objects_->List(prefix));
  for (const storage::ObjectInfo& object : page.objects) {
    TY_RETURN_IF_ERROR(objects_->Delete(object.key));
  }
  return Status::Ok();
}

Status RunAdapter::HandOut(const JobRecord& record) {
  const fs::path& out_dir = record_.options.out_dir;
  // Handed out before (by this process, or by one that was killed after status.json): kept as
  // it ended; what the store may still hold of it goes.
  auto recorded = ReadJobResultFile(out_dir, record.name);
  if (recorded.ok()) {
    handed_out_[record.name] = std::move(recorded).value();
    return DeleteStoredOutputs(record.name);
  }
  if (recorded.status().code() != StatusCode::kNotFound) return recorded.status();

  const fs::path job_dir = out_dir / record.name;
  TY_RETURN_IF_ERROR(MakeDirectories(job_dir));
  // model.tar.gz, output.tar.gz, training.log, job.json, metrics.jsonl, predictions*: one
  // level, as the scheduler stored them (a job's outputs are a handful of files).
  const std::string prefix =
      control::OutputKeysOf(RequestFor({record.name, {}}), record.name).archives;
  TY_ASSIGN_OR_RETURN(storage::ListPage page, objects_->List(prefix));
  for (const storage::ObjectInfo& object : page.objects) {
    const fs::path target = job_dir / object.key.substr(prefix.size());
    TY_ASSIGN_OR_RETURN(std::optional<fs::path> source, objects_->LocalFile(object.key));
    if (!source) return Internal("object '" + object.key + "' lies in no local file");
    TY_RETURN_IF_ERROR(PlaceFile(*source, target).WithContext("job '" + record.name + "'"));
  }
  TY_ASSIGN_OR_RETURN(JobResult result, JobResultOfRecord(record));
  TY_RETURN_IF_ERROR(WriteJobResultFile(out_dir, result));
  ReachStep(on_step_, "run.recorded", record.name);
  handed_out_[record.name] = std::move(result);
  // The results in place, the store lets go of its copies (links to the same files, or
  // copies). A kill in between leaves them to the resume, which deletes them then.
  return DeleteStoredOutputs(record.name);
}

bool RunAdapter::AllHandedOut() const {
  return handed_out_.size() == record_.jobs.size();
}

void RunAdapter::StopEveryJob() {
  for (const RecordedJob& job : record_.jobs) {
    auto record = records_.find(job.name);
    if (record != records_.end() && core::IsTerminal(record->second.status)) continue;
    if (Status stopped = scheduler_->StopJob(job.name); !stopped.ok()) {
      Logger("run").error("job={} could not be stopped: {}", job.name, stopped.message());
    }
  }
}

void RunAdapter::StopAndWaitForEveryEnd() {
  StopEveryJob();
  for (const RecordedJob& job : record_.jobs) {
    while (true) {
      auto record = metadata_->GetJob(job.name);
      if (!record.ok()) {
        if (record.status().code() != StatusCode::kNotFound) {
          Logger("run").error("job={} not followed to its end: {}", job.name,
                              record.status().message());
        }
        break;
      }
      if (core::IsTerminal(record->status)) break;
      std::this_thread::sleep_for(kIdleWait);
    }
  }
}

void RunAdapter::UpdateShown(const std::string& name) {
  auto position = positions_.find(name);
  if (position == positions_.end()) return;
  JobResult& shown = shown_[position->second];
  auto ended = handed_out_.find(name);
  if (ended != handed_out_.end()) {
    shown = ended->second;
    active_.erase(name);
    return;
  }
  auto record = records_.find(name);
  if (record == records_.end() || record->second.queued) {
    shown = {name, shown.hyperparameters, std::nullopt, 0};
    active_.erase(name);
    return;
  }
  auto result = JobResultOfRecord(record->second);
  if (!result.ok()) {
    Logger("run").warn("job={} not shown: {}", name, result.status().message());
    return;
  }
  shown = std::move(result).value();
  active_.insert(name);
}

void RunAdapter::Show(ProgressDisplay& display, bool stopping) {
  // The running jobs' times go on; the others' lines stay as they were last updated.
  for (const std::string& name : std::set<std::string>(active_)) UpdateShown(name);
  std::vector<DisplayedJob> displayed;
  displayed.reserve(shown_.size());
  for (const JobResult& result : shown_) {
    displayed.push_back({result.job_name, result.description ? &*result.description : nullptr,
                         result.duration_seconds});
  }
  display.Update(displayed, stopping ? "stopping (Ctrl-C): waiting for jobs to end" : "");
}

Status RunAdapter::WriteSummary(const std::vector<JobResult>& results) {
  const RunOptions& options = record_.options;
  json summary = {{"sweep", options.sweep_name}, {"jobs", json::array()}};
  if (options.objective) {
    summary["objective"] = {{"metric", options.objective->metric},
                            {"direction", core::ObjectiveGoalName(options.objective->goal)}};
  }
  for (const JobResult& result : results) summary["jobs"].push_back(JobResultJson(result));
  std::string text = summary.dump(2) + "\n";
  fs::path file = options.out_dir / "sweep.json";
  // Not rewritten when it already says the same: resuming a finished run changes nothing.
  std::error_code error;
  if (fs::exists(file, error)) {
    auto existing = ReadFile(file);
    if (existing.ok() && *existing == text) return Status::Ok();
  }
  TY_RETURN_IF_ERROR(SyncFileSystem(options.out_dir));
  return WriteFileAtomic(file, text);
}

Result<RunOutcome> RunAdapter::Run(ProgressDisplay& display, const std::atomic<bool>& interrupted) {
  for (const RecordedJob& job : record_.jobs) {
    positions_[job.name] = shown_.size();
    shown_.push_back({job.name, job.hyperparameters, std::nullopt, 0});
  }
  TY_RETURN_IF_ERROR(QueueRecordedJobs());
  TY_RETURN_IF_ERROR(scheduler_->Start());
  RunOutcome outcome;
  auto last_redraw = SteadyClock::now() - kRedrawInterval;
  while (true) {
    if (interrupted && !outcome.interrupted) {
      outcome.interrupted = true;
      StopEveryJob();
    }
    std::set<std::string> changed;
    Status status = ReadChanges(&changed);
    for (const std::string& name : changed) {
      if (!status.ok()) break;
      const JobRecord& record = records_.at(name);
      if (core::IsTerminal(record.status) && !handed_out_.count(name)) status = HandOut(record);
      UpdateShown(name);
    }
    if (!status.ok()) {
      Logger("run").error("the run stops every job: {}", status.message());
      StopAndWaitForEveryEnd();
      return status;
    }
    if (!changed.empty() || SteadyClock::now() - last_redraw >= kRedrawInterval) {
      Show(display, outcome.interrupted);
      last_redraw = SteadyClock::now();
    }
    if (AllHandedOut()) break;
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, kIdleWait, [this] { return woken_; });
    woken_ = false;
  }
  display.Close();
  scheduler_->Shutdown();

  outcome.all_completed = true;
  for (const RecordedJob& job : record_.jobs) {
    JobResult& result = handed_out_.at(job.name);
    outcome.all_completed = outcome.all_completed && result.description &&
                            result.description->status.status() == core::JobStatus::kCompleted;
    outcome.results.push_back(result);
  }
  SortBestFirst(outcome.results, record_.options.objective);
  ReachStep(on_step_, "run.summarizing", record_.options.sweep_name);
  TY_RETURN_IF_ERROR(WriteSummary(outcome.results));
  return outcome;
}

}  // namespace trainyard::app
