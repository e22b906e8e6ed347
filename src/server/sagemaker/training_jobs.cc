// The SageMaker operations over the scheduler's records. Names are unique regardless of case,
// because SageMaker's ARNs (which must be unique) hold the name in lower case. A job counts
// against max_running from its creation until it ends (queued, InProgress and Stopping); the
// scheduler runs at most as many at once, so a job accepted here starts at once.
#include "server/sagemaker/training_jobs.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "common/ascii.h"
#include "common/files.h"
#include "common/log.h"
#include "server/s3/s3_names.h"
#include "server/sagemaker/channel_staging.h"
#include "server/sagemaker/job_records.h"
#include "server/sagemaker/tuning_request.h"
#include "storage/object_store.h"

namespace trainyard::server::sagemaker {
namespace fs = std::filesystem;
using core::JobStatus;
using nlohmann::json;

std::string JobStoreKey(const std::string& job, const std::string& file) {
  return std::string(kJobsPrefix) + job + "/" + file;
}

TrainingJobs::TrainingJobs(const SageMakerApiOptions& options) : options_(options) {
  if (!options.metadata || !options.executor || !options.objects) return;  // Start says so
  control::SchedulerOptions scheduler;
  scheduler.work_dir = options.work_dir;
  scheduler.max_running = options.max_running;
  scheduler.poll_interval = options.poll_interval;
  scheduler.on_step = options.on_step;
  scheduler.secret_mask = options.secret_mask;
  scheduler.owner_id = options.owner_id;
  scheduler.lease_duration = options.lease_duration;
  scheduler.spread_claims = options.spread_claims;
  const bool runs_image = options.executor->RunsImageItself();
  scheduler.complete_job_spec = [runs_image, presign = options.presign_checkpoint](
                                    const control::SweepRequest& request, executor::JobSpec& spec) {
    TY_RETURN_IF_ERROR(CompleteJobSpec(request, runs_image, spec));
    return KeepCheckpointAtS3Uri(request.client_request, presign, spec);
  };
  scheduler.submit_directory_key = SubmitDirectoryKey;
  // Only a tuning job's sweep names no job: its jobs are named as SageMaker names them.
  scheduler.job_name = [](const control::SweepRequest& request, const std::string&, size_t index,
                          size_t count) {
    return TuningTrainingJobName(request.name, index, count);
  };
  scheduler_ = std::make_unique<control::Scheduler>(
      std::move(scheduler), *options.metadata, *options.objects,
      std::map<std::string, executor::Executor*>{{options.executor->name(), options.executor}});
}

TrainingJobs::~TrainingJobs() {
  Stop();
}

TimePoint TrainingJobs::Now() const {
  return options_.clock ? options_.clock() : std::chrono::system_clock::now();
}

fs::path TrainingJobs::LiveLogFile(const metadata::JobRecord& record) const {
  const fs::path& root =
      options_.executor_work_dir.empty() ? options_.work_dir : options_.executor_work_dir;
  return root / record.executor_job_name / "ml" / "output" / "data" / "training.log";
}

std::string TrainingJobs::StreamName(const TrainingJob& job) const {
  std::optional<TimePoint> start = TrainingStartTime(job);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
      start.value_or(job.status.creation_time()).time_since_epoch());
  return job.name + "/algo-1-" + std::to_string(seconds.count());
}

Status TrainingJobs::Start() {
  if (started_) return Status::Ok();
  if (!scheduler_) {
    return InvalidArgument(
        "the SageMaker endpoint needs an object store, an executor and a "
        "metadata store (SageMakerApiOptions objects, executor, metadata)");
  }
  TY_RETURN_IF_ERROR(ImportOlderJobs());
  TY_RETURN_IF_ERROR(scheduler_->Start());
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  started_ = true;
  watcher_ = std::thread([this] { WatchLogs(); });
  return Status::Ok();
}

void TrainingJobs::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (scheduler_) scheduler_->Shutdown();
}

std::vector<metadata::JobRecord> TrainingJobs::AllRecords() {
  std::vector<metadata::JobRecord> records;
  metadata::JobFilter filter;
  filter.limit = 1000;
  while (true) {
    auto page = options_.metadata->ListJobs(filter);
    if (!page.ok()) {
      Logger("sagemaker").error("the training jobs cannot be listed: {}", page.status().message());
      return records;
    }
    for (metadata::JobRecord& record : page->jobs) records.push_back(std::move(record));
    if (!page->truncated || page->jobs.empty()) return records;
    filter.after_queue_position = records.back().queue_position;
  }
}

