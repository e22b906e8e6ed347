// SageMakerApi: a SageMaker-compatible training API (and the CloudWatch Logs calls that read a
// training job's log), so that awscli (`aws sagemaker ... --endpoint-url`), boto3 and
// trainyard's own sagemaker executor can drive trainyard exactly as they drive SageMaker. It is
// an HttpServer Handler; `trainyard server --sagemaker-listen` serves it on its own listener.
// docs/sagemaker-endpoint.md lists what is supported and what differs from SageMaker.
//
// AWS JSON 1.1 (always POST /, X-Amz-Target "SageMaker.<Op>" or "Logs_20140328.<Op>"), SigV4
// signed for the services "sagemaker" and "logs" with the same keys as the S3 endpoint:
//   SageMaker.CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob
//   SageMaker.CreateHyperParameterTuningJob, DescribeHyperParameterTuningJob,
//     ListHyperParameterTuningJobs, ListTrainingJobsForHyperParameterTuningJob,
//     StopHyperParameterTuningJob: a tuning job is a sweep that searches (docs/search.md)
//   Logs_20140328.DescribeLogStreams, GetLogEvents, FilterLogEvents over the log group
//     /aws/sagemaker/TrainingJobs (one stream per job, "<job>/algo-1-<epoch seconds>")
// Anything else is answered 400 UnknownOperationException. Every request is checked against
// botocore's model (aws/service_model.h) and refused as SageMaker refuses it.
//
// Each job is one job of control::Scheduler, the lifecycle every server-side job goes through
// (sagemaker/training_jobs.h), in `metadata`, the endpoint's own store: it runs on `executor`,
// its input channels are staged from the S3 endpoint's objects in the store, its model.tar.gz
// and output.tar.gz go back there at its end (<S3OutputPath>/<job>/output/...). Store layout,
// beside the S3 endpoint's "s3/":
//   sagemaker/training-jobs/<job>/training.log      the job's log, once it has ended
//   sagemaker/training-jobs/<job>/log-times.json    when each line of it was first seen
//   sagemaker/training-jobs/<job>/description.json  an older server's record of the job,
//                                                   imported into `metadata` at Start
// On disk: <work_dir>/<job>/channels/<channel>/ (staged input) and <work_dir>/<job>/artifacts/
// (what the executor packed), removed once the job's end is recorded. In `metadata`, besides the
// jobs: each running job's log lines as the server that runs it first saw them, so that another
// server sharing the store serves its log (GetLogEvents, DescribeLogStreams) while it runs.
//
// Thread-safety: Handle may be called from many connection threads at once. Start and Stop
// from one thread. Failures are answered as AWS does ({"__type", "message"}); secrets never
// appear in an answer or a log line.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/secret_mask.h"
#include "common/status.h"
#include "common/step_hook.h"
#include "common/time_format.h"
#include "executor/executor.h"
#include "metadata/metadata_store.h"
#include "server/http/http_server.h"
#include "storage/object_store.h"

namespace trainyard::server {

namespace sagemaker {
class TrainingJobs;
}

// A presigned GET and PUT URL of the S3 endpoint's object `key` of `bucket`, as the endpoint's
// jobs reach the endpoint, valid for `expires`.
struct PresignedPair {
  std::string get_url;
  std::string put_url;
};
using CheckpointPresigner = std::function<Result<PresignedPair>(
    const std::string& bucket, const std::string& key, std::chrono::seconds expires)>;

struct SageMakerApiOptions {
  storage::ObjectStore* objects = nullptr;  // the S3 endpoint's store; not owned
  executor::Executor* executor = nullptr;   // runs the jobs (local or container); not owned
  // The endpoint's jobs (apart from the REST API's: a SageMaker job may be named as one of
  // them); not owned.
  metadata::MetadataStore* metadata = nullptr;
  std::filesystem::path work_dir;  // per-job channel staging and artifacts (the scheduler's)
  // Where `executor` lays out its job roots (<dir>/<job>/ml, LocalExecutorOptions::work_dir,
  // ContainerExecutorOptions::work_dir); running jobs' logs are read from
  // <dir>/<job>/ml/output/data/training.log. Not work_dir: the scheduler removes what no job of
  // its own holds there.
  std::filesystem::path executor_work_dir;
  // Who may sign requests: access key id -> secret access key (the S3 endpoint's keys).
  std::map<std::string, std::string> secret_by_access_key_id;
  std::string region = "us-east-1";              // credential scopes must name it; used in ARNs
  std::string account_id = "000000000000";       // in ARNs
  int max_running = 4;                           // more jobs in progress: ResourceLimitExceeded
  std::chrono::milliseconds poll_interval{200};  // how often running jobs are described
  std::chrono::seconds max_clock_skew{300};      // X-Amz-Date further off: Signature expired
  std::function<TimePoint()> clock;              // empty: std::chrono::system_clock::now
  // Reached at each step of a job's way (the scheduler's: scheduler.claimed, .submitted,
  // .running, .storing, .stored); the fault-injection tests kill the server there.
  StepHook on_step;
  // The server's own secrets, masked in the jobs' stored training.log, GetLogEvents and
  // FailureReason (common/secret_mask.h).
  SecretMask secret_mask;
  // Several servers sharing `metadata` (a PostgreSQL schema) and `objects`: this server's name
  // among them, the owner of the jobs it claims and runs; how long its lease on a job holds
  // without renewal; and whether freed slots go to whichever server looks next
  // (control::SchedulerOptions owner_id, lease_duration, spread_claims). Any of them answers
  // every call about any job: a running job's log lines are in `metadata` too, recorded by the
  // server that runs it at each poll_interval.
  std::string owner_id = "local";
  std::chrono::milliseconds lease_duration{30'000};
  bool spread_claims = false;
  // A job with CheckpointConfig keeps /opt/ml/checkpoints at <S3Uri>/checkpoints.tar.gz in the
  // S3 endpoint's store, through URLs this mints (docs/checkpoints.md). Empty: the endpoint has
  // no address its jobs reach, and its jobs keep their checkpoints by name, as the REST API's.
  CheckpointPresigner presign_checkpoint;
};

// The body of the answers that the SageMaker listener's HttpServer writes by itself
// (HttpServerOptions::error_document): AWS JSON 1.1's {"__type":..., "message":...} (503:
// ServiceUnavailable, 5xx: InternalFailure, 4xx: ValidationException).
ErrorDocument SageMakerConnectionErrorDocument(int status, const Status& error);

class SageMakerApi {
 public:
  // `objects` and `executor` must outlive the SageMakerApi.
  explicit SageMakerApi(SageMakerApiOptions options);
  ~SageMakerApi();  // Stop()

  // Imports the jobs an older server kept as description.json documents (ended ones as they
  // ended; one that had not ended is recorded Failed, saying so), then recovers the
  // scheduler's jobs as control::Scheduler::Start does: each carries on from the step it had
  // reached (a job whose code had not started runs, once; a running one is followed; one that
  // was storing its outputs stores them), and what a killed server left half done is removed.
  // Errors: the store or the metadata cannot be read (Internal).
  Status Start();
  // Stops following jobs. Running jobs are NOT stopped: they are the executor's, which stops
  // them when it is destroyed (without detach_jobs) or lets them run on for the next server to
  // follow (the server's local and container executors detach their jobs), as the REST API's
  // jobs do. Idempotent.
  void Stop();

  // Answers one request. Never throws; every failure becomes an AWS JSON error answer.
  void Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response);

 private:
  SageMakerApiOptions options_;
  std::unique_ptr<sagemaker::TrainingJobs> jobs_;
};

}  // namespace trainyard::server
