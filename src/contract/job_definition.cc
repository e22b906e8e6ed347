#include "contract/job_definition.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"

namespace trainyard::contract {
namespace fs = std::filesystem;
using nlohmann::json;

json ResourceConfigJson(const ResourceSettings& resources) {
  // AWS's toolkit reads "current_group_name" in one place and "current_instance_group" in
  // another, so both are written.
  return {{"current_host", resources.current_host},
          {"hosts", resources.hosts},
          {"network_interface_name", resources.network_interface_name},
          {"current_instance_type", resources.instance_type},
          {"current_group_name", kHomogeneousCluster},
          {"current_instance_group", kHomogeneousCluster},
          {"instance_groups", json::array({{{"instance_group_name", kHomogeneousCluster},
                                            {"instance_type", resources.instance_type},
                                            {"hosts", resources.hosts}}})}};
}

json InputDataConfigJson(const std::vector<ChannelConfig>& channels) {
  // The file says "S3DistributionType" where the API says "S3DataDistributionType".
  json config = json::object();
  for (const ChannelConfig& channel : channels) {
    json entry = {{"TrainingInputMode", channel.input_mode},
                  {"S3DistributionType", "FullyReplicated"},
                  {"RecordWrapperType", "None"}};
    if (!channel.content_type.empty()) entry["ContentType"] = channel.content_type;
    config[channel.name] = entry;
  }
  return config;
}

namespace {

// An echo of the CreateTrainingJob request, as SageMaker leaves it for the container.
json TrainingJobConfigJson(const JobDefinition& job) {
  json algorithm = {{"TrainingInputMode", "File"}};
  if (!job.training_image.empty()) algorithm["TrainingImage"] = job.training_image;
  json metrics = json::array();
  for (const MetricDefinition& metric : job.metric_definitions) {
    metrics.push_back({{"Name", metric.name}, {"Regex", metric.regex}});
  }
  algorithm["MetricDefinitions"] = metrics;
  if (!job.container_entrypoint.empty())
    algorithm["ContainerEntrypoint"] = job.container_entrypoint;
  if (!job.container_arguments.empty()) algorithm["ContainerArguments"] = job.container_arguments;

  json channels = json::array();
  for (const ChannelConfig& channel : job.channels) {
    json entry = {{"ChannelName", channel.name}, {"InputMode", channel.input_mode}};
    if (!channel.content_type.empty()) entry["ContentType"] = channel.content_type;
    channels.push_back(entry);
  }
  json resource = {{"InstanceType", job.resources.instance_type},
                   {"InstanceCount", job.resources.instance_count}};
  if (job.resources.volume_size_gb > 0) resource["VolumeSizeInGB"] = job.resources.volume_size_gb;

  return {{"TrainingJobName", job.job_name},
          {"TrainingJobArn", "arn:aws:sagemaker:local:000000000000:training-job/" + job.job_name},
          {"AlgorithmSpecification", algorithm},
          {"HyperParameters", job.hyperparameters},
          {"InputDataConfig", channels},
          {"Environment", job.environment},
          {"ResourceConfig", resource},
          {"StoppingCondition", {{"MaxRuntimeInSeconds", job.max_runtime_seconds}}}};
}

// A job root is laid out before its job starts, and a crash makes it worthless anyway: neither
// atomic nor durable.
Status WriteJson(const fs::path& path, const json& value) {
  return WriteFile(path, value.dump(2) + "\n");
}

// Reads a JSON file; `missing` is returned when the file does not exist.
Result<json> ReadJson(const fs::path& path, json missing) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return missing;
    return text.status();
  }
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return InvalidArgument("'" + path.string() + "' is not valid JSON");
  }
  return value;
}

Status Malformed(const fs::path& path, const std::string& what) {
  return InvalidArgument("'" + path.string() + "': " + what);
}