Result<metadata::JobRecord> TrainingJobs::FindRecord(const std::string& name) {
  auto exact = options_.metadata->GetJob(name);
  if (exact.ok() || exact.status().code() != StatusCode::kNotFound) return exact;
  const std::string lower = AsciiLower(name);
  for (metadata::JobRecord& record : AllRecords()) {
    if (AsciiLower(record.name) == lower) return std::move(record);
  }
  return NotFound("training job '" + name + "' not found");
}

Result<json> TrainingJobs::RequestOf(const metadata::JobRecord& record) {
  {
    std::lock_guard lock(mutex_);
    auto cached = requests_.find(record.sweep_id);
    if (cached != requests_.end()) return cached->second;
  }
  TY_ASSIGN_OR_RETURN(metadata::SweepRecord sweep, options_.metadata->GetSweep(record.sweep_id));
  json request = sweep.spec.value("client_request", json());
  if (!request.is_object()) {
    return Internal("training job '" + record.name + "' has no request kept with its sweep");
  }
  std::lock_guard lock(mutex_);
  requests_[record.sweep_id] = request;
  return request;
}

Result<TrainingJob> TrainingJobs::JobOf(const metadata::JobRecord& record) {
  TY_ASSIGN_OR_RETURN(json request, RequestOf(record));
  if (IsTuningRequest(request)) {
    // A tuning job's training job: the definition it ran, with its own hyperparameters.
    json echoed = EchoedRequest(TrainingRequestOf(
        request, record.name, TunedHyperparameters(request, record.hyperparameters)));
    echoed["TuningJobArn"] = TuningJobArn(options_.region, options_.account_id,
                                          request[kTuningJobNameMember].get<std::string>());
    return TrainingJobOf(record, echoed);
  }
  return TrainingJobOf(record, request);
}

std::optional<JsonReply> TrainingJobs::CheckStore(const json& request) {
  const std::string role = request.value("RoleArn", std::string());
  S3Location output = *ParseS3Uri(request["OutputDataConfig"]["S3OutputPath"].get<std::string>());
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
  return std::nullopt;
}

JsonReply TrainingJobs::Create(const json& request) {
  if (auto unsupported = UnsupportedRequest(request)) return ValidationException(*unsupported);
  const std::string name = request["TrainingJobName"].get<std::string>();
  S3Location output = *ParseS3Uri(request["OutputDataConfig"]["S3OutputPath"].get<std::string>());
  for (const char* file : {"model.tar.gz", "output.tar.gz"}) {
    std::string key = s3::ObjectStoreKey(output.bucket, OutputObjectKey(output, name, file));
    if (!storage::ValidateObjectKey(key).ok() || key.size() > 1024) {
      return ValidationException("S3OutputPath '" + output.uri +
                                 "' gives no valid key for the job's " + file);
    }
  }
  // The checks SageMaker makes before accepting a job: the buckets and the input objects exist.
  if (auto refused = CheckStore(request)) return *refused;

  std::lock_guard create_lock(create_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return InternalFailure(Unavailable("the SageMaker endpoint is stopping"));
  }
  auto existing = FindRecord(name);
  if (existing.ok()) {
    return SageMakerError("ResourceInUse",
                          "Training job names must be unique within an AWS account and region, "
                          "and a training job with this name already exists (" +
                              TrainingJobArn(arn_context(), existing->name) + ")");
  }
  if (existing.status().code() != StatusCode::kNotFound) {
    return InternalFailure(existing.status());
  }
  // By name: a job that moves on between two of the listings (Queued, then InProgress) is
  // listed twice, and counts once.
  std::set<std::string> unfinished;
  for (const char* status : {"Queued", "InProgress", "Stopping"}) {
    metadata::JobFilter filter;
    filter.status = status;
    filter.limit = static_cast<size_t>(options_.max_running) + 1;
    auto page = options_.metadata->ListJobs(filter);
    if (!page.ok()) return InternalFailure(page.status());
    for (const auto& job : page->jobs) unfinished.insert(job.name);
  }
  const int in_progress = static_cast<int>(unfinished.size());
  if (in_progress >= options_.max_running) {
    std::string limit = std::to_string(options_.max_running);
    return SageMakerError(
        "ResourceLimitExceeded",
        "The account-level service limit 'Number of training jobs in progress' is " + limit +
            " Jobs, with current utilization of " + std::to_string(in_progress) +
            " Jobs and a request delta of 1 Jobs. Wait for a job to end, or raise the "
            "trainyard server's SageMaker max running jobs to increase this limit.");
  }
  auto created = scheduler_->CreateSweep(SweepRequestFor(request, *options_.executor));
  if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
    // Created at the same instant through another server sharing the store.
    Logger("sagemaker").info("job={} refused: {}", name, created.status().message());
    return SageMakerError("ResourceInUse",
                          "Training job names must be unique within an AWS account and region, "
                          "and a training job with this name already exists (" +
                              TrainingJobArn(arn_context(), name) + ")");
  }
  if (!created.ok()) {
    Logger("sagemaker").error("job={} could not be created: {}", name, created.status().message());
    if (created.status().code() == StatusCode::kInvalidArgument) {
      return ValidationException(created.status().message());
    }
    return InternalFailure(created.status());
  }
  return JsonReply::Ok({{"TrainingJobArn", TrainingJobArn(arn_context(), name)}});
}

