// JobDefinition: everything SageMaker writes into /opt/ml/input/config, as one value, and the
// reading and writing of those files (CONTRACT.md §1).
//
// The executors write these files before a job starts (as SageMaker does); trainyard-wrap reads
// them inside the job. Reading is lenient where SageMaker itself varies (an older image may see no
// trainingjobconfig.json); writing always produces every file.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/ml_root.h"
#include "core/hyperparameters.h"

namespace trainyard::contract {

struct ChannelConfig {
  std::string name;
  std::string content_type;  // empty: not set (the key is omitted, as SageMaker omits it)
  std::string input_mode = "File";
};

struct MetricDefinition {
  std::string name;
  std::string regex;  // the first capture group is the value
};

struct ResourceSettings {
  std::string current_host = "algo-1";
  std::vector<std::string> hosts = {"algo-1"};
  std::string instance_type = "local";
  int instance_count = 1;
  int volume_size_gb = 0;  // 0: not set
  std::string network_interface_name = "eth0";
};

struct JobDefinition {
  std::string job_name;
  core::HyperparameterMap hyperparameters;
  std::vector<ChannelConfig> channels;
  ResourceSettings resources;
  std::vector<MetricDefinition> metric_definitions;
  std::map<std::string, std::string> environment;  // CreateTrainingJob's Environment
  int64_t max_runtime_seconds = 86400;
  std::string training_image;  // empty for a plain command
  std::vector<std::string> container_entrypoint;
  std::vector<std::string> container_arguments;
};

// The instance group name SageMaker uses for a single-group cluster.
inline constexpr char kHomogeneousCluster[] = "homogeneousCluster";

// The JSON of resourceconfig.json and inputdataconfig.json, also exported as SM_RESOURCE_CONFIG
// and SM_INPUT_DATA_CONFIG.
nlohmann::json ResourceConfigJson(const ResourceSettings& resources);
nlohmann::json InputDataConfigJson(const std::vector<ChannelConfig>& channels);

// Creates the tree (config, data/<channel> for every channel, model, output/data, checkpoints,
// code) and writes every config file. Fails with the path it could not write.
Status WriteConfigFiles(const MlRoot& root, const JobDefinition& job);

// Reads the config files back. Missing optional files give defaults; a malformed file is
// InvalidArgument naming the file and the problem.
Result<JobDefinition> ReadConfigFiles(const MlRoot& root);

}  // namespace trainyard::contract
