// job.json v1: the one file the ML team's code reads (docs/job-json.md, schema in
// docs/schemas/job-v1.schema.json). A public contract: fields are only ever added in v1.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "contract/job_definition.h"
#include "contract/ml_root.h"

namespace trainyard::contract {

inline constexpr char kJobJsonSchema[] = "trainyard.job/v1";

// What a channel holds once the wrapper has unpacked its archives.
struct ChannelContents {
  std::vector<std::string> files;              // relative to the channel dir, sorted
  std::vector<std::string> unpacked_archives;  // archive names that were replaced by their contents
};

// Facts about the machine the job runs on, found by the wrapper.
struct HostFacts {
  int num_gpus = 0;
  int num_cpus = 1;
};

nlohmann::json BuildJobJson(const MlRoot& root, const JobDefinition& job,
                            const std::map<std::string, ChannelContents>& channels,
                            const HostFacts& host);

}  // namespace trainyard::contract
