#include "executor/sagemaker/sagemaker_executor.h"

#include <fstream>

#include "archive/archive.h"
#include "aws/service_model.h"
#include "common/log.h"
#include "executor/job_root.h"
#include "executor/sagemaker/training_job_request.h"
#include "executor/sagemaker/training_log.h"
#include "storage/s3/s3_object_store.h"
#include "storage/sha256.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct SageMakerExecutor::Job {
  Job(std::string job_name, fs::path artifacts, TimePoint created,
      std::chrono::milliseconds poll_after)
      : name(std::move(job_name)),
        artifact_dir(std::move(artifacts)),
        published{name, core::JobStatusTracker(created)},
        next_poll(Clock::now() + poll_after),
        interval(poll_after) {}

  const std::string name;
  const fs::path artifact_dir;
  // Below: guarded by the executor's mutex_.
  JobDescription published;
  std::string last_answer;  // what changed-or-not is judged by
  Clock::time_point next_poll;
  std::chrono::milliseconds interval{0};
  // Ended once published so, which happens only after its artifacts were collected.
  bool ended() const { return core::IsTerminal(published.status.status()); }
};

namespace {

aws::JsonServiceOptions ClientOptions(const SageMakerExecutorOptions& options, bool logs) {
  aws::JsonServiceOptions client;
  client.target_prefix = logs ? "Logs_20140328" : "SageMaker";
  client.signing_name = logs ? "logs" : "sagemaker";
  client.endpoint_host_prefix = logs ? "logs" : "api.sagemaker";
  client.endpoint = logs ? options.logs_endpoint : options.sagemaker_endpoint;
  client.region = options.region;
  client.credentials = options.credentials;
  client.max_attempts = options.max_attempts;
  return client;
}

// SageMaker answers a Describe of an unknown job with a ValidationException (CONTRACT.md §4).
bool IsUnknownJob(const aws::JsonCallResult& result) {
  return result.status.code() == StatusCode::kNotFound ||
         (result.error.code == "ValidationException" &&
          result.error.message.find("not found") != std::string::npos);
}

Result<std::string> Sha256OfFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path.string() + "'");
  storage::Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
    hash.Update(buffer.data(), static_cast<size_t>(in.gcount()));
  return hash.FinishHex();
}

Status PutFile(storage::ObjectStore& store, const std::string& key, const fs::path& path,
               const std::string& sha256_hex) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path.string() + "'");
  storage::PutOptions put;
  put.expected_sha256_hex = sha256_hex;
  return store.Put(key, in, fs::file_size(path), put).status();
}

// Downloads `key` to `destination` through a temp file, so that a broken download leaves none.
Status GetFile(storage::ObjectStore& store, const std::string& key, const fs::path& destination) {
  fs::path temp = destination;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return Internal("cannot write '" + temp.string() + "'");
    if (Status got = store.Get(key, out); !got.ok()) {
      out.close();
      fs::remove(temp);
      return got;
    }
  }
  std::error_code error;
  fs::rename(temp, destination, error);
  if (error) return Internal("cannot write '" + destination.string() + "': " + error.message());
  return Status::Ok();
}

// SageMaker uploads only model.tar.gz and output.tar.gz; the predictions the scheduler offers
// for download are inside the latter (output/data/predictions*).
void ExtractPredictions(const fs::path& output_archive, const fs::path& artifact_dir) {
  fs::path unpacked = artifact_dir / ".output-unpacked";
  std::error_code ignored;
  fs::remove_all(unpacked, ignored);
  fs::create_directories(unpacked, ignored);
  // The job's own output, unpacked on the server: the default limits (expansion ratio, free
  // space) stop a bomb the job made; its predictions are then left out, and said so.
  auto files = archive::Unpack(output_archive, unpacked);
  if (!files.ok()) {
    Logger("executor")
        .warn("artifacts={} predictions not extracted: {}", artifact_dir.string(),
              files.status().message());
  } else {
    for (const std::string& file : *files) {
      if (file.find('/') == std::string::npos && file.starts_with("predictions"))
        fs::copy_file(unpacked / file, artifact_dir / file, fs::copy_options::overwrite_existing,
                      ignored);
    }
  }
  fs::remove_all(unpacked, ignored);
}

}  // namespace

Result<std::unique_ptr<SageMakerExecutor>> SageMakerExecutor::Make(SageMakerExecutorOptions options,
                                                                   storage::ObjectStorePtr s3) {
  TY_RETURN_IF_ERROR(ValidateSageMakerOptions(options));
  if (!options.credentials) return InvalidArgument("sagemaker executor: no credentials provider");
  if (!s3) {
    storage::S3ObjectStoreOptions store;
    store.bucket = options.bucket;
    store.prefix = options.prefix;
    store.region = options.region;
    store.endpoint = options.s3_endpoint;
    store.path_style = !options.s3_endpoint.empty();
    store.credentials = options.credentials;
    TY_ASSIGN_OR_RETURN(s3, storage::MakeS3ObjectStore(std::move(store)));
  }
  return std::unique_ptr<SageMakerExecutor>(
      new SageMakerExecutor(std::move(options), std::move(s3)));
}

