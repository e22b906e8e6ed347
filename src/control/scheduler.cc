#include "control/scheduler.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <variant>

#include "common/files.h"
#include "common/log.h"
#include "control/early_stop.h"
#include "control/job_tokens.h"
#include "control/scheduler_internal.h"
#include "control/sweep_search.h"
#include "core/job_naming.h"
#include "core/job_status.h"
#include "core/sagemaker_limits.h"
#include "executor/job_root.h"

namespace trainyard::control {
namespace fs = std::filesystem;
using metadata::Event;
using metadata::JobRecord;

namespace {

TimePoint Now() {
  return std::chrono::system_clock::now();
}

bool IsEnded(const JobRecord& job) {
  return core::IsTerminal(job.status);
}

// Closes the open transition and opens `status`.
void AppendTransition(JobRecord& job, core::SecondaryStatus status, const std::string& message,
                      TimePoint now) {
  if (!job.transitions.empty()) job.transitions.back().end_time = now;
  job.transitions.push_back({status, now, std::nullopt, message});
  job.secondary_status = status;
  job.status = core::PrimaryStatusOf(status);
}

// Takes the executor's view of the job's status and its history, and the image it runs once
// the executor has resolved it (an executor that does not know it leaves what was recorded).
void CopyStatus(JobRecord& job, const executor::JobDescription& description) {
  const core::JobStatusTracker& tracker = description.status;
  job.status = tracker.status();
  job.secondary_status = tracker.secondary_status();
  job.transitions = tracker.transitions();
  if (!description.image_digest.empty()) {
    job.image = description.image;
    job.image_digest = description.image_digest;
  }
}

}  // namespace

void ResetForQueue(JobRecord& job, const std::string& message) {
  job.queued = true;
  job.status = core::JobStatus::kInProgress;
  job.secondary_status = core::SecondaryStatus::kStarting;
  job.transitions = {{core::SecondaryStatus::kStarting, Now(), std::nullopt, message}};
  job.failure_reason.clear();
  job.exit_code.reset();
  job.token_sha256.clear();
  job.started_at.reset();
  job.ended_at.reset();
  job.stop_reason.clear();
  // A new run resolves its image again (a retry gets its sweep's pinned digest).
  job.image.clear();
  job.image_digest.clear();
}

namespace {

// Logs a failure that the queue thread cannot return to anyone; true when `status` is OK.
bool LogIfFailed(const Status& status, const std::string& job_name, const char* what) {
  if (!status.ok()) {
    Logger("control").error("job={} {}: {}", job_name, what, status.message());
  }
  return status.ok();
}

}  // namespace

std::string AttemptName(const std::string& job_name, int attempt) {
  if (attempt == 0) return job_name;
  std::string suffix = "-r" + std::to_string(attempt);
  return job_name.substr(0, core::kMaxTrainingJobNameLength - suffix.size()) + suffix;
}

namespace {

// A sweep's trainer is of the kind its executor runs; the message says which field to give.
Status CheckTrainer(const SweepRequest& request, const executor::Executor& executor) {
  const bool gives_image = !request.image.empty();
  switch (executor.AcceptedTrainer()) {
    case executor::TrainerKind::kImage:
      if (gives_image) return Status::Ok();
      return FieldError("trainer",
                        "the " + executor.name() + " executor runs an image: give trainer.image");
    case executor::TrainerKind::kCommand:
      if (!gives_image) return Status::Ok();
      return FieldError(
          "trainer", "the " + executor.name() + " executor runs a command: give trainer.command");
    case executor::TrainerKind::kImageOrCommand: return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

std::string OutputPrefix(const std::string& job_name) {
  return OutputKeysOf(SweepRequest(), job_name).archives;
}

OutputKeys OutputKeysOf(const SweepRequest& request, const std::string& job_name) {
  OutputKeys keys;
  keys.archives = request.output_root + job_name + "/output/";
  keys.files = request.files_root.empty() ? keys.archives : request.files_root + job_name + "/";
  return keys;
}

Scheduler::Scheduler(SchedulerOptions options, metadata::MetadataStore& metadata,
                     storage::ObjectStore& objects,
                     std::map<std::string, executor::Executor*> executors)
    : options_(std::move(options)),
      metadata_(metadata),
      objects_(objects),
      executors_(std::move(executors)) {
  for (const auto& [name, executor] : executors_) {
    executor->SetStatusListener([this](const std::string&) { WakeToFollow(); });
  }
}

Scheduler::~Scheduler() {
  Shutdown();
}

Status Scheduler::Start() {
  TY_RETURN_IF_ERROR(MakeDirectories(options_.work_dir));
  {
    std::lock_guard lock(mutex_);
    TY_RETURN_IF_ERROR(Recover());
    RemoveStaleWorkDirs();
  }
  finisher_ = std::thread([this] { FinisherLoop(); });
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Scheduler::Shutdown() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // What the queue thread handed over is finished first: those jobs' code has ended, and
  // recording that now spares the next start the work.
  {
    std::lock_guard lock(finisher_mutex_);
    finisher_stopping_ = true;
  }
  finisher_wake_.notify_all();
  if (finisher_.joinable()) finisher_.join();
  // Unhooked here, not in the destructor: the executors may go before the scheduler object.
  if (!listeners_removed_) {
    for (const auto& [name, executor] : executors_) executor->SetStatusListener(nullptr);
    listeners_removed_ = true;
  }
}

void Scheduler::WakeToFollow() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_to_follow_ = true;
  }
  wake_.notify_all();
}

void Scheduler::StopClaiming() {
  claiming_ = false;
  size_t running = 0;
  {
    std::lock_guard lock(mutex_);
    running = running_.size() + finishing_.size();
  }
  Logger("control").info(
      "owner={} draining: claims no more queued jobs and takes over no expired lease; follows "
      "its {} running jobs to their end",
      options_.owner_id, running);
  WakeToFollow();
}

void Scheduler::Wake() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

std::chrono::steady_clock::time_point Scheduler::NextClaimRound() {
  const auto interval = options_.poll_interval.count();
  std::uniform_int_distribution<int64_t> jitter(interval / 2, interval + interval / 2);
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(jitter(claim_jitter_));
}

void Scheduler::Loop() {
  auto next_claims = NextClaimRound();
  while (true) {
    bool claim = true;
    {
      std::unique_lock lock(wake_mutex_);
      const auto until = options_.spread_claims
                             ? next_claims
                             : std::chrono::steady_clock::now() + options_.poll_interval;
      wake_.wait_until(lock, until, [this] { return woken_ || woken_to_follow_ || stopping_; });
      if (stopping_) return;
      if (options_.spread_claims) {
        claim = woken_ || std::chrono::steady_clock::now() >= next_claims;
        if (claim) next_claims = NextClaimRound();
      }
      woken_ = woken_to_follow_ = false;
    }
    std::vector<EndedJob> ended = Pass(claim);
    if (ended.empty()) continue;
    {
      std::lock_guard lock(finisher_mutex_);
      for (EndedJob& job : ended) to_finish_.push_back(std::move(job));
    }
    finisher_wake_.notify_all();
  }
}

void Scheduler::FinisherLoop() {
  while (true) {
    std::unique_lock lock(finisher_mutex_);
    finisher_wake_.wait(lock, [this] { return finisher_stopping_ || !to_finish_.empty(); });
    if (to_finish_.empty()) return;  // stopping, and nothing left
    EndedJob job = std::move(to_finish_.front());
    to_finish_.pop_front();
    lock.unlock();
    FinishEnded(std::move(job));
  }
}

void Scheduler::RunOnce() {
  for (EndedJob& job : Pass()) FinishEnded(std::move(job));
}

std::vector<Scheduler::EndedJob> Scheduler::Pass(bool claim) {
  std::lock_guard lock(mutex_);
  KeepLeases();
  std::vector<EndedJob> ended = FollowRunning();
  StopJobsEarly();
  for (const EndedJob& job : ended) finishing_.insert(job.record.name);
  SuggestForSearches();
  // The slots of the jobs that ended are filled before their outputs are stored (the claims
  // do not count the jobs in finishing_): storing is no work of the executor's, and a search's
  // short trials should not wait for it.
  if (claim && claiming_.load()) StartQueued();
  if (!claiming_.load() && running_.empty() && finishing_.empty() && !drained_logged_) {
    drained_logged_ = true;
    Logger("control").info(
        "owner={} drained: no job runs here any more and none is claimed; it can be stopped",
        options_.owner_id);
  }
  return ended;
}

void Scheduler::FinishEnded(EndedJob job) {
  const std::string name = job.record.name;
  bool recorded = LogIfFailed(Finish(std::move(job.record), job.description, job.keys), name,
                              "its end could not be recorded");
  std::lock_guard lock(mutex_);
  finishing_.erase(name);
  // Followed again when the end could not be recorded: the next pass finishes it again.
  if (!recorded) running_[name] = job.running;
}

Result<SweepRequest> Scheduler::RequestOf(const std::string& sweep_id) {
  auto cached = requests_.find(sweep_id);
  if (cached != requests_.end()) return cached->second;
  TY_ASSIGN_OR_RETURN(metadata::SweepRecord sweep, metadata_.GetSweep(sweep_id));
  TY_ASSIGN_OR_RETURN(SweepRequest request,
                      ParseSweepRequest(sweep.spec, SweepRequestOrigin::kStored));
  requests_[sweep_id] = request;
  return request;
}

fs::path Scheduler::JobWorkDir(const std::string& executor_job_name) const {
  return options_.work_dir / executor_job_name;
}

fs::path Scheduler::ArtifactDir(const std::string& executor_name,
                                const std::string& executor_job_name) const {
  if (auto executor = executors_.find(executor_name); executor != executors_.end()) {
    fs::path shared = executor->second->SharedArtifactDir(executor_job_name);
    if (!shared.empty()) return shared;
  }
  return JobWorkDir(executor_job_name) / "artifacts";
}

namespace {
Event StatusEvent(const JobRecord& job, const std::string& message) {
  Event event;
  event.type = "job.status";
  event.sweep_id = job.sweep_id;
  event.job_name = job.name;
  event.data = {{"status", core::ToString(job.status)},
                {"secondary_status", core::ToString(job.secondary_status)},
                {"queued", job.queued},
                {"attempt", job.attempt}};
  if (!job.failure_reason.empty()) event.data["failure_reason"] = job.failure_reason;
  // Early stopping's decision (docs/search.md), so that a page following events can mark the job.
  if (!job.stop_reason.empty()) event.data["stop_reason"] = job.stop_reason;
  if (!message.empty()) event.data["message"] = message;
  return event;
}
}  // namespace

Status Scheduler::WriteState(const JobRecord& job, const std::string& message) {
  auto written = metadata_.UpdateJobState(job, {StatusEvent(job, message)});
  if (options_.on_events) options_.on_events();
  return written.status();
}

int Scheduler::SearchSlots(const SweepRequest& request) const {
  return request.max_parallel > 0 ? std::min(request.max_parallel, options_.max_running)
                                  : options_.max_running;
}

Result<CreatedSweep> Scheduler::CreateSweep(const SweepRequest& given) {
  SweepRequest request = given;
  // A search keeps its seed with the sweep, so that its suggestions can be made again.
  if (request.search.strategy != core::SearchStrategy::kGrid && !request.search.random_seed) {
    request.search.random_seed = NewRandomSeed();
  }
  auto executor = executors_.find(request.executor);
  if (executor == executors_.end()) {
    std::string known;
    for (const auto& entry : executors_) known += (known.empty() ? "" : ", ") + entry.first;
    return FieldError("executor",
                      "'" + request.executor + "' is not configured here (known: " + known + ")");
  }
  TY_RETURN_IF_ERROR(CheckTrainer(request, *executor->second));
  if (Status user = executor->second->CheckRunAsUser(request.slurm_user); !user.ok()) {
    return FieldError("slurm.user", user.message());
  }
  if (Status image = executor->second->CheckTrainerImage(request.image); !image.ok()) {
    return image.code() == StatusCode::kFailedPrecondition
               ? FieldError("trainer.image", image.message())
               : image;
  }
  TY_ASSIGN_OR_RETURN(std::vector<core::HyperparameterMap> combinations,
                      InitialJobs(request, SearchSlots(request)));
  if (!request.job_name.empty() && combinations.size() != 1) {
    return FieldError("job_name", "names the one job of a sweep, and this sweep has " +
                                      std::to_string(combinations.size()) + " jobs");
  }
  std::vector<std::string> dataset_ids;
  for (const auto& [channel, source] : request.channels) {
    if (const auto* prefix = std::get_if<ObjectPrefixChannel>(&source)) {
      auto page = objects_.List(prefix->key_prefix, "", 1);
      if (!page.ok()) return page.status();
      if (page->objects.empty()) {
        return NotFound("field 'channels." + channel + "': no object's key starts with '" +
                        prefix->key_prefix + "'");
      }
      continue;
    }
    const std::string& id = std::get<DatasetChannel>(source).dataset_id;
    auto dataset = metadata_.GetDataset(id);
    if (!dataset.ok()) {
      if (dataset.status().code() == StatusCode::kNotFound) {
        return NotFound("field 'channels." + channel + "': dataset '" + id + "' not found");
      }
      return dataset.status();
    }
    dataset_ids.push_back(id);
  }

  metadata::SweepRecord sweep;
  sweep.id = "sw-" + RandomHex(16);
  sweep.name = request.name;
  sweep.spec = ToJson(request);
  sweep.idempotency_key = request.idempotency_key;
  sweep.created_at = Now();
  // A search names its jobs for all max_jobs it may start, as a grid for all its jobs.
  const size_t name_count = request.search.strategy == core::SearchStrategy::kGrid
                                ? combinations.size()
                                : static_cast<size_t>(request.search.max_jobs);
  std::vector<JobRecord> jobs;
  jobs.reserve(combinations.size());
  for (size_t i = 0; i < combinations.size(); ++i) {
    jobs.push_back(NewQueuedJob(request, sweep.id, i, name_count, std::move(combinations[i]),
                                sweep.created_at));
  }
  TY_ASSIGN_OR_RETURN(metadata::SweepRecord stored,
                      metadata_.CreateSweep(sweep, dataset_ids, jobs));
  if (stored.id == sweep.id) {
    // Its search is driven here (or, taken already by another server sharing the store, there);
    // a sweep with nothing to drive has its search ended at once, so that no server takes it.
    std::lock_guard lock(mutex_);
    const TimePoint now = Now();
    auto driven =
        SuggestsFromResults(request.search)
            ? metadata_.ClaimSearch(sweep.id, options_.owner_id, now, now + options_.lease_duration)
            : metadata_.EndSearch(sweep.id, options_.owner_id);
    if (!driven.ok()) {
      // Created all the same: the search is taken over (or ended) by a server's next lease check.
      Logger("control").error("sweep={} its search lease could not be written: {}", sweep.id,
                              driven.status().message());
    } else if (*driven && SuggestsFromResults(request.search)) {
      searching_.insert(sweep.id);
    }
  }
  if (options_.on_events) options_.on_events();
  Wake();
  CreatedSweep result;
  result.created = stored.id == sweep.id;
  result.sweep = std::move(stored);
  result.job_count = jobs.size();
  return result;
}

JobRecord Scheduler::NewQueuedJob(const SweepRequest& request, const std::string& sweep_id,
                                  size_t index, size_t name_count,
                                  core::HyperparameterMap hyperparameters, TimePoint created_at) {
  JobRecord job;
  if (!request.job_name.empty()) {
    job.name = request.job_name;
  } else if (options_.job_name) {
    job.name = options_.job_name(request, sweep_id, index, name_count);
  } else {
    job.name = core::MakeJobName(request.name + "-" + sweep_id.substr(3, 6), index, name_count);
  }
  job.sweep_id = sweep_id;
  job.index = static_cast<int64_t>(index);
  job.executor = request.executor;
  job.hyperparameters = std::move(hyperparameters);
  job.executor_job_name = job.name;
  ResetForQueue(job, "Waiting in the queue");
  job.created_at = created_at;
  return job;
}

Status Scheduler::EndWithoutRunning(JobRecord job, core::SecondaryStatus status,
                                    const std::string& unmasked_message) {
  const std::string message = options_.secret_mask.Apply(unmasked_message);
  AppendTransition(job, status, message, Now());
  job.queued = false;
  job.ended_at = Now();
  if (status == core::SecondaryStatus::kFailed) job.failure_reason = message;
  return WriteState(job, message);
}

Result<bool> Scheduler::EndQueued(JobRecord job, core::SecondaryStatus status,
                                  const std::string& unmasked_message) {
  const std::string message = options_.secret_mask.Apply(unmasked_message);
  AppendTransition(job, status, message, Now());
  job.queued = false;
  job.ended_at = Now();
  if (status == core::SecondaryStatus::kFailed) job.failure_reason = message;
  // A claim, so that a server claiming the job at the same instant cannot start it as well.
  TY_ASSIGN_OR_RETURN(metadata::ClaimResult ended,
                      metadata_.ClaimJob(job, {StatusEvent(job, message)}));
  if (ended.claimed() && options_.on_events) options_.on_events();
  return ended.claimed();
}

Status Scheduler::StopJob(const std::string& job_name) {
  std::lock_guard lock(mutex_);
  return StopJobLocked(job_name, "Stopping the job");
}

Status Scheduler::StopJobLocked(const std::string& job_name, const std::string& message) {
  TY_ASSIGN_OR_RETURN(JobRecord job, metadata_.GetJob(job_name));
  if (IsEnded(job)) return Status::Ok();
  if (job.queued) {
    JobRecord stopping = job;
    AppendTransition(stopping, core::SecondaryStatus::kStopping, message, Now());
    TY_ASSIGN_OR_RETURN(bool stopped,
                        EndQueued(std::move(stopping), core::SecondaryStatus::kStopped,
                                  "Stopped before it started"));
    if (stopped) return Status::Ok();
    // A server claimed it meanwhile: it is stopped as a running job.
    TY_ASSIGN_OR_RETURN(job, metadata_.GetJob(job_name));
    if (IsEnded(job)) return Status::Ok();
  }
  if (finishing_.count(job_name)) return Status::Ok();  // its code has ended already
  auto running = running_.find(job_name);
  if (running == running_.end()) {
    if (job.owner == options_.owner_id) {
      return Internal("job '" + job_name + "' is not followed");
    }
    // Another server follows it: the Stopping recorded here is its word to stop the job, acted
    // on at its next pass.
    if (job.status != core::JobStatus::kStopping) {
      AppendTransition(job, core::SecondaryStatus::kStopping, "Stopping the job", Now());
      TY_RETURN_IF_ERROR(WriteState(job, "stop requested"));
    }
    return Status::Ok();
  }
  TY_RETURN_IF_ERROR(running->second.executor->Stop(job.executor_job_name));
  // Recorded at once, so that whoever asked sees the job Stopping; the executor's own
  // transitions replace these at the next pass.
  if (job.status != core::JobStatus::kStopping) {
    AppendTransition(job, core::SecondaryStatus::kStopping, message, Now());
    LogIfFailed(WriteState(job, "stop requested"), job_name, "its stop could not be recorded");
  }
  Wake();
  return Status::Ok();
}

Status Scheduler::StopSweep(const std::string& sweep_id) {
  TY_RETURN_IF_ERROR(metadata_.SetSweepStopRequested(sweep_id, true));
  metadata::JobFilter filter;
  filter.sweep_id = sweep_id;
  filter.limit = 1000;
  while (true) {
    TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata_.ListJobs(filter));
    for (const JobRecord& job : page.jobs) {
      if (!IsEnded(job)) TY_RETURN_IF_ERROR(StopJob(job.name));
    }
    if (!page.truncated || page.jobs.empty()) return Status::Ok();
    filter.after_queue_position = page.jobs.back().queue_position;
  }
}

Result<std::vector<std::string>> Scheduler::RetrySweep(const std::string& sweep_id) {
  std::lock_guard lock(mutex_);
  TY_RETURN_IF_ERROR(metadata_.SetSweepStopRequested(sweep_id, false));
  std::vector<std::string> retried;
  metadata::JobFilter filter;
  filter.sweep_id = sweep_id;
  filter.status = "Failed";
  filter.limit = 1000;
  while (true) {
    TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata_.ListJobs(filter));
    for (JobRecord job : page.jobs) {
      job.attempt += 1;
      job.executor_job_name = AttemptName(job.name, job.attempt);
      ResetForQueue(job, "Waiting in the queue (retry " + std::to_string(job.attempt) + ")");
      TY_RETURN_IF_ERROR(WriteState(job, "queued again"));
      retried.push_back(job.name);
    }
    if (!page.truncated || page.jobs.empty()) break;
    filter.after_queue_position = page.jobs.back().queue_position;
  }
  Wake();
  return retried;
}

