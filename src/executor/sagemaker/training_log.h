// A SageMaker training job's log, read back from CloudWatch Logs: SageMaker writes each host's
// stdout and stderr to the log group /aws/sagemaker/TrainingJobs, in streams named
// "<job>/algo-<n>-<epoch>". So the log can be downloaded even when the job could not reach the
// server while it ran.
#pragma once

#include <string>

#include "aws/json_client.h"
#include "common/status.h"

namespace trainyard::executor {

inline constexpr char kTrainingJobLogGroup[] = "/aws/sagemaker/TrainingJobs";

// Every event of every stream of the job (DescribeLogStreams by prefix "<job>/", then
// GetLogEvents from the head of each, following nextForwardToken until CloudWatch answers the
// same token again), one line per event, streams in name order (algo-1 first). NotFound when
// the job has no stream (yet).
Result<std::string> ReadTrainingLog(aws::JsonServiceClient& logs, const std::string& job_name);

}  // namespace trainyard::executor
