// The SageMaker operations over the job table. Names are unique regardless of case, because
// SageMaker's ARNs (which must be unique) hold the name in lower case. A job counts against
// max_running from its creation until it ends (InProgress and Stopping).
#include "server/sagemaker/training_jobs.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/files.h"
#include "server/s3/s3_names.h"
#include "server/sagemaker/channel_staging.h"
#include "storage/object_store.h"

namespace trainyard::server::sagemaker {
namespace fs = std::filesystem;
using core::JobStatus;
using core::SecondaryStatus;
using nlohmann::json;

namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string JobStoreKey(const std::string& job, const std::string& file) {
  return std::string(kJobsPrefix) + job + "/" + file;
}

TrainingJobs::TrainingJobs(const SageMakerApiOptions& options) : options_(options) {}

TrainingJobs::~TrainingJobs() {
  Stop();
}

TimePoint TrainingJobs::Now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

fs::path TrainingJobs::JobDir(const std::string& name) const {
  return options_.work_dir / name;
}

fs::path TrainingJobs::LiveLogFile(const std::string& name) const {
  const fs::path& root =
      options_.executor_work_dir.empty() ? options_.work_dir : options_.executor_work_dir;
  return root / name / "ml" / "output" / "data" / "training.log";
}

TrainingJobs::Entry* TrainingJobs::Find(const std::string& name) {
  auto exact = jobs_.find(name);
  if (exact != jobs_.end()) return exact->second.get();
  std::string lower = Lower(name);
  for (auto& [key, entry] : jobs_) {
    if (Lower(key) == lower) return entry.get();
  }
  return nullptr;
}

std::string TrainingJobs::StreamName(const TrainingJob& job) const {
  std::optional<TimePoint> start = TrainingStartTime(job);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
      start.value_or(job.status.creation_time()).time_since_epoch());
  return job.name + "/algo-1-" + std::to_string(seconds.count());
}

JsonReply TrainingJobs::Create(const json& request) {
  if (auto unsupported = UnsupportedRequest(request)) return ValidationException(*unsupported);
  const std::string name = request["TrainingJobName"].get<std::string>();
  const std::string role = request.value("RoleArn", std::string());
  S3Location output = *ParseS3Uri(request["OutputDataConfig"]["S3OutputPath"].get<std::string>());
  for (const char* file : {"model.tar.gz", "output.tar.gz"}) {
    std::string key = s3::ObjectStoreKey(output.bucket, OutputObjectKey(output, name, file));
    if (!storage::ValidateObjectKey(key).ok() || key.size() > 1024) {
      return ValidationException("S3OutputPath '" + output.uri +
                                 "' gives no valid key for the job's " + file);
    }
  }
  // The checks SageMaker makes before accepting a job: the buckets and the input objects exist.
  auto output_bucket = BucketExists(*options_.objects, output.bucket);
  if (!output_bucket.ok()) return InternalFailure(output_bucket.status());
  if (!*output_bucket) {
    return ValidationException("Output S3 bucket \"" + output.bucket +
                               "\" given in OutputDataConfig.S3OutputPath does not exist. "
                               "Create it (s3 mb s3://" +
                               output.bucket + ") on trainyard's S3 endpoint first.");
  }
  for (const json& channel : request.value("InputDataConfig", json::array())) {
    S3Location input =
        *ParseS3Uri(channel["DataSource"]["S3DataSource"]["S3Uri"].get<std::string>());
    auto has_objects = HasObjects(*options_.objects, input);
    if (!has_objects.ok()) return InternalFailure(has_objects.status());
    if (!*has_objects) return ValidationException(NoObjectsMessage(input, options_.region, role));
  }

  auto entry = std::make_unique<Entry>();
  entry->job.name = name;
  entry->job.request = EchoedRequest(request);
  entry->job.status = core::JobStatusTracker(Now(), "Starting the training job");
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return InternalFailure(Unavailable("the SageMaker endpoint is stopping"));
    if (Entry* existing = Find(name)) {
      return SageMakerError("ResourceInUse",
                            "Training job names must be unique within an AWS account and region, "
                            "and a training job with this name already exists (" +
                                TrainingJobArn(arn_context(), existing->job.name) + ")");
    }
    int in_progress = 0;
    for (const auto& [key, other] : jobs_) {
      if (!core::IsTerminal(other->job.status.status())) ++in_progress;
    }
    if (in_progress >= options_.max_running) {
      std::string limit = std::to_string(options_.max_running);
      return SageMakerError(
          "ResourceLimitExceeded",
          "The account-level service limit 'Number of training jobs in progress' is " + limit +
              " Jobs, with current utilization of " + std::to_string(in_progress) +
              " Jobs and a request delta of 1 Jobs. Wait for a job to end, or raise the "
              "trainyard server's SageMaker max running jobs to increase this limit.");
    }
    entry->order = next_order_++;
    jobs_[name] = std::move(entry);
  }
  Persist(name);
  ReachStep(options_.on_step, "sagemaker.created", name);
  StartStaging(name);
  return JsonReply::Ok({{"TrainingJobArn", TrainingJobArn(arn_context(), name)}});
}