Status Scheduler::Recover() {
  // This server's jobs stay its own while it recovers them.
  TY_RETURN_IF_ERROR(
      metadata_.RenewLeases(options_.owner_id, Now() + options_.lease_duration).status());
  TY_RETURN_IF_ERROR(RecoverSearches());
  for (const char* status : {"InProgress", "Stopping"}) {
    metadata::JobFilter filter;
    filter.status = status;
    filter.limit = 1000;
    while (true) {
      TY_ASSIGN_OR_RETURN(metadata::JobPage page, metadata_.ListJobs(filter));
      for (JobRecord job : page.jobs) {
        // Another server's: it is taken over if that server's lease on it expires (KeepLeases).
        if (!job.owner.empty() && job.owner != options_.owner_id) continue;
        auto executor = executors_.find(job.executor);
        if (executor == executors_.end()) {
          TY_RETURN_IF_ERROR(EndWithoutRunning(job, core::SecondaryStatus::kFailed,
                                               "InternalServerError: the job's executor '" +
                                                   job.executor +
                                                   "' is not configured on this server any more"));
          continue;
        }
        if (executor->second->ReachableFromAnyServer()) {
          // Its executor follows only the jobs its server asks for (others share its records).
          Status adopted = executor->second->Adopt(
              job.executor_job_name, ArtifactDir(job.executor, job.executor_job_name));
          if (!adopted.ok() && adopted.code() != StatusCode::kNotFound) {
            Logger("control").warn("job={} cannot be adopted after the restart: {}", job.name,
                                   adopted.message());
          }
        }
        auto description = executor->second->Describe(job.executor_job_name);
        if (description.ok() || description.status().code() != StatusCode::kNotFound) {
          // Known, or the executor cannot tell now (SageMaker unreachable): followed, and asked
          // again at every pass until it answers.
          if (!description.ok()) {
            Logger("control").warn("job={} cannot be described after the restart: {}", job.name,
                                   description.status().message());
          }
          running_[job.name] = {executor->second, job.sweep_id, job.transitions.size()};
          continue;
        }
        if (executor->second->RemembersJobsAcrossRestarts()) {
          TY_RETURN_IF_ERROR(RequeueUnstarted(std::move(job)));
          continue;
        }
        auto request = RequestOf(job.sweep_id);
        if (request.ok() && request->requeue_on_restart) {
          job.attempt += 1;
          job.executor_job_name = AttemptName(job.name, job.attempt);
          ResetForQueue(job, "Queued again: the server restarted while it ran");
          TY_RETURN_IF_ERROR(WriteState(job, "queued again after a server restart"));
        } else {
          TY_RETURN_IF_ERROR(EndWithoutRunning(
              job, core::SecondaryStatus::kFailed,
              "InternalServerError: the trainyard server stopped while the job ran, and its "
              "executor no longer knows it; retry the sweep's failed jobs to run it again"));
        }
      }
      if (!page.truncated || page.jobs.empty()) break;
      filter.after_queue_position = page.jobs.back().queue_position;
    }
  }
  return Status::Ok();
}

