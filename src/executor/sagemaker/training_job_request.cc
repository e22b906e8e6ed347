#include "executor/sagemaker/training_job_request.h"

#include <charconv>
#include <cstdio>

#include "core/command_line.h"

namespace trainyard::executor {
namespace {

using nlohmann::json;

std::string S3Root(const SageMakerExecutorOptions& options) {
  return "s3://" + options.bucket + "/" + (options.prefix.empty() ? "" : options.prefix + "/");
}

// AWS JSON 1.1 timestamps: epoch seconds, with a fraction.
TimePoint FromEpochSeconds(const json& value) {
  double seconds = value.is_number() ? value.get<double>() : 0.0;
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(seconds)));
}

json Environment(const JobSpec& spec) {
  json environment = json::object();
  for (const auto& [key, value] : spec.definition.environment) environment[key] = value;
  for (const auto& [key, value] : spec.secret_environment) environment[key] = value;
  if (!spec.command.empty()) environment["TRAINYARD_COMMAND"] = core::JoinCommandLine(spec.command);
  // SageMaker's own grace is 120 s; a shorter one is trainyard-wrap's to apply inside the job.
  if (spec.stop_grace_period != std::chrono::seconds(120)) {
    double seconds = static_cast<double>(spec.stop_grace_period.count()) / 1000.0;
    char text[32];
    std::snprintf(text, sizeof text, "%g", seconds);
    environment["TRAINYARD_STOP_GRACE_SECONDS"] = text;
  }
  return environment;
}

json AlgorithmSpecification(const contract::JobDefinition& definition, const std::string& image) {
  json algorithm = {{"TrainingImage", image}, {"TrainingInputMode", "File"}};
  if (!definition.metric_definitions.empty()) {
    json metrics = json::array();
    for (const auto& metric : definition.metric_definitions)
      metrics.push_back({{"Name", metric.name}, {"Regex", metric.regex}});
    algorithm["MetricDefinitions"] = metrics;
  }
  if (!definition.container_entrypoint.empty())
    algorithm["ContainerEntrypoint"] = definition.container_entrypoint;
  if (!definition.container_arguments.empty())
    algorithm["ContainerArguments"] = definition.container_arguments;
  return algorithm;
}

json ResourceConfig(const contract::ResourceSettings& resources,
                    const SageMakerExecutorOptions& options) {
  // "local" is what a sweep says when it names no instance: the executor's default applies.
  bool named = !resources.instance_type.empty() && resources.instance_type != "local";
  return {{"InstanceType", named ? resources.instance_type : options.instance_type},
          {"InstanceCount", named ? resources.instance_count : options.instance_count},
          {"VolumeSizeInGB",
           resources.volume_size_gb > 0 ? resources.volume_size_gb : options.volume_size_gb}};
}

}  // namespace

Result<json> CreateTrainingJobRequest(const JobSpec& spec, const SageMakerExecutorOptions& options,
                                      const ChannelUris& channels) {
  const contract::JobDefinition& definition = spec.definition;
  std::string image =
      definition.training_image.empty() ? options.default_image : definition.training_image;
  if (image.empty()) {
    return InvalidArgument(
        "field 'AlgorithmSpecification.TrainingImage': no image: give the sweep a trainer image "
        "or the server --sagemaker-image");
  }
  json input_data = json::array();
  for (const contract::ChannelConfig& channel : definition.channels) {
    auto uri = channels.find(channel.name);
    if (uri == channels.end()) {
      return InvalidArgument("field 'InputDataConfig': channel '" + channel.name +
                             "' has no data in S3");
    }
    json entry = {{"ChannelName", channel.name},
                  {"DataSource",
                   {{"S3DataSource",
                     {{"S3DataType", "S3Prefix"},
                      {"S3Uri", uri->second},
                      {"S3DataDistributionType", "FullyReplicated"}}}}},
                  {"InputMode", channel.input_mode.empty() ? "File" : channel.input_mode}};
    if (!channel.content_type.empty()) entry["ContentType"] = channel.content_type;
    input_data.push_back(entry);
  }
  json hyperparameters = json::object();
  for (const auto& [key, value] : definition.hyperparameters) hyperparameters[key] = value;

  json request = {{"TrainingJobName", definition.job_name},
                  {"HyperParameters", hyperparameters},
                  {"AlgorithmSpecification", AlgorithmSpecification(definition, image)},
                  {"RoleArn", options.role_arn},
                  {"OutputDataConfig", {{"S3OutputPath", S3Root(options) + "outputs/"}}},
                  {"ResourceConfig", ResourceConfig(definition.resources, options)},
                  {"StoppingCondition", {{"MaxRuntimeInSeconds", definition.max_runtime_seconds}}},
                  {"Environment", Environment(spec)}};
  if (!input_data.empty()) request["InputDataConfig"] = input_data;
  if (options.checkpoints) {
    request["CheckpointConfig"] = {
        {"S3Uri", S3Root(options) + "checkpoints/" + definition.job_name + "/"},
        {"LocalPath", "/opt/ml/checkpoints"}};
  }
  if (!options.tags.empty()) {
    json tags = json::array();
    for (const auto& [key, value] : options.tags) tags.push_back({{"Key", key}, {"Value", value}});
    request["Tags"] = tags;
  }
  return request;
}