void TrainingJobs::StartStaging(const std::string& name) {
  // Under threads_mutex_, so that a Stop() either sees this thread (and joins it) or came first
  // (and the job, never submitted, is staged again at the next Start).
  std::lock_guard threads_lock(threads_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
  staging_threads_[name] = std::thread([this, name] { Stage(name); });
}

JsonReply TrainingJobs::Describe(const std::string& name) {
  std::lock_guard lock(mutex_);
  Entry* entry = Find(name);
  // SageMaker's quirk: an unknown job is a ValidationException, not ResourceNotFound.
  if (!entry) return ValidationException("Requested resource not found.");
  return JsonReply::Ok(DescribeDocument(entry->job, arn_context()));
}

JsonReply TrainingJobs::StopJob(const std::string& name) {
  bool submitted = false;
  std::string key;
  {
    std::lock_guard lock(mutex_);
    Entry* entry = Find(name);
    if (!entry) return ValidationException("Requested resource not found.");
    JobStatus status = entry->job.status.status();
    if (status != JobStatus::kInProgress) {
      return ValidationException("The request was rejected because the training job is in status " +
                                 std::string(core::ToString(status)) + ".");
    }
    Status moved = entry->job.status.Transition(SecondaryStatus::kStopping, Now(),
                                                SageMakerStatusMessage(SecondaryStatus::kStopping));
    if (!moved.ok()) return InternalFailure(moved);
    entry->cancel_staging = true;
    submitted = entry->submitted;
    key = entry->job.name;
  }
  // Not yet submitted: the staging thread sees the stop and ends the job itself.
  if (submitted) {
    Status stopped = options_.executor->Stop(key);
    if (!stopped.ok() && stopped.code() != StatusCode::kNotFound) return InternalFailure(stopped);
  }
  Persist(key);
  wake_.notify_all();
  return JsonReply::Ok(json::object());
}

std::vector<TrainingJobSummary> TrainingJobs::Summaries() {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<size_t, TrainingJobSummary>> ordered;
  for (const auto& [key, entry] : jobs_) {
    const TrainingJob& job = entry->job;
    ordered.push_back(
        {entry->order,
         {job.name, TrainingJobArn(arn_context(), job.name), job.status.creation_time(),
          job.status.last_modified_time(), job.status.end_time(), job.status.status(),
          job.status.secondary_status()}});
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<TrainingJobSummary> summaries;
  for (auto& [order, summary] : ordered) summaries.push_back(std::move(summary));
  return summaries;
}

std::vector<LogStreamInfo> TrainingJobs::LogStreams() {
  std::vector<LogStreamInfo> streams;
  std::lock_guard lock(mutex_);
  for (const auto& [key, entry] : jobs_) {
    const TrainingJob& job = entry->job;
    std::optional<TimePoint> start = TrainingStartTime(job);
    if (!start) continue;  // SageMaker creates the stream when the instance starts
    LogStreamInfo stream{job.name, StreamName(job), EpochMilliseconds(*start), {}, {}};
    if (!entry->log.checkpoints.empty()) {
      stream.first_event_ms = entry->log.checkpoints.front().second;
      stream.last_event_ms = entry->log.checkpoints.back().second;
    }
    streams.push_back(std::move(stream));
  }
  std::sort(streams.begin(), streams.end(),
            [](const LogStreamInfo& a, const LogStreamInfo& b) { return a.name < b.name; });
  return streams;
}

Result<std::vector<LogEvent>> TrainingJobs::LogEventsOf(const std::string& stream_name) {
  std::string name;
  bool ended = false;
  LogIndex index;
  int64_t fallback_ms = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, entry] : jobs_) {
      if (!TrainingStartTime(entry->job) || StreamName(entry->job) != stream_name) continue;
      name = entry->job.name;
      ended = core::IsTerminal(entry->job.status.status());
      index = entry->log;
      fallback_ms = EpochMilliseconds(entry->job.status.end_time().value_or(Now()));
    }
  }
  if (name.empty()) return NotFound("log stream '" + stream_name + "' not found");
  std::string text;
  if (ended) {
    std::ostringstream sink;
    Status got = options_.objects->Get(JobStoreKey(name, "training.log"), sink);
    if (!got.ok() && got.code() != StatusCode::kNotFound) return got;
    text = sink.str();
  } else {
    // While it runs the log is in the executor's job root; between the executor's end and
    // ours, only in the artifacts the executor packed.
    for (const fs::path& file : {LiveLogFile(name), JobDir(name) / "artifacts" / "training.log"}) {
      auto read = ReadFile(file);
      if (read.ok()) {
        text = std::move(read).value();
        break;
      }
    }
  }
  // The stored log is masked already; the live one is not.
  return SplitLogEvents(options_.secret_mask.Apply(text), index, fallback_ms);
}

}  // namespace trainyard::server::sagemaker