Status Scheduler::RequeueUnstarted(JobRecord job) {
  if (job.status == core::JobStatus::kStopping) {
    return EndWithoutRunning(std::move(job), core::SecondaryStatus::kStopped,
                             "Stopped before it started");
  }
  Logger("control").info("job={} had not started when the server stopped: queued again", job.name);
  ResetForQueue(job, "Waiting in the queue (the server restarted before the job started)");
  return WriteState(job, "queued again: it had not started when the server stopped");
}

void Scheduler::RemoveStaleWorkDirs() {
  std::set<std::string> owned;
  for (const auto& [name, running] : running_) {
    auto job = metadata_.GetJob(name);
    if (job.ok()) owned.insert(job->executor_job_name);
  }
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(options_.work_dir, error)) {
    if (owned.count(entry.path().filename().string())) continue;
    std::error_code removed;
    fs::remove_all(entry.path(), removed);
    if (removed) {
      Logger("control").error("work_dir={} could not be removed: {}", entry.path().string(),
                              removed.message());
    }
  }
  if (error) {
    Logger("control").error("work_dir={} could not be listed: {}", options_.work_dir.string(),
                            error.message());
  }
}

std::vector<Scheduler::EndedJob> Scheduler::FollowRunning() {
  std::vector<EndedJob> ended;
  for (auto it = running_.begin(); it != running_.end();) {
    const std::string name = it->first;
    Running& running = it->second;
    if (!running.adopted && !AdoptTakenOver(name, running)) {
      ++it;
      continue;
    }
    if (!running.adopted) {  // ended, or queued again: no longer this server's to follow
      it = running_.erase(it);
      continue;
    }
    auto job = metadata_.GetJob(name);
    if (!job.ok()) {
      Logger("control").error("job={} cannot be read: {}", name, job.status().message());
      ++it;
      continue;
    }
    if (!job->owner.empty() && job->owner != options_.owner_id) {
      // Taken over since the last renewal: its end is the new owner's to record.
      Logger("control").warn("job={} was taken over by owner={}: no longer followed here", name,
                             job->owner);
      it = running_.erase(it);
      continue;
    }
    auto description = running.executor->Describe(job->executor_job_name);
    if (!description.ok() && description.status().code() != StatusCode::kNotFound) {
      Logger("control").warn("job={} cannot be described now: {}", name,
                             description.status().message());
      ++it;
      continue;
    }
    if (!description.ok()) {
      LogIfFailed(EndWithoutRunning(*job, core::SecondaryStatus::kFailed,
                                    "InternalServerError: the executor lost the job: " +
                                        description.status().message()),
                  name, "its end could not be recorded");
      it = running_.erase(it);
      continue;
    }
    const core::JobStatusTracker& tracker = description->status;
    if (job->status == core::JobStatus::kStopping && !core::IsTerminal(tracker.status()) &&
        tracker.status() != core::JobStatus::kStopping && !running.stop_forwarded) {
      // Another server recorded a stop of this job (StopJob): it is this server's to deliver.
      running.stop_forwarded = true;
      LogIfFailed(running.executor->Stop(job->executor_job_name), name,
                  "the stop recorded by another server could not be delivered");
      ++it;
      continue;
    }
    RecordExecutorMetrics(*job, *description);
    if (core::IsTerminal(tracker.status())) {
      auto request = RequestOf(job->sweep_id);
      if (!request.ok()) {
        // Where its outputs go is the request's: the next pass asks again.
        Logger("control").error("job={} ended, but its sweep's request cannot be read: {}", name,
                                request.status().message());
        ++it;
        continue;
      }
      OutputKeys keys = OutputKeysOf(*request, name);
      if (options_.spread_claims && job->status == core::JobStatus::kInProgress &&
          job->secondary_status != core::SecondaryStatus::kUploading) {
        // Its slot is free for every server's claims from now (ClaimJob does not count
        // Uploading), not only for this one's while it stores the outputs.
        JobRecord uploading = *job;
        AppendTransition(uploading, core::SecondaryStatus::kUploading,
                         "Uploading generated training model", Now());
        if (LogIfFailed(WriteState(uploading), name, "its Uploading could not be recorded")) {
          *job = std::move(uploading);
        }
      }
      ended.push_back(
          {std::move(job).value(), std::move(description).value(), running, std::move(keys)});
      it = running_.erase(it);
      continue;
    }
    // A new status, or a new message of the current one ("Downloading the training image",
    // then the image's digest: container.md).
    const bool message_changed =
        !job->transitions.empty() && job->transitions.size() == tracker.transitions().size() &&
        job->transitions.back().message != tracker.transitions().back().message;
    const bool image_resolved =
        !description->image_digest.empty() && description->image_digest != job->image_digest;
    if (tracker.transitions().size() != running.transitions_seen || message_changed ||
        image_resolved) {
      JobRecord updated = *job;
      CopyStatus(updated, *description);
      if (LogIfFailed(WriteState(updated), name, "its new status could not be recorded")) {
        running.transitions_seen = tracker.transitions().size();
        if (tracker.secondary_status() == core::SecondaryStatus::kTraining) {
          ReachStep(options_.on_step, "scheduler.running", name);
        }
      }
    }
    ++it;
  }
  return ended;
}

