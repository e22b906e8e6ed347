// CreateTrainingJob → what trainyard runs. The request has already passed botocore's model
// (types, lengths, enums, patterns); what is checked here is what the model allows but
// trainyard cannot do, each refused with a ValidationException that says so rather than a job
// that silently does something else.
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <set>

#include "contract/metric_pattern.h"
#include "core/sagemaker_limits.h"
#include "server/sagemaker/channel_staging.h"
#include "server/sagemaker/training_job_document.h"
#include "storage/object_store.h"

namespace trainyard::server::sagemaker {
namespace {
using nlohmann::json;

// The CreateTrainingJob members DescribeTrainingJob also has (botocore's model; Tags is the
// only request member it lacks).
constexpr const char* kEchoedMembers[] = {"HyperParameters",
                                          "AlgorithmSpecification",
                                          "RoleArn",
                                          "InputDataConfig",
                                          "OutputDataConfig",
                                          "ResourceConfig",
                                          "VpcConfig",
                                          "StoppingCondition",
                                          "EnableNetworkIsolation",
                                          "EnableInterContainerTrafficEncryption",
                                          "EnableManagedSpotTraining",
                                          "CheckpointConfig",
                                          "DebugHookConfig",
                                          "DebugRuleConfigurations",
                                          "TensorBoardOutputConfig",
                                          "ExperimentConfig",
                                          "ProfilerConfig",
                                          "ProfilerRuleConfigurations",
                                          "Environment",
                                          "RetryStrategy"};

std::string Text(const json& object, const char* member, const std::string& fallback = "") {
  if (!object.is_object() || !object.contains(member) || !object[member].is_string()) {
    return fallback;
  }
  return object[member].get<std::string>();
}

std::vector<std::string> Strings(const json& object, const char* member) {
  std::vector<std::string> values;
  if (!object.is_object() || !object.contains(member) || !object[member].is_array()) return values;
  for (const json& value : object[member]) {
    if (value.is_string()) values.push_back(value.get<std::string>());
  }
  return values;
}

// What trainyard's own sagemaker executor puts in Environment (executor/sagemaker/
// training_job_request.cc): the callback of the server that submitted the job, the command for
// trainyard-wrap and a shorter grace period. Accepted beyond the REST API's rule, so that a
// trainyard server runs its jobs on another's endpoint as it does on SageMaker; the job token
// goes to the job's secret environment only (BuildJobSpec).
constexpr const char* kSageMakerExecutorVariables[] = {"TRAINYARD_CALLBACK_URL",
                                                       "TRAINYARD_JOB_TOKEN", "TRAINYARD_COMMAND",
                                                       "TRAINYARD_STOP_GRACE_SECONDS"};

// A variable of Environment that trainyard sets itself (core::IsReservedEnvironmentVariable,
// as the REST API decides), unless the sagemaker executor sends it.
// trainyard-wrap matches metric regexes with RE2 in linear time (contract/metric_pattern.h): a
// regex it cannot compile (a backreference, lookaround) or without a capture group would give
// no metric, so it is refused here, naming the definition.
std::optional<std::string> UnusableMetricRegex(const json& algorithm) {
  const json& definitions = algorithm.value("MetricDefinitions", json::array());
  if (!definitions.is_array()) return std::nullopt;
  for (size_t i = 0; i < definitions.size(); ++i) {
    if (!definitions[i].is_object()) continue;
    std::string field = "AlgorithmSpecification.MetricDefinitions." + std::to_string(i + 1) +
                        ".Regex ('" + Text(definitions[i], "Name") + "')";
    Status checked = contract::CheckMetricRegex(field, Text(definitions[i], "Regex"));
    if (!checked.ok()) {
      return checked.message() +
             " (trainyard matches metric regexes with RE2: no backreferences or lookaround).";
    }
  }
  return std::nullopt;
}

std::optional<std::string> ReservedVariable(const json& request) {
  if (!request.contains("Environment") || !request["Environment"].is_object()) return std::nullopt;
  for (const auto& [key, value] : request["Environment"].items()) {
    if (!core::IsReservedEnvironmentVariable(key)) continue;
    if (std::find(std::begin(kSageMakerExecutorVariables), std::end(kSageMakerExecutorVariables),
                  key) != std::end(kSageMakerExecutorVariables)) {
      continue;
    }
    return "Environment variable '" + key + "': " + core::kReservedEnvironmentMessage + ".";
  }
  return std::nullopt;
}

// A prefix the store can list safely: its key part obeys the key rules (a trailing '/' aside).
bool IsUsablePrefix(const std::string& prefix) {
  std::string key = prefix;
  while (!key.empty() && key.back() == '/') key.pop_back();
  return key.empty() || storage::ValidateObjectKey(key).ok();
}

std::optional<std::string> UnsupportedChannel(const json& channel, const std::string& mode,
                                              std::set<std::string>& names) {
  std::string name = Text(channel, "ChannelName");
  if (name == "." || name == "..") {
    return "Channel name '" + name + "' cannot name a directory under /opt/ml/input/data.";
  }
  if (!names.insert(name).second) {
    return "Channel names must be unique: '" + name + "' is given more than once.";
  }
  const json& source = channel.value("DataSource", json::object());
  if (!source.contains("S3DataSource")) {
    return "Channel '" + name +
           "': trainyard supports only S3DataSource data sources (the S3 endpoint's objects), "
           "not FileSystemDataSource.";
  }
  const json& s3 = source["S3DataSource"];
  std::string type = Text(s3, "S3DataType");
  if (type != "S3Prefix") {
    return "Channel '" + name + "': trainyard supports S3DataType S3Prefix only, not '" + type +
           "'.";
  }
  std::string uri = Text(s3, "S3Uri");
  std::optional<S3Location> location = ParseS3Uri(uri);
  if (!location || !IsUsablePrefix(location->prefix)) {
    return "Channel '" + name +
           "': S3Uri must be s3://<bucket>/<key prefix> (trainyard's S3 "
           "endpoint), got '" +
           uri + "'.";
  }
  if (Text(channel, "InputMode", mode) == "Pipe") {
    return "Channel '" + name +
           "': trainyard supports InputMode File (and FastFile, which it "
           "serves as File), not Pipe.";
  }
  if (Text(channel, "CompressionType", "None") != "None") {
    return "Channel '" + name +
           "': CompressionType is used only in Pipe input mode; in File "
           "mode leave it unset or set it to None.";
  }
  if (Text(channel, "RecordWrapperType", "None") != "None") {
    return "Channel '" + name + "': RecordWrapperType RecordIO is not supported by trainyard.";
  }
  return std::nullopt;
}

}  // namespace

json EchoedRequest(const json& request) {
  json echoed = json::object();
  for (const char* member : kEchoedMembers) {
    if (request.contains(member) && !request[member].is_null()) echoed[member] = request[member];
  }
  json& algorithm = echoed["AlgorithmSpecification"];
  if (!algorithm.contains("EnableSageMakerMetricsTimeSeries")) {
    algorithm["EnableSageMakerMetricsTimeSeries"] = false;
  }
  if (echoed.contains("InputDataConfig")) {
    for (json& channel : echoed["InputDataConfig"]) {
      json& s3 = channel["DataSource"]["S3DataSource"];
      if (!s3.contains("S3DataDistributionType")) s3["S3DataDistributionType"] = "FullyReplicated";
      if (!channel.contains("CompressionType")) channel["CompressionType"] = "None";
      if (!channel.contains("RecordWrapperType")) channel["RecordWrapperType"] = "None";
    }
  }
  if (!echoed["OutputDataConfig"].contains("KmsKeyId")) echoed["OutputDataConfig"]["KmsKeyId"] = "";
  if (!echoed["StoppingCondition"].contains("MaxRuntimeInSeconds")) {
    echoed["StoppingCondition"]["MaxRuntimeInSeconds"] = 86400;
  }
  for (const char* flag : {"EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
                           "EnableManagedSpotTraining"}) {
    if (!echoed.contains(flag)) echoed[flag] = false;
  }
  return echoed;
}

std::optional<std::string> UnsupportedRequest(const json& request) {
  const json& algorithm = request.value("AlgorithmSpecification", json::object());
  std::string mode = Text(algorithm, "TrainingInputMode", "File");
  if (mode == "Pipe") {
    return "trainyard supports TrainingInputMode File (and FastFile, which it serves as File), "
           "not Pipe.";
  }
  if (algorithm.contains("AlgorithmName")) {
    return "trainyard runs training images and commands, not SageMaker algorithms: give "
           "TrainingImage (or ContainerEntrypoint) instead of AlgorithmName.";
  }
  if (auto reserved = ReservedVariable(request)) return reserved;
  if (auto regex = UnusableMetricRegex(algorithm)) return regex;
  std::set<std::string> names;
  for (const json& channel : request.value("InputDataConfig", json::array())) {
    if (auto unsupported = UnsupportedChannel(channel, mode, names)) return unsupported;
  }
  const json& resources = request.value("ResourceConfig", json::object());
  if (resources.contains("InstanceGroups")) {
    return "trainyard runs a training job on one instance: InstanceGroups (heterogeneous "
           "clusters) are not supported.";
  }
  int64_t count = resources.value("InstanceCount", int64_t{1});
  if (count != 1) {
    return "trainyard runs a training job on one instance: InstanceCount must be 1, not " +
           std::to_string(count) + ".";
  }
  std::string output = Text(request.value("OutputDataConfig", json::object()), "S3OutputPath");
  std::optional<S3Location> location = ParseS3Uri(output);
  if (!location || !IsUsablePrefix(location->prefix)) {
    return "S3OutputPath must be s3://<bucket>/<key prefix> (trainyard's S3 endpoint), got '" +
           output + "'.";
  }
  return std::nullopt;
}

executor::JobSpec BuildJobSpec(const TrainingJob& job, bool executor_runs_image) {
  const json& request = job.request;
  const json& algorithm = request.value("AlgorithmSpecification", json::object());
  executor::JobSpec spec;
  contract::JobDefinition& definition = spec.definition;
  definition.job_name = job.name;
  if (request.contains("HyperParameters")) {
    definition.hyperparameters = request["HyperParameters"].get<core::HyperparameterMap>();
  }
  std::string mode = Text(algorithm, "TrainingInputMode", "File");
  for (const json& channel : request.value("InputDataConfig", json::array())) {
    contract::ChannelConfig config;
    config.name = Text(channel, "ChannelName");
    config.content_type = Text(channel, "ContentType");
    config.input_mode = Text(channel, "InputMode", mode) == "Pipe" ? "Pipe" : "File";
    definition.channels.push_back(config);
  }
  const json& resources = request.value("ResourceConfig", json::object());
  definition.resources.instance_type =
      Text(resources, "InstanceType", definition.resources.instance_type);
  definition.resources.instance_count = resources.value("InstanceCount", 1);
  definition.resources.volume_size_gb = resources.value("VolumeSizeInGB", 0);
  for (const json& metric : algorithm.value("MetricDefinitions", json::array())) {
    definition.metric_definitions.push_back({Text(metric, "Name"), Text(metric, "Regex")});
  }
  if (request.contains("Environment")) {
    for (const auto& [key, value] : request["Environment"].items()) {
      // The job token authenticates the job to trainyard: never in its config files.
      if (key == "TRAINYARD_JOB_TOKEN") {
        spec.secret_environment[key] = value.get<std::string>();
      } else if (key == "TRAINYARD_STOP_GRACE_SECONDS") {
        // trainyard's extension (docs/sagemaker-endpoint.md): a grace shorter than SageMaker's
        // 120 s, which the sagemaker executor passes on from its job.
        char* end = nullptr;
        std::string text = value.get<std::string>();
        double seconds = std::strtod(text.c_str(), &end);
        if (end != text.c_str() && *end == '\0' && seconds >= 0 && seconds <= 120)
          spec.stop_grace_period = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
        definition.environment[key] = text;
      } else {
        definition.environment[key] = value.get<std::string>();
      }
    }
  }
  definition.max_runtime_seconds = request.value("StoppingCondition", json::object())
                                       .value("MaxRuntimeInSeconds", int64_t{86400});
  definition.training_image = Text(algorithm, "TrainingImage");
  definition.container_entrypoint = Strings(algorithm, "ContainerEntrypoint");
  definition.container_arguments = Strings(algorithm, "ContainerArguments");
  if (!executor_runs_image) {
    // Here the command itself is the "image": what the container would run, run directly.
    spec.command = definition.container_entrypoint;
    spec.command.insert(spec.command.end(), definition.container_arguments.begin(),
                        definition.container_arguments.end());
  }
  return spec;
}

}  // namespace trainyard::server::sagemaker
