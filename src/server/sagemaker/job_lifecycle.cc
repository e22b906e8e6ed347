// A job's life after CreateTrainingJob returns. Staging runs on a thread of its own (a large
// channel must not hold the request, nor the follower); the job is Starting, then Downloading
// while its objects are copied, and only then submitted. The executor's own Starting and
// Downloading (copying the staged files into its job root) fall inside ours, so its
// transitions are mirrored from Training on. A terminal status is shown only once the
// artifacts are in the store: a client that sees Completed can download model.tar.gz at once.
#include <algorithm>
#include <sstream>

#include "common/log.h"
#include "server/s3/s3_names.h"
#include "server/sagemaker/channel_staging.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server::sagemaker {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using nlohmann::json;

namespace {

// Applies the executor's transitions from `seen` on, up to (not including) a terminal one.
// Statuses ours already covers (Starting, Downloading) or that ours has moved past (a stop we
// asked for) are skipped. True when something changed.
bool MirrorTransitions(TrainingJob& job, const core::JobStatusTracker& executor, size_t& seen) {
  bool changed = false;
  const auto& transitions = executor.transitions();
  for (; seen < transitions.size(); ++seen) {
    const core::StatusTransition& transition = transitions[seen];
    if (core::IsTerminal(transition.status)) break;
    if (transition.status == SecondaryStatus::kStarting ||
        transition.status == SecondaryStatus::kDownloading ||
        transition.status == job.status.secondary_status()) {
      continue;
    }
    changed |= job.status
                   .Transition(transition.status, transition.start_time,
                               SageMakerStatusMessage(transition.status))
                   .ok();
  }
  return changed;
}

bool UpdateMetrics(TrainingJob& job, const std::map<std::string, double>& metrics, TimePoint now) {
  bool changed = false;
  for (const auto& [name, value] : metrics) {
    auto it = job.metrics.find(name);
    if (it != job.metrics.end() && it->second.value == value) continue;
    job.metrics[name] = MetricValue{value, now};
    changed = true;
  }
  return changed;
}

}  // namespace

void TrainingJobs::Stage(const std::string& name) {
  Entry* entry = nullptr;
  json request;
  {
    std::lock_guard lock(mutex_);
    entry = jobs_.at(name).get();
    request = entry->job.request;
    TimePoint now = Now();
    // Unless a StopTrainingJob came first (the job is then Stopping, and stays so).
    if (entry->job.status.secondary_status() == SecondaryStatus::kStarting) {
      WarnIfFailed("sagemaker",
                   entry->job.status.SetStatusMessage(
                       SageMakerStatusMessage(SecondaryStatus::kStarting), now),
                   "job={} status message not updated", name);
      WarnIfFailed(
          "sagemaker",
          entry->job.status.Transition(SecondaryStatus::kDownloading, now,
                                       SageMakerStatusMessage(SecondaryStatus::kDownloading)),
          "job={} could not be marked Downloading", name);
    }
  }
  Persist(name);

  // What a staging cut short by a kill left behind.
  std::error_code ignored;
  fs::remove_all(JobDir(name) / "channels", ignored);
  std::string failure;
  TrainingJob plan;  // the request never changes: no lock needed on this copy
  plan.name = name;
  plan.request = request;
  executor::JobSpec spec = BuildJobSpec(plan, options_.executor->RunsImageItself());
  for (const json& channel : request.value("InputDataConfig", json::array())) {
    std::string channel_name = channel["ChannelName"].get<std::string>();
    S3Location input =
        *ParseS3Uri(channel["DataSource"]["S3DataSource"]["S3Uri"].get<std::string>());
    fs::path directory = JobDir(name) / "channels" / channel_name;
    auto staged = StageChannel(*options_.objects, input, directory, entry->cancel_staging);
    if (!staged.ok() && staged.status().code() == StatusCode::kCancelled) break;
    if (!staged.ok()) {
      failure = "ClientError: Data download failed: " + staged.status().message();
    } else if (*staged == 0) {
      failure = "ClientError: " +
                NoObjectsMessage(input, options_.region, request.value("RoleArn", std::string()));
    }
    if (!failure.empty()) break;
    spec.channel_sources[channel_name] = directory;
  }
  spec.artifact_dir = JobDir(name) / "artifacts";

  bool stop_now = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;  // left to the next Start, which ends it (never submitted)
    TimePoint now = Now();
    if (!failure.empty()) {
      WarnIfFailed("sagemaker", entry->job.status.Fail(failure, now),
                   "job={} could not be marked Failed ({})", name, failure);
    } else if (entry->cancel_staging) {
      WarnIfFailed("sagemaker",
                   entry->job.status.Transition(SecondaryStatus::kStopped, now,
                                                SageMakerStatusMessage(SecondaryStatus::kStopped)),
                   "job={} stopped while staging, but could not be marked Stopped", name);
    }
    stop_now = core::IsTerminal(entry->job.status.status());
  }
  if (!stop_now) {
    ReachStep(options_.on_step, "sagemaker.staged", name);
    Status submitted = options_.executor->Submit(spec);
    if (submitted.ok()) ReachStep(options_.on_step, "sagemaker.submitted", name);
    if (!submitted.ok()) {
      std::lock_guard lock(mutex_);
      WarnIfFailed(
          "sagemaker", entry->job.status.Fail("ClientError: " + submitted.message(), Now()),
          "job={} could not be submitted ({}), nor marked Failed", name, submitted.message());
      stop_now = true;
    }
  }
  if (stop_now) {
    Persist(name);
    Cleanup(name);
  } else {
    bool stop_requested = false;
    {
      std::lock_guard lock(mutex_);
      entry->submitted = true;
      stop_requested = entry->cancel_staging;
    }
    // A StopTrainingJob that came while we submitted saw submitted == false: stop it here.
    if (stop_requested) {
      WarnIfFailed("sagemaker", options_.executor->Stop(name),
                   "job={} was stopped while submitted, but the executor could not stop it", name);
    }
    wake_.notify_all();
  }
  std::lock_guard lock(threads_mutex_);
  finished_staging_.push_back(name);
}