void Scheduler::RecordExecutorMetrics(const JobRecord& job,
                                      const executor::JobDescription& description) {
  // A job with a callback posts its metrics itself (server/api records them).
  if (!options_.callback_base_url.empty()) return;
  metadata::ProgressUpdate update;
  const TimePoint now = Now();
  for (const auto& [name, value] : description.metrics) {
    auto known = job.metrics.find(name);
    if (known != job.metrics.end() && known->second == value) continue;
    update.metrics.push_back({name, value, std::nullopt, now});
  }
  // The progress file's snapshot, as a callback would post it (an executor that reads none
  // describes an empty object).
  if (description.progress.is_object() && !description.progress.empty() &&
      description.progress != job.progress) {
    update.progress = description.progress;
  }
  if (update.metrics.empty() && !update.progress) return;
  auto recorded = metadata_.RecordProgress(job.name, update);
  if (!recorded.ok()) {
    Logger("control").warn("job={} progress from its executor not recorded: {}", job.name,
                           recorded.status().message());
    return;
  }
  if (options_.on_events) options_.on_events();
}

Status Scheduler::Finish(JobRecord job, const executor::JobDescription& description,
                         const OutputKeys& keys) {
  CopyStatus(job, description);
  // What the job said (its failure file, its last log lines) may hold a secret it printed.
  for (core::StatusTransition& transition : job.transitions) {
    transition.message = options_.secret_mask.Apply(transition.message);
  }
  job.failure_reason = options_.secret_mask.Apply(description.status.failure_reason());
  job.exit_code = description.exit_code;
  job.ended_at = description.status.end_time().value_or(Now());
  SettleStopReason(job);
  if (Status stored = StoreOutputs(job, keys); !stored.ok()) {
    // The outputs are part of the result: a job whose model could not be kept did not complete.
    Logger("control").error("job={} outputs could not be stored: {}", job.name, stored.message());
    // A transition of its own: readers take a job's status from its last transition (the
    // tracker's JSON, `trainyard run`'s status.json), which must not still say Completed.
    job.failure_reason = options_.secret_mask.Apply(
        "InternalServerError: could not store the job's outputs: " + stored.message());
    const TimePoint failed_at = Now();
    AppendTransition(job, core::SecondaryStatus::kFailed, job.failure_reason, failed_at);
    job.ended_at = failed_at;
  }
  ReachStep(options_.on_step, "scheduler.stored", job.name);
  // The end is recorded before the work dir goes: a kill in between leaves a stale dir (removed
  // at the next start), never an ended job whose outputs are gone.
  TY_RETURN_IF_ERROR(RecordEnd(job));
  std::error_code error;
  fs::remove_all(JobWorkDir(job.executor_job_name), error);
  if (error) {
    Logger("control").error("job={} work dir could not be removed: {}", job.name, error.message());
  }
  // Packed where every server reads them (SharedArtifactDir): stored now, so no longer needed.
  const fs::path artifacts = ArtifactDir(job.executor, job.executor_job_name);
  if (artifacts == JobWorkDir(job.executor_job_name) / "artifacts") return Status::Ok();
  fs::remove_all(artifacts, error);
  if (error) {
    Logger("control").error("job={} artifacts '{}' could not be removed: {}", job.name,
                            artifacts.string(), error.message());
  }
  return Status::Ok();
}

