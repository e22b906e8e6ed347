// RunOptions: what `trainyard run` was asked to do, after the command line was parsed.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "contract/job_definition.h"
#include "core/sweep.h"

namespace trainyard::app {

struct Objective {
  std::string metric;
  bool minimize = true;
};

struct RunOptions {
  std::string sweep_name;                                 // --name
  std::map<std::string, std::filesystem::path> channels;  // --channel and its shortcuts
  core::SweepSpec sweep;                                  // --hp, --param, --grid
  std::vector<std::string> command;                       // after --
  size_t parallel = 1;
  int64_t max_runtime_seconds = 86400;
  std::chrono::milliseconds stop_grace_period{120'000};
  std::map<std::string, std::string> environment;              // --env
  std::vector<contract::MetricDefinition> metric_definitions;  // --metric NAME=REGEX
  std::filesystem::path out_dir;
  bool overwrite = false;
  bool keep_job_roots = false;
  std::optional<Objective> objective;
  std::filesystem::path wrapper_path;
};

// "loss:min" / "accuracy:max"; a bare "loss" means min.
Result<Objective> ParseObjective(const std::string& text);

}  // namespace trainyard::app