SageMakerExecutor::SageMakerExecutor(SageMakerExecutorOptions options, storage::ObjectStorePtr s3)
    : options_(std::move(options)),
      s3_(std::move(s3)),
      sagemaker_(ClientOptions(options_, false)),
      logs_(ClientOptions(options_, true)),
      follower_([this] { Follow(); }) {}

SageMakerExecutor::~SageMakerExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  follower_.join();
}

Result<std::string> SageMakerExecutor::UploadChannel(const std::string& job_name,
                                                     const std::string& channel,
                                                     const fs::path& source) {
  const std::string root =
      "s3://" + options_.bucket + "/" + (options_.prefix.empty() ? "" : options_.prefix + "/");
  if (fs::is_directory(source)) {
    // A directory is the job's own: uploaded under the job's name, file by file.
    const std::string prefix = "inputs/" + job_name + "/" + channel + "/";
    for (const auto& entry : fs::recursive_directory_iterator(source)) {
      if (!entry.is_regular_file()) continue;
      TY_ASSIGN_OR_RETURN(std::string digest, Sha256OfFile(entry.path()));
      TY_RETURN_IF_ERROR(PutFile(*s3_, prefix + fs::relative(entry.path(), source).string(),
                                 entry.path(), digest));
    }
    return root + prefix;
  }
  // A file (a dataset) is addressed by its content: the sweep's other jobs find it there.
  TY_ASSIGN_OR_RETURN(std::string digest, Sha256OfFile(source));
  const std::string prefix = "inputs/" + digest + "/";
  const std::string key = prefix + source.filename().string();
  auto existing = s3_->Head(key);
  if (!existing.ok() || existing->size != fs::file_size(source))
    TY_RETURN_IF_ERROR(PutFile(*s3_, key, source, digest));
  return root + prefix;
}

Status SageMakerExecutor::Create(const json& request) {
  aws::JsonCallResult created = sagemaker_.Call("CreateTrainingJob", request);
  if (created.ok()) return Status::Ok();
  if (created.status.code() != StatusCode::kAlreadyExists) return created.status;
  // The name is taken: by this very request when an earlier attempt's answer was lost.
  const std::string name = request["TrainingJobName"];
  aws::JsonCallResult existing =
      sagemaker_.Call("DescribeTrainingJob", {{"TrainingJobName", name}});
  if (existing.ok() && IsSameTrainingJob(request, existing.output)) return Status::Ok();
  return AlreadyExists("a different SageMaker training job named '" + name + "' already exists");
}

Status SageMakerExecutor::Submit(const JobSpec& spec) {
  TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
  const std::string& name = spec.definition.job_name;
  if (Find(name)) return AlreadyExists("job '" + name + "' was already submitted");

  ChannelUris channels;
  for (const auto& [channel, source] : spec.channel_sources) {
    auto uri = UploadChannel(name, channel, source);
    if (!uri.ok()) return uri.status().WithContext("channel '" + channel + "'");
    channels[channel] = *uri;
  }
  TY_ASSIGN_OR_RETURN(json request, CreateTrainingJobRequest(spec, options_, channels));
  std::vector<aws::ValidationError> errors =
      aws::SageMakerModel().ValidateInput("CreateTrainingJob", request);
  if (!errors.empty()) return InvalidArgument(aws::ValidationMessage(errors));
  TY_RETURN_IF_ERROR(Create(request));

  auto job = std::make_shared<Job>(name, spec.artifact_dir, std::chrono::system_clock::now(),
                                   options_.poll_min);
  {
    std::lock_guard lock(mutex_);
    jobs_.emplace(name, job);
  }
  wake_.notify_all();
  return Status::Ok();
}

std::shared_ptr<SageMakerExecutor::Job> SageMakerExecutor::Find(const std::string& job_name) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(job_name);
  return it == jobs_.end() ? nullptr : it->second;
}

Result<JobDescription> SageMakerExecutor::Describe(const std::string& job_name) {
  if (auto job = Find(job_name)) {
    std::lock_guard lock(mutex_);
    return job->published;
  }
  // Not submitted by this process: SageMaker may know it (submitted before a restart).
  aws::JsonCallResult answer =
      sagemaker_.Call("DescribeTrainingJob", {{"TrainingJobName", job_name}});
  if (IsUnknownJob(answer) || (answer.ok() && options_.work_dir.empty()))
    return NotFound("no training job '" + job_name + "' in SageMaker");
  if (!answer.ok()) return answer.status;
  TY_ASSIGN_OR_RETURN(JobDescription description, DescriptionFromSageMaker(answer.output));
  // Reported in progress until the follower has collected its artifacts, ended or not.
  auto job =
      std::make_shared<Job>(job_name, options_.work_dir / job_name / "artifacts",
                            description.status.creation_time(), std::chrono::milliseconds(0));
  std::unique_lock lock(mutex_);
  auto [it, inserted] = jobs_.emplace(job_name, job);
  JobDescription published = it->second->published;
  lock.unlock();
  wake_.notify_all();
  return published;
}