Status Scheduler::StoreOutputs(const JobRecord& job, const OutputKeys& keys) {
  const fs::path artifacts = ArtifactDir(job.executor, job.executor_job_name);
  std::error_code error;
  if (!fs::is_directory(artifacts, error)) return Status::Ok();  // ended before it had any
  for (const fs::directory_entry& entry : fs::directory_iterator(artifacts, error)) {
    if (!entry.is_regular_file()) continue;
    // A packing killed half-way leaves its temporary file; it is no output of the job.
    if (executor::IsArtifactTemporary(entry.path().filename().string())) {
      Logger("control").warn("job={} half-written artifact '{}' is not stored", job.name,
                             entry.path().filename().string());
      continue;
    }
    if (entry.path().filename() == "training.log") {
      TY_RETURN_IF_ERROR(options_.secret_mask.ApplyToFile(entry.path()));
    }
    std::ifstream file(entry.path(), std::ios::binary);
    if (!file) return Internal("cannot read '" + entry.path().string() + "'");
    const std::string file_name = entry.path().filename().string();
    const bool archive = file_name == "model.tar.gz" || file_name == "output.tar.gz";
    std::string key = (archive ? keys.archives : keys.files) + file_name;
    auto put = objects_.Put(key, file, fs::file_size(entry.path()));
    if (!put.ok()) return put.status();
    ReachStep(options_.on_step, "scheduler.storing", job.name);
  }
  if (error) return Internal("cannot list '" + artifacts.string() + "': " + error.message());
  return Status::Ok();
}

