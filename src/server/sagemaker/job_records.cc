// A SageMaker job is one job of a sweep. SageMaker's HyperParameters are strings the job gets as
// they are, never a grid: they go to the scheduler as literal hyperparameters. The S3 endpoint
// keeps an object of bucket b at s3/objects/b/<key> (server/s3/s3_api.h), so an S3Uri's prefix
// is the key prefix s3/objects/b/<prefix>, which the scheduler places as SageMaker does.
#include "server/sagemaker/job_records.h"

#include <algorithm>

#include "core/sagemaker_limits.h"
#include "executor/job_staging.h"
#include "server/s3/s3_names.h"
#include "server/sagemaker/channel_staging.h"
#include "server/sagemaker/training_jobs.h"
#include "server/sagemaker/tuning_request.h"

namespace trainyard::server::sagemaker {
using nlohmann::json;

control::SweepRequest SweepRequestFor(const json& request, const executor::Executor& executor) {
  const std::string name = request["TrainingJobName"].get<std::string>();
  TrainingJob job;
  job.name = name;
  job.request = EchoedRequest(request);
  executor::JobSpec spec = BuildJobSpec(job, executor.RunsImageItself());

  control::SweepRequest sweep;
  sweep.name = kSweepName;
  sweep.job_name = name;
  sweep.executor = executor.name();
  if (executor.AcceptedTrainer() == executor::TrainerKind::kImage) {
    sweep.image = spec.definition.training_image;
  } else if (!spec.command.empty()) {
    sweep.command = spec.command;
  } else {
    // No entrypoint: SageMaker runs the image as "<image> train"; CompleteJobSpec leaves the
    // command to trainyard-wrap, which resolves it as it does for that image (TRAINYARD_COMMAND).
    sweep.command = {"train"};
  }
  sweep.literal_hyperparameters = true;
  sweep.sweep.fixed = spec.definition.hyperparameters;
  for (const json& channel : request.value("InputDataConfig", json::array())) {
    S3Location input =
        *ParseS3Uri(channel["DataSource"]["S3DataSource"]["S3Uri"].get<std::string>());
    sweep.channels[channel["ChannelName"].get<std::string>()] =
        control::ObjectPrefixChannel{s3::ObjectStoreKey(input.bucket, input.prefix)};
  }
  sweep.max_runtime_seconds = spec.definition.max_runtime_seconds;
  for (const auto& [key, value] : spec.definition.environment) {
    if (!core::IsReservedEnvironmentVariable(key)) sweep.environment[key] = value;
  }
  sweep.resources = spec.definition.resources;
  sweep.metric_definitions = spec.definition.metric_definitions;
  S3Location output = *ParseS3Uri(request["OutputDataConfig"]["S3OutputPath"].get<std::string>());
  std::string output_key = OutputObjectKey(output, name, "");  // "<prefix>/<job>/output/"
  sweep.output_root = s3::ObjectStoreKey(
      output.bucket, output_key.substr(0, output_key.size() - (name + "/output/").size()));
  sweep.files_root = kJobsPrefix;
  sweep.client_request = job.request;
  return sweep;
}

Status CompleteJobSpec(const control::SweepRequest& request, bool executor_runs_image,
                       executor::JobSpec& spec) {
  if (!request.client_request.is_object()) {
    return Internal("the training job's request is not kept with its sweep");
  }
  TrainingJob job;
  job.name = spec.definition.job_name;
  job.request = request.client_request;
  if (IsTuningRequest(request.client_request)) {
    // A tuning job's training job runs its definition with the static hyperparameters exactly
    // as given (the sweep's stored form may have re-encoded them) and its tuned ones.
    job.request = EchoedRequest(TrainingRequestOf(
        request.client_request, job.name,
        TunedHyperparameters(request.client_request, spec.definition.hyperparameters)));
  }
  executor::JobSpec built = BuildJobSpec(job, executor_runs_image);
  built.definition.job_name = spec.definition.job_name;
  // The scheduler's own variables (a callback, where it gives one) stay.
  for (const auto& [key, value] : spec.definition.environment) {
    built.definition.environment.emplace(key, value);
  }
  for (const auto& [key, value] : spec.secret_environment) {
    built.secret_environment.emplace(key, value);
  }
  built.channel_sources = std::move(spec.channel_sources);
  built.code_source = std::move(spec.code_source);
  built.artifact_dir = std::move(spec.artifact_dir);
  built.checkpoint = std::move(spec.checkpoint);
  spec = std::move(built);
  return Status::Ok();
}

Status KeepCheckpointAtS3Uri(const json& client_request, const CheckpointPresigner& presign,
                             executor::JobSpec& spec) {
  const json config = client_request.is_object()
                          ? client_request.value("CheckpointConfig", json::object())
                          : json::object();
  if (!presign || !config.is_object() || !config.value("S3Uri", json()).is_string()) {
    return Status::Ok();
  }
  const std::string uri = config["S3Uri"].get<std::string>();
  std::optional<S3Location> location = ParseS3Uri(uri);
  if (!location) {
    return InvalidArgument("CheckpointConfig.S3Uri '" + uri + "': not an s3://bucket/prefix URI");
  }
  const std::string local_path = config.value("LocalPath", json("/opt/ml/checkpoints")).is_string()
                                     ? config.value("LocalPath", "/opt/ml/checkpoints")
                                     : "";
  if (local_path != "/opt/ml/checkpoints" && local_path != "/opt/ml/checkpoints/") {
    return InvalidArgument("CheckpointConfig.LocalPath '" + local_path +
                           "': only /opt/ml/checkpoints is kept (job.json's checkpoint_dir)");
  }
  std::string key = location->prefix;
  if (!key.empty() && key.back() != '/') key += '/';
  key += "checkpoints.tar.gz";
  // Valid while the job may run: its max runtime, its grace, and a day in the queue.
  const std::chrono::seconds expires = executor::StagingUrlLifetime(spec, std::chrono::hours(24));
  TY_ASSIGN_OR_RETURN(PresignedPair urls, presign(location->bucket, key, expires));
  spec.secret_environment[executor::kCheckpointUrlsVariable] =
      json{{"get", urls.get_url}, {"put", urls.put_url}}.dump();
  spec.checkpoint = {};  // kept at the URI instead of by the job's name
  return Status::Ok();
}

Result<TrainingJob> TrainingJobOf(const metadata::JobRecord& record, const json& echoed) {
  TrainingJob job;
  job.name = record.name;
  job.request = echoed;
  json transitions = json::array();
  for (const core::StatusTransition& transition : record.transitions) {
    json entry = {{"status", core::ToString(transition.status)},
                  {"status_message", SageMakerStatusMessage(transition.status)},
                  {"start_time", FormatIso8601(transition.start_time)}};
    if (transition.end_time) entry["end_time"] = FormatIso8601(*transition.end_time);
    transitions.push_back(std::move(entry));
  }
  // SageMaker's LastModifiedTime is the last change of the job's status.
  TimePoint last_modified = record.created_at;
  for (const core::StatusTransition& transition : record.transitions) {
    last_modified = std::max({last_modified, transition.start_time,
                              transition.end_time.value_or(transition.start_time)});
  }
  json tracker = {{"creation_time", FormatIso8601(record.created_at)},
                  {"last_modified_time", FormatIso8601(last_modified)},
                  {"failure_reason", record.failure_reason},
                  {"secondary_status_transitions", std::move(transitions)}};
  auto status = core::JobStatusTracker::FromJson(tracker);
  if (!status.ok()) return status.status().WithContext("training job '" + record.name + "'");
  job.status = std::move(status).value();
  const TimePoint metric_time = record.ended_at.value_or(record.updated_at);
  for (const auto& [name, value] : record.metrics) job.metrics[name] = {value, metric_time};
  return job;
}

}  // namespace trainyard::server::sagemaker