void TrainingJobs::FollowLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::vector<std::string> running, dirty;
    for (const auto& [name, entry] : jobs_) {
      if (entry->submitted && !core::IsTerminal(entry->job.status.status())) {
        running.push_back(name);
      }
      if (entry->dirty) dirty.push_back(name);
    }
    lock.unlock();
    for (const std::string& name : running) Poll(name);
    for (const std::string& name : dirty) Persist(name);
    std::vector<std::thread> done;
    {
      std::lock_guard threads_lock(threads_mutex_);
      for (const std::string& name : finished_staging_) {
        auto it = staging_threads_.find(name);
        if (it == staging_threads_.end()) continue;
        done.push_back(std::move(it->second));
        staging_threads_.erase(it);
      }
      finished_staging_.clear();
    }
    for (std::thread& thread : done) thread.join();
    lock.lock();
    if (stopping_) break;
    wake_.wait_for(lock, options_.poll_interval);
  }
}

void TrainingJobs::Poll(const std::string& name) {
  auto description = options_.executor->Describe(name);
  if (!description.ok()) {
    if (description.status().code() == StatusCode::kNotFound) {
      EndWithoutExecutor(name, "InternalServerError: the executor '" + options_.executor->name() +
                                   "' no longer knows this training job");
    }
    return;  // a passing failure: try again at the next poll
  }
  LogIndex index;
  {
    std::lock_guard lock(mutex_);
    index = jobs_.at(name)->log;
  }
  TimePoint now = Now();
  index.Observe(LiveLogFile(name), EpochMilliseconds(now));
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    Entry& entry = *jobs_.at(name);
    entry.log = index;
    changed = MirrorTransitions(entry.job, description->status, entry.executor_transitions_seen);
    UpdateMetrics(entry.job, description->metrics, now);
  }
  if (core::IsTerminal(description->status.status())) {
    Finish(name, *description);
  } else if (changed) {
    Persist(name);
  }
}