Result<fs::path> Scheduler::StageChannel(const std::string& job_name, const std::string& channel,
                                         const metadata::DatasetRecord& dataset) {
  // A dataset whose bytes already lie in a file of its own name (the local object store) is
  // used in place; otherwise, or when asking fails, it is copied, and the copy reports a
  // missing object itself.
  auto local_file = objects_.LocalFile(dataset.object_key);
  if (local_file.ok() && *local_file && (*local_file)->filename() == dataset.filename) {
    return **local_file;
  }
  fs::path staged = JobWorkDir(job_name) / "channels" / channel / dataset.filename;
  TY_RETURN_IF_ERROR(MakeDirectories(staged.parent_path()));
  std::ofstream file(staged, std::ios::binary | std::ios::trunc);
  if (!file) return Internal("cannot write '" + staged.string() + "'");
  TY_RETURN_IF_ERROR(objects_.Get(dataset.object_key, file));
  file.close();
  if (!file) return Internal("cannot write '" + staged.string() + "'");
  return staged;
}

Result<fs::path> Scheduler::StageObjectPrefix(const std::string& job_name,
                                              const std::string& channel,
                                              const std::string& key_prefix) {
  // SageMaker's S3Prefix is a key-name prefix, not a folder: "data/train" takes "data/train.csv"
  // as well as "data/train/part-1". Each object goes to its key minus the prefix's part up to
  // its last '/', which keeps "train.csv" and "train/part-1" apart; keys checked by the store
  // (storage::ValidateObjectKey: no "..", "//" or leading '/') stay inside the channel.
  const fs::path directory = JobWorkDir(job_name) / "channels" / channel;
  // What a staging cut short by a kill left behind.
  std::error_code error;
  fs::remove_all(directory, error);
  TY_RETURN_IF_ERROR(MakeDirectories(directory));
  const size_t last_slash = key_prefix.rfind('/');
  const size_t strip = last_slash == std::string::npos ? 0 : last_slash + 1;
  size_t written = 0;
  std::string after;
  while (true) {
    TY_ASSIGN_OR_RETURN(storage::ListPage page, objects_.List(key_prefix, after));
    for (const storage::ObjectInfo& info : page.objects) {
      const std::string relative = info.key.substr(strip);
      if (relative.empty() || relative.back() == '/') continue;  // a folder marker
      fs::path target = directory / relative;
      TY_RETURN_IF_ERROR(MakeDirectories(target.parent_path()));
      std::ofstream out(target, std::ios::binary | std::ios::trunc);
      if (!out) return Internal("cannot write '" + target.string() + "'");
      TY_RETURN_IF_ERROR(objects_.Get(info.key, out).WithContext("reading '" + info.key + "'"));
      out.close();
      if (!out) return Internal("cannot write '" + target.string() + "'");
      ++written;
    }
    if (!page.truncated || page.objects.empty()) break;
    after = page.objects.back().key;
  }
  if (written == 0) return NotFound("no object's key starts with '" + key_prefix + "'");
  return directory;
}