JsonReply TrainingJobs::Describe(const std::string& name) {
  auto record = FindRecord(name);
  // SageMaker's quirk: an unknown job is a ValidationException, not ResourceNotFound.
  if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
    return ValidationException("Requested resource not found.");
  }
  if (!record.ok()) return InternalFailure(record.status());
  auto job = JobOf(*record);
  if (!job.ok()) return InternalFailure(job.status());
  return JsonReply::Ok(DescribeDocument(*job, arn_context()));
}

JsonReply TrainingJobs::StopJob(const std::string& name) {
  auto record = FindRecord(name);
  if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
    return ValidationException("Requested resource not found.");
  }
  if (!record.ok()) return InternalFailure(record.status());
  if (record->status != JobStatus::kInProgress) {
    return ValidationException("The request was rejected because the training job is in status " +
                               std::string(core::ToString(record->status)) + ".");
  }
  Status stopped = scheduler_->StopJob(record->name);
  if (!stopped.ok()) return InternalFailure(stopped);
  return JsonReply::Ok(json::object());
}

std::vector<TrainingJobSummary> TrainingJobs::Summaries() {
  std::vector<TrainingJobSummary> summaries;
  for (const metadata::JobRecord& record : AllRecords()) {
    auto job = JobOf(record);
    if (!job.ok()) {
      Logger("sagemaker")
          .error("job={} left out of the list: {}", record.name, job.status().message());
      continue;
    }
    summaries.push_back({job->name, TrainingJobArn(arn_context(), job->name),
                         job->status.creation_time(), job->status.last_modified_time(),
                         job->status.end_time(), job->status.status(),
                         job->status.secondary_status()});
  }
  return summaries;
}

std::vector<LogStreamInfo> TrainingJobs::LogStreams() {
  std::vector<LogStreamInfo> streams;
  for (const metadata::JobRecord& record : AllRecords()) {
    auto job = JobOf(record);
    if (!job.ok()) continue;
    std::optional<TimePoint> start = TrainingStartTime(*job);
    if (!start) continue;  // SageMaker creates the stream when the instance starts
    LogStreamInfo stream{job->name, StreamName(*job), EpochMilliseconds(*start), {}, {}};
    LogIndex index = IndexOf(record);
    if (!index.checkpoints.empty()) {
      stream.first_event_ms = index.checkpoints.front().second;
      stream.last_event_ms = index.checkpoints.back().second;
    }
    streams.push_back(std::move(stream));
  }
  std::sort(streams.begin(), streams.end(),
            [](const LogStreamInfo& a, const LogStreamInfo& b) { return a.name < b.name; });
  return streams;
}

Result<std::vector<LogEvent>> TrainingJobs::LogEventsOf(const std::string& stream_name) {
  std::optional<metadata::JobRecord> found;
  std::optional<TrainingJob> found_job;
  for (metadata::JobRecord& record : AllRecords()) {
    auto job = JobOf(record);
    if (!job.ok() || !TrainingStartTime(*job) || StreamName(*job) != stream_name) continue;
    found = std::move(record);
    found_job = std::move(job).value();
    break;
  }
  if (!found) return NotFound("log stream '" + stream_name + "' not found");
  const bool ended = core::IsTerminal(found->status);
  const int64_t fallback_ms = EpochMilliseconds(found_job->status.end_time().value_or(Now()));
  if (!ended && !RunsHere(*found)) {
    // Another server runs it: the lines it recorded, with the times it first saw them.
    TY_ASSIGN_OR_RETURN(StoredLog stored, StoredLogOf(found->name));
    return SplitLogEvents(stored.text, stored.index, fallback_ms);
  }
  LogIndex index = IndexOf(*found);
  std::string text;
  if (ended) {
    std::ostringstream sink;
    Status got = options_.objects->Get(JobStoreKey(found->name, "training.log"), sink);
    if (!got.ok() && got.code() != StatusCode::kNotFound) return got;
    text = sink.str();
  } else {
    // While it runs the log is in the executor's job root; between the executor's end and the
    // scheduler's, only in the artifacts the executor packed.
    for (const fs::path& file : {LiveLogFile(*found), options_.work_dir / found->executor_job_name /
                                                          "artifacts" / "training.log"}) {
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