void TrainingJobs::Finish(const std::string& name, const executor::JobDescription& description) {
  json request;
  LogIndex index;
  {
    std::lock_guard lock(mutex_);
    request = jobs_.at(name)->job.request;
    index = jobs_.at(name)->log;
  }
  const fs::path artifacts = JobDir(name) / "artifacts";
  S3Location output = *ParseS3Uri(request["OutputDataConfig"]["S3OutputPath"].get<std::string>());
  std::string upload_error;
  for (const char* file : {"model.tar.gz", "output.tar.gz"}) {
    Status uploaded =
        UploadFile(*options_.objects, artifacts / file,
                   s3::ObjectStoreKey(output.bucket, OutputObjectKey(output, name, file)));
    if (!uploaded.ok() && uploaded.code() != StatusCode::kNotFound) {
      upload_error =
          "InternalServerError: could not upload " + std::string(file) + ": " + uploaded.message();
    }
    ReachStep(options_.on_step, "sagemaker.storing", name);
  }
  // The log's last lines (written after the last poll) take this time.
  TimePoint now = Now();
  index.Observe(artifacts / "training.log", EpochMilliseconds(now));
  // After Observe, which counts bytes; masking keeps the lines.
  // A log that cannot be masked is not stored.
  Status log_stored = options_.secret_mask.ApplyToFile(artifacts / "training.log");
  // Without them GetLogEvents finds no events for the job: worth a warning, not a failed job.
  // A job that ended before its code ran has no log: nothing to warn about.
  if (log_stored.ok()) {
    log_stored = UploadFile(*options_.objects, artifacts / "training.log",
                            JobStoreKey(name, "training.log"));
  }
  if (log_stored.code() != StatusCode::kNotFound) {
    WarnIfFailed("sagemaker", log_stored, "job={} training.log not stored", name);
  }
  std::string times = index.ToJson().dump();
  std::istringstream times_source(times);
  WarnIfFailed("sagemaker",
               options_.objects
                   ->Put(JobStoreKey(name, "log-times.json"), times_source, times.size(),
                         {.content_type = "application/json"})
                   .status(),
               "job={} log-times.json not stored", name);
  {
    std::lock_guard lock(mutex_);
    Entry& entry = *jobs_.at(name);
    TrainingJob& job = entry.job;
    entry.log = index;
    UpdateMetrics(job, description.metrics, now);
    MirrorTransitions(job, description.status, entry.executor_transitions_seen);
    const core::StatusTransition& last = description.status.transitions().back();
    Status ended;
    if (!upload_error.empty()) {
      ended = job.status.Fail(upload_error, now);
    } else if (last.status == SecondaryStatus::kFailed) {
      ended = job.status.Fail(options_.secret_mask.Apply(description.status.failure_reason()),
                              last.start_time);
    } else if (!job.status
                    .Transition(last.status, last.start_time, SageMakerStatusMessage(last.status))
                    .ok()) {
      // We asked for a stop and the job completed meanwhile: it was still stopped.
      ended = job.status.Transition(SecondaryStatus::kStopped, last.start_time,
                                    SageMakerStatusMessage(SecondaryStatus::kStopped));
    }
    WarnIfFailed("sagemaker", ended, "job={} ended {} but its end could not be recorded", name,
                 core::ToString(last.status));
    entry.executor_transitions_seen = description.status.transitions().size();
  }
  ReachStep(options_.on_step, "sagemaker.stored", name);
  Persist(name);
  Cleanup(name);
}

void TrainingJobs::EndWithoutExecutor(const std::string& name, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    TrainingJob& job = jobs_.at(name)->job;
    if (core::IsTerminal(job.status.status())) return;
    WarnIfFailed("sagemaker", job.status.Fail(reason, Now()),
                 "job={} could not be marked Failed ({})", name, reason);
  }
  Persist(name);
  Cleanup(name);
}

void TrainingJobs::Cleanup(const std::string& name) {
  std::error_code ignored;
  fs::remove_all(JobDir(name) / "channels", ignored);
  fs::remove_all(JobDir(name) / "artifacts", ignored);
  fs::remove(JobDir(name), ignored);  // only when empty: the executor may keep its state there
}

}  // namespace trainyard::server::sagemaker