Result<metadata::ClaimResult::Outcome> Scheduler::Submit(JobRecord job, const SweepRequest& request,
                                                         const metadata::ClaimLimits& limits) {
  using Outcome = metadata::ClaimResult::Outcome;
  // Claimed first, within the limits that every server sharing the store holds: the job's
  // input is staged by the one server that runs it. The job may call back before the
  // executor's Submit returns: the token must be valid by then.
  std::string token = NewJobToken();
  job.queued = false;
  job.started_at = Now();
  job.token_sha256 = TokenSha256(token);
  job.owner = options_.owner_id;
  job.lease_expires_at = Now() + options_.lease_duration;
  TY_ASSIGN_OR_RETURN(metadata::ClaimResult claim, metadata_.ClaimJob(job, {}, limits));
  if (!claim.claimed()) return claim.outcome;
  ReachStep(options_.on_step, "scheduler.claimed", job.name);

  executor::JobSpec spec;
  spec.sweep_id = job.sweep_id;
  spec.run_as_user = request.slurm_user;
  contract::JobDefinition& definition = spec.definition;
  definition.job_name = job.executor_job_name;
  definition.hyperparameters = job.hyperparameters;
  definition.resources = request.resources;
  definition.metric_definitions = request.metric_definitions;
  definition.environment = request.environment;
  definition.max_runtime_seconds = request.max_runtime_seconds;
  definition.training_image = request.image;
  executor::Executor* executor = executors_.at(job.executor);
  for (const auto& [channel, channel_source] : request.channels) {
    definition.channels.push_back({channel});
    Result<fs::path> source = Internal("no source");
    if (const auto* prefix = std::get_if<ObjectPrefixChannel>(&channel_source)) {
      source = StageObjectPrefix(job.executor_job_name, channel, prefix->key_prefix);
    } else {
      auto dataset = metadata_.GetDataset(std::get<DatasetChannel>(channel_source).dataset_id);
      // Left where it lies when the executor hands it so, and its record says what the bytes
      // are (the job's wrapper checks them): neither read nor copied here.
      if (dataset.ok() && !dataset->sha256_hex.empty() && executor->HandsStoredChannelsInPlace()) {
        spec.channel_objects[channel] = {dataset->object_key, dataset->filename, dataset->size,
                                         dataset->sha256_hex};
        continue;
      }
      source = dataset.ok() ? StageChannel(job.executor_job_name, channel, *dataset)
                            : Result<fs::path>(dataset.status());
    }
    if (!source.ok()) {
      TY_RETURN_IF_ERROR(EndWithoutRunning(
          std::move(job), core::SecondaryStatus::kFailed,
          "ClientError: channel '" + channel + "': " + source.status().message()));
      return Outcome::kClaimed;
    }
    spec.channel_sources[channel] = *source;
  }
  Result<fs::path> code = StageSubmitDirectory(job);
  if (!code.ok()) {
    TY_RETURN_IF_ERROR(EndWithoutRunning(std::move(job), core::SecondaryStatus::kFailed,
                                         "ClientError: " + code.status().message()));
    return Outcome::kClaimed;
  }
  spec.code_source = *code;
  spec.command = request.command;
  // By the job's name, not the attempt's: a retry restores what the attempt before it stored.
  spec.checkpoint.name = job.name;
  if (request.search.hyperband) {
    // A promotion continues from the checkpoint of the job it was promoted from.
    Result<std::vector<metadata::JobRecord>> jobs = SweepJobs(job.sweep_id);
    if (jobs.ok()) {
      spec.checkpoint.restore_from =
          PromotionParent(*jobs, job, request.search.hyperband->resource);
    }
    WarnIfFailed("control", jobs.status(),
                 "job={} starts afresh: the sweep's jobs could not be read for its promotion",
                 job.name);
  }
  spec.artifact_dir = ArtifactDir(job.executor, job.executor_job_name);
  // The code starts only while this server holds the job, and once it may have started, a
  // server taking the job over knows it (scheduler_leases.cc): it never runs twice.
  spec.before_launch = [store = &metadata_, owner = options_.owner_id, name = job.name,
                        attempt = job.attempt]() -> Status {
    TY_ASSIGN_OR_RETURN(bool recorded, store->RecordLaunch(name, owner, attempt));
    if (recorded) return Status::Ok();
    return FailedPrecondition(
        "another trainyard server took the job over before its code "
        "started (its lease had expired); it runs there");
  };
  if (options_.complete_job_spec) {
    if (Status completed = options_.complete_job_spec(request, spec); !completed.ok()) {
      TY_RETURN_IF_ERROR(EndWithoutRunning(std::move(job), core::SecondaryStatus::kFailed,
                                           "ClientError: " + completed.message()));
      return Outcome::kClaimed;
    }
  }
  if (!options_.callback_base_url.empty()) {
    definition.environment["TRAINYARD_CALLBACK_URL"] =
        options_.callback_base_url + "/api/v1/jobs/" + job.name + "/progress";
    spec.secret_environment["TRAINYARD_JOB_TOKEN"] = token;
  }

  if (Status submitted = executor->Submit(spec); !submitted.ok()) {
    TY_RETURN_IF_ERROR(EndWithoutRunning(
        std::move(job), core::SecondaryStatus::kFailed,
        "ClientError: the " + job.executor + " executor refused the job: " + submitted.message()));
    return Outcome::kClaimed;
  }
  ReachStep(options_.on_step, "scheduler.submitted", job.name);
  running_[job.name] = {executor, job.sweep_id, 0};
  auto description = executor->Describe(job.executor_job_name);
  if (description.ok()) {
    CopyStatus(job, *description);
    running_[job.name].transitions_seen = description->status.transitions().size();
  }
  TY_RETURN_IF_ERROR(WriteState(job, "started on " + job.executor));
  return Outcome::kClaimed;
}