Status SageMakerExecutor::Adopt(const std::string& job_name, const fs::path& artifact_dir) {
  if (artifact_dir != options_.work_dir / job_name / "artifacts") {
    return FailedPrecondition("the sagemaker executor keeps job '" + job_name +
                              "' artifacts under its work dir, not in '" + artifact_dir.string() +
                              "'");
  }
  return Describe(job_name).status();
}

Status SageMakerExecutor::Stop(const std::string& job_name) {
  auto job = Find(job_name);
  if (job) {
    std::lock_guard lock(mutex_);
    if (job->ended()) return Status::Ok();
  }
  aws::JsonCallResult stopped = sagemaker_.Call("StopTrainingJob", {{"TrainingJobName", job_name}});
  if (!stopped.ok()) {
    if (IsUnknownJob(stopped) && !job) return NotFound("no training job '" + job_name + "'");
    // SageMaker refuses to stop a job that has just ended (ValidationException): nothing to do.
    if (stopped.status.code() != StatusCode::kInvalidArgument) return stopped.status;
  }
  if (job) {
    std::lock_guard lock(mutex_);
    job->next_poll = Clock::now();
    job->interval = options_.poll_min;
  }
  wake_.notify_all();
  return Status::Ok();
}

void SageMakerExecutor::Follow() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    Clock::time_point now = Clock::now();
    Clock::time_point next = now + std::chrono::hours(1);
    std::vector<std::shared_ptr<Job>> due;
    for (auto& [name, job] : jobs_) {
      if (job->ended()) continue;
      if (job->next_poll <= now)
        due.push_back(job);
      else
        next = std::min(next, job->next_poll);
    }
    if (due.empty()) {
      wake_.wait_until(lock, next);
      continue;
    }
    lock.unlock();
    for (const auto& job : due) {
      bool changed = Poll(*job);
      std::lock_guard relock(mutex_);
      job->interval = changed ? options_.poll_min : std::min(job->interval * 2, options_.poll_max);
      job->next_poll = Clock::now() + job->interval;
      if (stopping_) break;
    }
    lock.lock();
  }
}

bool SageMakerExecutor::Poll(Job& job) {
  aws::JsonCallResult answer =
      sagemaker_.Call("DescribeTrainingJob", {{"TrainingJobName", job.name}});
  if (!answer.ok()) {
    if (!IsUnknownJob(answer)) {
      // Throttled or unreachable: polled again later.
      WarnIfFailed("executor", answer.status, "job={} DescribeTrainingJob failed", job.name);
      return false;
    }
    JobDescription gone = {job.name, core::JobStatusTracker(std::chrono::system_clock::now())};
    // A new tracker (Starting) can always fail.
    (void)gone.status.Fail("InternalServerError: SageMaker no longer knows the training job",
                           std::chrono::system_clock::now());
    std::lock_guard lock(mutex_);
    job.published = std::move(gone);
    return true;
  }
  auto description = DescriptionFromSageMaker(answer.output);
  if (!description.ok()) {
    WarnIfFailed("executor", description.status(),
                 "job={} DescribeTrainingJob's answer not understood", job.name);
    return false;
  }
  json fingerprint = {answer.output.value("TrainingJobStatus", ""),
                      answer.output.value("SecondaryStatusTransitions", json::array()),
                      answer.output.value("FinalMetricDataList", json::array())};
  if (core::IsTerminal(description->status.status())) CollectArtifacts(job);
  std::lock_guard lock(mutex_);
  bool changed = fingerprint.dump() != job.last_answer;
  job.last_answer = fingerprint.dump();
  job.published = std::move(*description);
  return changed;
}

void SageMakerExecutor::CollectArtifacts(Job& job) {
  std::error_code error;
  fs::create_directories(job.artifact_dir, error);
  const std::string output = "outputs/" + job.name + "/output/";
  for (const char* name : {"model.tar.gz", "output.tar.gz"}) {
    Status got = GetFile(*s3_, output + name, job.artifact_dir / name);
    // A job that failed early leaves no model: nothing to warn about.
    if (got.code() != StatusCode::kNotFound) {
      WarnIfFailed("executor", got, "job={} {} not collected from S3", job.name, name);
    }
  }
  if (fs::exists(job.artifact_dir / "output.tar.gz"))
    ExtractPredictions(job.artifact_dir / "output.tar.gz", job.artifact_dir);
  auto log = ReadTrainingLog(logs_, job.name);
  if (!log.ok()) {
    WarnIfFailed("executor", log.status(), "job={} training log not collected from CloudWatch Logs",
                 job.name);
    return;
  }
  std::ofstream(job.artifact_dir / "training.log", std::ios::binary | std::ios::trunc) << *log;
}

}  // namespace trainyard::executor
