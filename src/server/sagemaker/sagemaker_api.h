// SageMakerApi: a SageMaker-compatible training API (and the CloudWatch Logs calls that read a
// training job's log), so that awscli (`aws sagemaker ... --endpoint-url`), boto3 and
// trainyard's own sagemaker executor can drive trainyard exactly as they drive SageMaker. It is
// an HttpServer Handler; `trainyard server --sagemaker-listen` serves it on its own listener.
// docs/sagemaker-endpoint.md lists what is supported and what differs from SageMaker.
//
// AWS JSON 1.1 (always POST /, X-Amz-Target "SageMaker.<Op>" or "Logs_20140328.<Op>"), SigV4
// signed for the services "sagemaker" and "logs" with the same keys as the S3 endpoint:
//   SageMaker.CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob
//   Logs_20140328.DescribeLogStreams, GetLogEvents, FilterLogEvents over the log group
//     /aws/sagemaker/TrainingJobs (one stream per job, "<job>/algo-1-<epoch seconds>")
// Anything else is answered 400 UnknownOperationException. Every request is checked against
// botocore's model (aws/service_model.h) and refused as SageMaker refuses it.
//
// Each job runs on `executor`: its input channels are staged from the S3 endpoint's objects in
// the store on a background thread, its model.tar.gz and output.tar.gz go back there at its end
// (<S3OutputPath>/<job>/output/...). Store layout, beside the S3 endpoint's "s3/":
//   sagemaker/training-jobs/<job>/description.json  the DescribeTrainingJob answer, rewritten at
//                                                   every change (the only state that matters)
//   sagemaker/training-jobs/<job>/training.log      the job's log, once it has ended
//   sagemaker/training-jobs/<job>/log-times.json    when each line of it was first seen
// On disk: <work_dir>/<job>/channels/<channel>/ (staged input) and <work_dir>/<job>/artifacts/
// (what the executor packed), both removed once the artifacts are in the store.
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
#include "server/http/http_server.h"
#include "storage/object_store.h"

namespace trainyard::server {

namespace sagemaker {
class TrainingJobs;
}

struct SageMakerApiOptions {
  storage::ObjectStore* objects = nullptr;  // the S3 endpoint's store; not owned
  executor::Executor* executor = nullptr;   // runs the jobs (local or container); not owned
  std::filesystem::path work_dir;           // per-job channel staging and artifacts
  // Where `executor` lays out its job roots (<dir>/<job>/ml, LocalExecutorOptions::work_dir,
  // ContainerExecutorOptions::work_dir); running jobs' logs are read from
  // <dir>/<job>/ml/output/data/training.log. Empty: work_dir (they may share it).
  std::filesystem::path executor_work_dir;
  // Who may sign requests: access key id -> secret access key (the S3 endpoint's keys).
  std::map<std::string, std::string> secret_by_access_key_id;
  std::string region = "us-east-1";              // credential scopes must name it; used in ARNs
  std::string account_id = "000000000000";       // in ARNs
  int max_running = 4;                           // more jobs in progress: ResourceLimitExceeded
  std::chrono::milliseconds poll_interval{200};  // how often running jobs are described
  std::chrono::seconds max_clock_skew{300};      // X-Amz-Date further off: Signature expired
  std::function<TimePoint()> clock;              // empty: std::chrono::system_clock::now
  // Reached at each step of a job's way (sagemaker.created, .staged, .submitted, .storing,
  // .stored); the fault-injection tests kill the server there.
  StepHook on_step;
  // The server's own secrets, masked in the jobs' stored training.log, GetLogEvents and
  // FailureReason (common/secret_mask.h).
  SecretMask secret_mask;
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

  // Loads every persisted job, then carries on with each one that had not ended, from where it
  // stood: a job the executor knows is followed (and, when it has ended, its outputs stored);
  // a job the executor does not know (NotFound from Describe) never started its code when the
  // executor remembers its jobs across restarts (Executor::RemembersJobsAcrossRestarts), so it
  // is staged and submitted again (or ends Stopped, when a stop was asked for); with any other
  // executor it ends Failed, saying that the server was restarted while it ran. What a killed
  // server left half done (staged channels, packed artifacts of ended jobs) is removed.
  // Errors: the store cannot be listed (Internal).
  Status Start();
  // Stops following jobs and waits for the staging threads (a job still staging its input is
  // left unsubmitted, and Start carries on with it). Running jobs are NOT stopped: they are
  // the executor's, which stops them when it is destroyed (without detach_jobs) or lets them
  // run on for the next server to follow (the server's local and container executors detach
  // their jobs), as the REST API's jobs do. Idempotent.
  void Stop();

  // Answers one request. Never throws; every failure becomes an AWS JSON error answer.
  void Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response);

 private:
  SageMakerApiOptions options_;
  std::unique_ptr<sagemaker::TrainingJobs> jobs_;
};

}  // namespace trainyard::server
