// RunOptions: what `trainyard run` was asked to do, after the command line was parsed; RunFlags
// and BuildRunOptions: from the flags as typed to those options.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/server_options.h"
#include "common/log_options.h"
#include "common/status.h"
#include "contract/job_definition.h"
#include "core/objective.h"
#include "core/sweep.h"

namespace trainyard::app {

// The --slurm-* flags that `trainyard run` takes, declared and read as `trainyard server`'s
// (AddSlurmSettingFlags, SetSlurmSetting): the site's sbatch options and how Slurm is reached.
const std::set<std::string>& RunSlurmSettingKeys();

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
  std::optional<core::Objective> objective;  // --objective METRIC:min|max
  std::filesystem::path wrapper_path;
  std::string executor = "local";  // --executor: local or slurm
  // --executor slurm: each job one Slurm batch job over its job root in OUT/.work, which the
  // compute nodes must see at the same path (shared-directory staging, docs/slurm.md). Of
  // these, only the RunSlurmSettingKeys() are set.
  SlurmSettings slurm;
  // --log-level, --log-format: warn by default, so that the live display stays readable.
  LogOptions log{.level = "warn"};
};

// The flags of `trainyard run` as CLI11 leaves them, before they are read.
struct RunFlags {
  std::vector<std::string> channels, hyperparameters, params, environment, metrics;
  std::string train, eval, pretrained, config, grid_file, objective, out;
  std::string executor;  // empty: slurm when a --slurm-* flag is given, else local
  std::vector<std::pair<std::string, std::string>> slurm;  // (key, value) of each --slurm-* flag
  double stop_grace_seconds = 120;
};

// `options` (holding what CLI11 parsed straight into it) completed from `flags`: channels,
// --grid, --hp and --param (core::ParseSweepFlags, as `trainyard sweep create` reads them),
// --env, --metric, --objective (core::ParseObjective), the default name, --out and the
// wrapper's path. InvalidArgument naming the flag for what cannot be read; the error of reading
// the --grid file.
Result<RunOptions> BuildRunOptions(const RunFlags& flags, RunOptions options);

}  // namespace trainyard::app
