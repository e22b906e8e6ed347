// A training job as the SageMaker endpoint keeps it, and its translations: the
// CreateTrainingJob request into what trainyard can run (checks, JobSpec), and the job into
// the DescribeTrainingJob answer, which is also what is persisted and read back at a restart.
// Internal; pure functions over values (thread-safe).
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/time_format.h"
#include "core/job_status_tracker.h"
#include "executor/executor.h"

namespace trainyard::server::sagemaker {

struct MetricValue {
  double value = 0;
  TimePoint time;  // when the value was recorded (its job's end once it has ended)
};

struct TrainingJob {
  std::string name;
  // The CreateTrainingJob members that DescribeTrainingJob echoes, with SageMaker's defaults
  // filled in (see EchoedRequest).
  nlohmann::json request = nlohmann::json::object();
  core::JobStatusTracker status{TimePoint()};
  // The latest value of each metric (FinalMetricDataList once the job has ended).
  std::map<std::string, MetricValue> metrics;
};

struct ArnContext {
  std::string region;
  std::string account_id;
};

// arn:aws:sagemaker:<region>:<account>:training-job/<name in lower case>.
std::string TrainingJobArn(const ArnContext& context, const std::string& name);

// The members of a (valid) CreateTrainingJob request that DescribeTrainingJob echoes, with the
// defaults SageMaker shows: S3DataDistributionType FullyReplicated, CompressionType and
// RecordWrapperType None, KmsKeyId "", MaxRuntimeInSeconds 86400, the Enable* flags false,
// EnableSageMakerMetricsTimeSeries false.
nlohmann::json EchoedRequest(const nlohmann::json& request);

// What a valid request asks that trainyard cannot do (Pipe mode, several instances, manifest
// or file-system data sources, https:// or malformed S3 URIs, ...), as a ValidationException
// message; nullopt when it can run the job.
std::optional<std::string> UnsupportedRequest(const nlohmann::json& request);

// The job's JobSpec, without channel_sources and artifact_dir. The environment's
// TRAINYARD_JOB_TOKEN goes to secret_environment only. ContainerEntrypoint +
// ContainerArguments become the command, except for an executor that runs the image itself
// (Executor::RunsImageItself: the container executor), which passes them to the image as
// SageMaker does (`--entrypoint`, arguments after the image).
executor::JobSpec BuildJobSpec(const TrainingJob& job, bool executor_runs_image);

// SageMaker's StatusMessage for a secondary status ("Downloading input data", ...).
std::string SageMakerStatusMessage(core::SecondaryStatus status);

// When training started on the instance (the end of Starting) and ended (the terminal
// transition), as TrainingStartTime and TrainingEndTime report them.
std::optional<TimePoint> TrainingStartTime(const TrainingJob& job);
std::optional<TimePoint> TrainingEndTime(const TrainingJob& job);

// The DescribeTrainingJob answer for the job's state. Times are epoch seconds (JSON numbers).
// FinalMetricDataList appears once the job has ended.
nlohmann::json DescribeDocument(const TrainingJob& job, const ArnContext& context);

// The job back from a DescribeDocument (description.json at a restart). InvalidArgument naming
// the field for a document DescribeDocument would not write.
Result<TrainingJob> TrainingJobFromDocument(const nlohmann::json& document);

}  // namespace trainyard::server::sagemaker
