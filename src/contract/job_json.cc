#include "contract/job_json.h"

namespace trainyard::contract {
using nlohmann::json;

json BuildJobJson(const MlRoot& root, const JobDefinition& job,
                  const std::map<std::string, ChannelContents>& channels, const HostFacts& host) {
  json channel_entries = json::object();
  for (const ChannelConfig& channel : job.channels) {
    json entry = {{"dir", root.channel_dir(channel.name).string()},
                  {"files", json::array()},
                  {"input_mode", channel.input_mode}};
    if (!channel.content_type.empty()) entry["content_type"] = channel.content_type;
    if (auto it = channels.find(channel.name); it != channels.end()) {
      entry["files"] = it->second.files;
      if (!it->second.unpacked_archives.empty()) {
        entry["unpacked_archives"] = it->second.unpacked_archives;
      }
    }
    channel_entries[channel.name] = entry;
  }

  return {
      {"schema", kJobJsonSchema},
      {"job_name", job.job_name},
      {"hyperparameters", core::DecodeHyperparameters(job.hyperparameters)},
      {"hyperparameters_raw", job.hyperparameters},
      {"channels", channel_entries},
      {"model_dir", root.model_dir().string()},
      {"output_dir", root.output_data_dir().string()},
      {"checkpoint_dir", root.checkpoint_dir().string()},
      {"progress_file", root.progress_file().string()},
      {"failure_file", root.failure_file().string()},
      {"log_file", root.log_file().string()},
      {"ml_root", root.root().string()},
      {"resources",
       {{"current_host", job.resources.current_host},
        {"hosts", job.resources.hosts},
        {"instance_type", job.resources.instance_type},
        {"instance_count", job.resources.instance_count},
        {"num_gpus", host.num_gpus},
        {"num_cpus", host.num_cpus}}},
      {"max_runtime_seconds", job.max_runtime_seconds},
      {"environment", job.environment},
  };
}

}  // namespace trainyard::contract
