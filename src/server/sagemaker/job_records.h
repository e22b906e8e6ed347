// The SageMaker endpoint's translations to and from the scheduler's records: a
// CreateTrainingJob request into a control::SweepRequest of one job, the SageMaker part of its
// executor spec, and a job record back into the TrainingJob that DescribeTrainingJob shows.
// Internal; pure functions over values (thread-safe).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "control/sweep_request.h"
#include "executor/executor.h"
#include "metadata/metadata_store.h"
#include "server/sagemaker/sagemaker_api.h"
#include "server/sagemaker/training_job_document.h"

namespace trainyard::server::sagemaker {

// The sweep name of every endpoint job (its one job is named by the request).
inline constexpr char kSweepName[] = "sagemaker";

// The sweep of one job that runs a (valid, supported) CreateTrainingJob request on `executor`:
// the job named TrainingJobName with HyperParameters as given, each S3Prefix channel from the
// S3 endpoint's objects, outputs under <S3OutputPath>/<job>/output/ and the job's other files
// (training.log, ...) under sagemaker/training-jobs/<job>/, the echoed request kept as
// client_request. The variables of Environment that trainyard sets itself (which only the
// sagemaker executor sends) and what the scheduler's request has no field for (a container's
// entrypoint and arguments, channel content types, the stop grace) come from client_request
// at submission (CompleteJobSpec).
control::SweepRequest SweepRequestFor(const nlohmann::json& request,
                                      const executor::Executor& executor);

// The scheduler's spec of the job completed from the request it keeps (client_request), as
// BuildJobSpec makes it; channel sources and the artifact dir stay the scheduler's.
Status CompleteJobSpec(const control::SweepRequest& request, bool executor_runs_image,
                       executor::JobSpec& spec);

// CheckpointConfig (docs/checkpoints.md): the job's checkpoint archive is the object
// <S3Uri>/checkpoints.tar.gz of the S3 endpoint's buckets, reached by the job's wrapper through
// a presigned GET and PUT (TRAINYARD_CHECKPOINT_URLS, in the spec's secret environment), so that
// every job given the same S3Uri restores it, as on SageMaker. Nothing without CheckpointConfig
// or without `presign`. InvalidArgument naming the field for an S3Uri that is not s3://bucket/...
// or a LocalPath other than /opt/ml/checkpoints.
Status KeepCheckpointAtS3Uri(const nlohmann::json& client_request,
                             const CheckpointPresigner& presign, executor::JobSpec& spec);

// The job as DescribeTrainingJob shows it: SageMaker's status messages, the metrics the job
// reported (timed at its last change), `echoed` as its request.
Result<TrainingJob> TrainingJobOf(const metadata::JobRecord& record, const nlohmann::json& echoed);

}  // namespace trainyard::server::sagemaker
