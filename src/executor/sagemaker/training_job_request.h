// The two translations of the sagemaker executor, kept pure so that tests can check them
// without a service: a JobSpec into a CreateTrainingJob request (CONTRACT.md §4), and a
// DescribeTrainingJob answer into a JobDescription.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "executor/executor.h"
#include "executor/sagemaker/sagemaker_options.h"

namespace trainyard::executor {

// Where each channel's data is in S3 ("s3://bucket/prefix/inputs/<sha256>/"), by channel name.
using ChannelUris = std::map<std::string, std::string>;

// The CreateTrainingJob request for `spec`. The job's token goes into Environment
// (TRAINYARD_JOB_TOKEN: SageMaker has no other way into the container), the command, when the
// spec has one, into TRAINYARD_COMMAND for the image's trainyard-wrap. InvalidArgument naming
// the field when the spec cannot become a request (no image, a channel without data).
Result<nlohmann::json> CreateTrainingJobRequest(const JobSpec& spec,
                                                const SageMakerExecutorOptions& options,
                                                const ChannelUris& channels);

// Whether a job found under our name (DescribeTrainingJob's answer) is the one `request` would
// create: same image, hyperparameters, channels, output and environment. A CreateTrainingJob
// retried after a lost answer finds its own job this way and adopts it.
bool IsSameTrainingJob(const nlohmann::json& request, const nlohmann::json& description);

// A DescribeTrainingJob answer as the executor reports it: status and every secondary-status
// transition with its times and message, FailureReason, FinalMetricDataList. Transitions the
// tracker refuses (SageMaker's Restarting/Interrupted loops of managed spot training) are
// skipped rather than failing the job. InvalidArgument for an answer without the required
// fields.
Result<JobDescription> DescriptionFromSageMaker(const nlohmann::json& description);

}  // namespace trainyard::executor