void Scheduler::StartQueued() {
  int free_slots = options_.max_running - static_cast<int>(running_.size());
  if (free_slots <= 0) return;
  std::map<std::string, int> per_executor, per_sweep;
  for (const auto& [name, running] : running_) {
    per_executor[running.executor->name()] += 1;
    per_sweep[running.sweep_id] += 1;
  }
  std::map<std::string, bool> stop_requested;  // by sweep, read once per pass
  std::set<std::string> sweeps_full;           // sweeps at their max_parallel
  std::set<std::string> executors_full;        // executors at their limit
  // The limits are counted by the claim itself, over the jobs of every server sharing the
  // store; the counts above, of this server's jobs alone, only spare claims bound to fail.
  metadata::ClaimLimits base_limits;
  base_limits.max_running = options_.max_running;
  base_limits.ending.assign(finishing_.begin(), finishing_.end());
  metadata::JobFilter filter;
  filter.status = "Queued";
  // The head of the queue is usually enough (a slot or two freed): the first page is small, and
  // each further one, for a queue blocked by per-sweep limits, twice as large.
  filter.limit = static_cast<size_t>(std::clamp(free_slots * 4, 8, 200));
  // A queue blocked by per-sweep limits is scanned at most this far per pass.
  for (int scanned = 0; free_slots > 0 && scanned < 5000;) {
    auto page = metadata_.ListJobs(filter);
    if (!page.ok()) {
      Logger("control").error("the queue cannot be read: {}", page.status().message());
      return;
    }
    if (page->jobs.empty()) return;
    for (JobRecord& job : page->jobs) {
      ++scanned;
      if (free_slots <= 0) return;
      // Drained meanwhile (SIGUSR1, StopClaiming): a job read after /healthz said "draining" is
      // not claimed by a pass that began before.
      if (!claiming_.load()) return;
      // A sweep full at its max_parallel needs no more reads in this pass.
      if (sweeps_full.count(job.sweep_id)) continue;
      auto request = RequestOf(job.sweep_id);
      if (!request.ok()) {
        Logger("control").error("job={} waits: its sweep's request cannot be read: {}", job.name,
                                request.status().message());
        continue;
      }
      auto stopped = stop_requested.find(job.sweep_id);
      if (stopped == stop_requested.end()) {
        auto sweep = metadata_.GetSweep(job.sweep_id);
        if (!sweep.ok()) {
          Logger("control").error("job={} waits: its sweep cannot be read: {}", job.name,
                                  sweep.status().message());
          continue;
        }
        stopped = stop_requested.emplace(job.sweep_id, sweep->stop_requested).first;
      }
      if (stopped->second) {
        std::string name = job.name;
        LogIfFailed(
            EndQueued(std::move(job), core::SecondaryStatus::kStopped, "Stopped before it started")
                .status(),
            name, "its stop could not be recorded");
        continue;
      }
      if (request->max_parallel > 0 && per_sweep[job.sweep_id] >= request->max_parallel) {
        sweeps_full.insert(job.sweep_id);
        continue;
      }
      if (executors_full.count(job.executor)) continue;
      // Replicas may differ in their executors (one with --slurm, one without): a job of an
      // executor this server lacks waits for one that has it.
      if (!executors_.contains(job.executor)) continue;
      auto limit = options_.max_running_per_executor.find(job.executor);
      if (limit != options_.max_running_per_executor.end() &&
          per_executor[job.executor] >= limit->second) {
        continue;
      }
      metadata::ClaimLimits limits = base_limits;
      if (limit != options_.max_running_per_executor.end()) limits.executor_limit = limit->second;
      limits.sweep_limit = request->max_parallel > 0 ? request->max_parallel : 0;
      std::string name = job.name, sweep_id = job.sweep_id, executor = job.executor;
      auto submitted = Submit(std::move(job), *request, limits);
      using Outcome = metadata::ClaimResult::Outcome;
      if (submitted.ok()) {
        switch (*submitted) {
          case Outcome::kClaimed: break;
          case Outcome::kTaken: continue;  // another server's now
          case Outcome::kAtMaxRunning: return;
          case Outcome::kAtExecutorLimit: executors_full.insert(executor); continue;
          case Outcome::kAtSweepLimit: sweeps_full.insert(sweep_id); continue;
        }
      } else {
        // Counted as started: whether it was claimed is not known.
        LogIfFailed(submitted.status(), name, "it could not be started");
      }
      per_sweep[sweep_id] += 1;
      per_executor[executor] += 1;
      free_slots -= 1;
    }
    if (!page->truncated) return;
    filter.after_queue_position = page->jobs.back().queue_position;
    filter.limit = std::min<size_t>(filter.limit * 2, 200);
  }
}

}  // namespace trainyard::control