template <typename T>
T ValueOr(const json& object, const char* key, T fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

Status WriteConfigFiles(const MlRoot& root, const JobDefinition& job) {
  for (const fs::path& directory :
       {root.input_config_dir(), root.input_data_dir(), root.model_dir(), root.output_data_dir(),
        root.checkpoint_dir(), root.code_dir()}) {
    TY_RETURN_IF_ERROR(MakeDirectories(directory));
  }
  for (const ChannelConfig& channel : job.channels) {
    TY_RETURN_IF_ERROR(MakeDirectories(root.channel_dir(channel.name)));
  }
  json metrics = json::array();
  for (const MetricDefinition& metric : job.metric_definitions) {
    metrics.push_back({{"Name", metric.name}, {"Regex", metric.regex}});
  }
  TY_RETURN_IF_ERROR(WriteJson(root.hyperparameters_file(), json(job.hyperparameters)));
  TY_RETURN_IF_ERROR(WriteJson(root.input_data_config_file(), InputDataConfigJson(job.channels)));
  TY_RETURN_IF_ERROR(WriteJson(root.resource_config_file(), ResourceConfigJson(job.resources)));
  TY_RETURN_IF_ERROR(WriteJson(root.training_job_config_file(), TrainingJobConfigJson(job)));
  TY_RETURN_IF_ERROR(WriteJson(root.metric_definitions_file(), metrics));
  return Status::Ok();
}

Result<JobDefinition> ReadConfigFiles(const MlRoot& root) {
  JobDefinition job;
  try {
    TY_ASSIGN_OR_RETURN(json hyperparameters,
                        ReadJson(root.hyperparameters_file(), json::object()));
    if (!hyperparameters.is_object()) {
      return Malformed(root.hyperparameters_file(), "must be a JSON object");
    }
    for (const auto& [key, value] : hyperparameters.items()) {
      // SageMaker always writes strings; a hand-written file may not, so encode the same way.
      job.hyperparameters[key] = core::EncodeHyperparameter(value);
    }

    TY_ASSIGN_OR_RETURN(json input_data, ReadJson(root.input_data_config_file(), json::object()));
    if (!input_data.is_object()) {
      return Malformed(root.input_data_config_file(), "must be a JSON object");
    }
    for (const auto& [name, entry] : input_data.items()) {
      ChannelConfig channel{name, ValueOr<std::string>(entry, "ContentType", ""),
                            ValueOr<std::string>(entry, "TrainingInputMode", "File")};
      job.channels.push_back(channel);
    }

    TY_ASSIGN_OR_RETURN(json resource, ReadJson(root.resource_config_file(), json::object()));
    ResourceSettings defaults;
    job.resources.current_host = ValueOr(resource, "current_host", defaults.current_host);
    job.resources.hosts = ValueOr(resource, "hosts", defaults.hosts);
    if (job.resources.hosts.empty()) job.resources.hosts = {job.resources.current_host};
    job.resources.instance_type =
        ValueOr(resource, "current_instance_type", defaults.instance_type);
    job.resources.network_interface_name =
        ValueOr(resource, "network_interface_name", defaults.network_interface_name);

    TY_ASSIGN_OR_RETURN(json metrics, ReadJson(root.metric_definitions_file(), json::array()));
    if (!metrics.is_array()) {
      return Malformed(root.metric_definitions_file(), "must be a JSON array");
    }
    for (const json& metric : metrics) {
      job.metric_definitions.push_back(
          {metric.at("Name").get<std::string>(), metric.at("Regex").get<std::string>()});
    }

    TY_ASSIGN_OR_RETURN(json request, ReadJson(root.training_job_config_file(), json::object()));
    job.job_name = ValueOr<std::string>(request, "TrainingJobName", "");
    job.environment = ValueOr(request, "Environment", job.environment);
    if (request.contains("ResourceConfig")) {
      const json& config = request["ResourceConfig"];
      job.resources.instance_count = ValueOr(config, "InstanceCount", 1);
      job.resources.volume_size_gb = ValueOr(config, "VolumeSizeInGB", 0);
    }
    if (request.contains("StoppingCondition")) {
      job.max_runtime_seconds =
          ValueOr<int64_t>(request["StoppingCondition"], "MaxRuntimeInSeconds", 86400);
    }
    if (request.contains("AlgorithmSpecification")) {
      const json& algorithm = request["AlgorithmSpecification"];
      job.training_image = ValueOr<std::string>(algorithm, "TrainingImage", "");
      job.container_entrypoint =
          ValueOr(algorithm, "ContainerEntrypoint", std::vector<std::string>{});
      job.container_arguments =
          ValueOr(algorithm, "ContainerArguments", std::vector<std::string>{});
    }
  } catch (const json::exception& error) {
    // A field of the wrong type in a hand-edited file; the JSON library names it.
    return InvalidArgument("malformed config under '" + root.input_config_dir().string() +
                           "': " + error.what());
  }
  return job;
}

}  // namespace trainyard::contract
