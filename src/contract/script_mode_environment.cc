#include "contract/script_mode_environment.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace trainyard::contract {
using nlohmann::json;

namespace {

// The toolkit upper-cases the key and keeps dashes and dots as they are.
std::string EnvironmentKey(const std::string& key) {
  std::string upper = "SM_" + key;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return upper;
}

}  // namespace

std::map<std::string, std::string> BuildScriptModeEnvironment(const MlRoot& root,
                                                              const JobDefinition& job,
                                                              const HostFacts& host,
                                                              const std::string& user_entry_point) {
  // The toolkit splits hyperparameters: sagemaker_* keys are framework parameters, the rest
  // are the user's.
  json user_hyperparameters = json::object();
  json framework_parameters = json::object();
  for (const auto& [key, raw] : job.hyperparameters) {
    json decoded = core::DecodeHyperparameter(raw);
    if (core::IsSageMakerKey(key)) {
      framework_parameters[key] = decoded;
    } else {
      user_hyperparameters[key] = decoded;
    }
  }

  json channel_dirs = json::object();
  json channel_names = json::array();
  for (const ChannelConfig& channel : job.channels) {
    channel_dirs[channel.name] = root.channel_dir(channel.name).string();
    channel_names.push_back(channel.name);
  }
  std::sort(channel_names.begin(), channel_names.end());

  const ResourceSettings& resources = job.resources;
  json resource_config = ResourceConfigJson(resources);
  json instance_groups_dict = json::object();
  for (const json& group : resource_config["instance_groups"]) {
    instance_groups_dict[group["instance_group_name"].get<std::string>()] = group;
  }
  std::string module_name = user_entry_point;
  if (module_name.size() > 3 && module_name.ends_with(".py"))
    module_name.resize(module_name.size() - 3);

  // The properties both views share: the toolkit exports them one by one as SM_<NAME> and also
  // inside SM_TRAINING_ENV, its whole Environment object as one JSON document.
  json shared = {
      {"current_host", resources.current_host},
      {"current_instance_group", kHomogeneousCluster},
      {"current_instance_group_hosts", resources.hosts},
      {"current_instance_type", resources.instance_type},
      {"distribution_instance_groups", json::array()},
      {"framework_module", nullptr},
      {"hosts", resources.hosts},
      {"input_config_dir", root.input_config_dir().string()},
      {"input_data_config", InputDataConfigJson(job.channels)},
      {"input_dir", root.input_dir().string()},
      {"instance_groups", json::array({kHomogeneousCluster})},
      {"instance_groups_dict", instance_groups_dict},
      {"is_hetero", false},
      {"log_level", 20},
      {"model_dir", root.model_dir().string()},
      {"module_dir", root.code_dir().string()},
      {"module_name", module_name},
      {"network_interface_name", resources.network_interface_name},
      {"num_cpus", host.num_cpus},
      {"num_gpus", host.num_gpus},
      {"output_data_dir", root.output_data_dir().string()},
      {"output_dir", root.output_dir().string()},
      {"output_intermediate_dir", root.output_intermediate_dir().string()},
      {"resource_config", resource_config},
      {"user_entry_point", user_entry_point},
  };
  json training_env = shared;
  training_env.update({
      {"additional_framework_parameters", framework_parameters},
      {"channel_input_dirs", channel_dirs},
      {"distribution_hosts", json::array()},
      {"hyperparameters", user_hyperparameters},
      {"is_master", resources.current_host == resources.hosts.front()},
      {"job_name", job.job_name},
      {"master_hostname", resources.hosts.front()},
  });
  json values = shared;
  values.update({
      {"hps", user_hyperparameters},
      {"framework_params", framework_parameters},
      {"channels", channel_names},
      {"user_args", core::ToCommandLineArguments(job.hyperparameters)},
      {"training_env", training_env},
  });
  for (const auto& [name, dir] : channel_dirs.items()) values["channel_" + name] = dir;
  for (const auto& [key, value] : user_hyperparameters.items()) values["hp_" + key] = value;

  std::map<std::string, std::string> environment;
  for (const auto& [key, value] : values.items()) {
    environment[EnvironmentKey(key)] = core::ToEnvironmentValue(value);
  }
  environment["CURRENT_HOST"] = resources.current_host;
  environment["TRAINING_JOB_NAME"] = job.job_name;
  return environment;
}

}  // namespace trainyard::contract