bool IsSameTrainingJob(const json& request, const json& description) {
  auto field = [](const json& document, const char* a, const char* b = nullptr) {
    json value = document.value(a, json());
    if (b != nullptr) value = value.is_object() ? value.value(b, json()) : json();
    return value;
  };
  auto channels = [](const json& document) {
    json uris = json::object();
    for (const json& channel : document.value("InputDataConfig", json::array())) {
      uris[channel.value("ChannelName", "")] = channel.value("DataSource", json::object())
                                                   .value("S3DataSource", json::object())
                                                   .value("S3Uri", "");
    }
    return uris;
  };
  return field(request, "AlgorithmSpecification", "TrainingImage") ==
             field(description, "AlgorithmSpecification", "TrainingImage") &&
         field(request, "HyperParameters") == field(description, "HyperParameters") &&
         field(request, "OutputDataConfig", "S3OutputPath") ==
             field(description, "OutputDataConfig", "S3OutputPath") &&
         field(request, "Environment") == field(description, "Environment") &&
         channels(request) == channels(description);
}

Result<JobDescription> DescriptionFromSageMaker(const json& description) {
  if (!description.is_object() || !description.contains("TrainingJobName") ||
      !description.contains("TrainingJobStatus") || !description.contains("CreationTime")) {
    return InvalidArgument(
        "DescribeTrainingJob answered without TrainingJobName, TrainingJobStatus or "
        "CreationTime");
  }
  JobDescription result{description["TrainingJobName"].get<std::string>(),
                        core::JobStatusTracker(FromEpochSeconds(description["CreationTime"]))};
  std::string failure_reason = description.value("FailureReason", "");
  for (const json& transition : description.value("SecondaryStatusTransitions", json::array())) {
    auto status = core::ParseSecondaryStatus(transition.value("Status", ""));
    if (!status.ok()) continue;  // a status newer than this build knows
    TimePoint start = FromEpochSeconds(transition.value("StartTime", json()));
    std::string message = transition.value("StatusMessage", "");
    if (*status == core::SecondaryStatus::kFailed && !failure_reason.empty())
      message = failure_reason;
    // SageMaker's history is mirrored as far as the state machine follows it: a step it
    // refuses is left out, and the primary status below still decides how the job ended.
    if (*status == result.status.secondary_status()) {
      (void)result.status.SetStatusMessage(message, start);
      continue;
    }
    (void)result.status.Transition(*status, start, message);
  }
  // The primary status is the truth; a transition list that lags behind it (or is missing, as
  // with some compatible services) gets its end added.
  auto primary = core::ParseJobStatus(description["TrainingJobStatus"].get<std::string>());
  if (primary.ok() && core::IsTerminal(*primary) && !core::IsTerminal(result.status.status())) {
    TimePoint end = FromEpochSeconds(
        description.value("TrainingEndTime", description.value("LastModifiedTime", json())));
    core::SecondaryStatus last =
        *primary == core::JobStatus::kCompleted ? core::SecondaryStatus::kCompleted
        : *primary == core::JobStatus::kFailed  ? core::SecondaryStatus::kFailed
                                                : core::SecondaryStatus::kStopped;
    if (last == core::SecondaryStatus::kCompleted &&
        !core::CanTransition(result.status.secondary_status(), last)) {
      // Refused too: then so is Completed below, and the job fails saying what was reported.
      (void)result.status.Transition(core::SecondaryStatus::kTraining, end);
    }
    // Fail cannot be refused here: the job is not terminal yet.
    if (last == core::SecondaryStatus::kFailed) {
      (void)result.status.Fail(failure_reason, end);
    } else if (!result.status.Transition(last, end).ok()) {
      (void)result.status.Fail("InternalServerError: SageMaker reported " +
                                   description["TrainingJobStatus"].get<std::string>(),
                               end);
    }
  }
  // SageMaker reports no exit code; it is implied by Completed, and its FailureReason names it.
  if (result.status.status() == core::JobStatus::kCompleted) result.exit_code = 0;
  if (size_t at = failure_reason.rfind("exit code: "); at != std::string::npos) {
    int code = 0;
    const char* begin = failure_reason.data() + at + 11;
    auto [end, error] = std::from_chars(begin, failure_reason.data() + failure_reason.size(), code);
    if (error == std::errc() && end != begin) result.exit_code = code;
  }
  for (const json& metric : description.value("FinalMetricDataList", json::array())) {
    if (metric.contains("MetricName") && metric.contains("Value") && metric["Value"].is_number())
      result.metrics[metric["MetricName"].get<std::string>()] = metric["Value"].get<double>();
  }
  return result;
}

Status ValidateSageMakerOptions(const SageMakerExecutorOptions& options) {
  if (options.region.empty()) return InvalidArgument("sagemaker executor: no region");
  if (options.role_arn.empty())
    return InvalidArgument("sagemaker executor: no role ARN (--sagemaker-role-arn)");
  if (!options.role_arn.starts_with("arn:"))
    return InvalidArgument("sagemaker executor: role ARN '" + options.role_arn +
                           "' is not an ARN (arn:aws:iam::<account>:role/<name>)");
  if (options.bucket.empty())
    return InvalidArgument("sagemaker executor: no S3 bucket (--sagemaker-bucket)");
  if (options.prefix.starts_with('/') || options.prefix.ends_with('/'))
    return InvalidArgument("sagemaker executor: prefix '" + options.prefix +
                           "' must not start or end with '/'");
  if (options.instance_count < 1)
    return InvalidArgument("sagemaker executor: instance count must be at least 1");
  if (options.poll_min.count() <= 0 || options.poll_max < options.poll_min)
    return InvalidArgument("sagemaker executor: poll intervals must be positive, min <= max");
  return Status::Ok();
}

}  // namespace trainyard::executor
