#include "app/run_options.h"

#include <cstdlib>
#include <ctime>

#include "common/files.h"
#include "contract/metric_pattern.h"
#include "core/sweep_parse.h"

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

std::string DefaultSweepName() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char name[32];
  std::strftime(name, sizeof name, "run-%Y%m%d-%H%M%S", &local);
  return name;
}

// trainyard-wrap is installed beside trainyard; PATH is the fallback.
fs::path DefaultWrapperPath() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error && fs::exists(self.parent_path() / "trainyard-wrap")) {
    return self.parent_path() / "trainyard-wrap";
  }
  const char* path = std::getenv("PATH");
  return FindExecutable("trainyard-wrap", path ? path : "")
      .value_or(self.parent_path() / "trainyard-wrap");
}

}  // namespace

const std::set<std::string>& RunSlurmSettingKeys() {
  static const std::set<std::string> keys = {"slurm_partition",
                                             "slurm_account",
                                             "slurm_qos",
                                             "slurm_sbatch_arg",
                                             "slurm_bin_dir",
                                             "slurm_transport",
                                             "slurm_rest_url",
                                             "slurm_rest_user",
                                             "slurm_rest_token_file",
                                             "slurm_jwt_key_file",
                                             "slurm_jwt_lifespan_seconds"};
  return keys;
}

Result<RunOptions> BuildRunOptions(const RunFlags& flags, RunOptions options) {
  for (const auto& [key, value] : flags.slurm) {
    TY_RETURN_IF_ERROR(SetSlurmSetting(options.slurm, key, value, FlagOfSetting(key)));
  }
  const bool slurm_flags = !flags.slurm.empty();
  options.executor = flags.executor.empty() ? (slurm_flags ? "slurm" : "local") : flags.executor;
  if (options.executor != "local" && options.executor != "slurm") {
    return InvalidArgument("--executor: '" + options.executor + "' is not local or slurm");
  }
  if (options.executor == "local" && slurm_flags) {
    return InvalidArgument("--slurm-* settings are for --executor slurm, not local");
  }
  auto add_channel = [&](const std::string& name, const std::string& path) -> Status {
    if (path.empty()) return Status::Ok();
    if (options.channels.count(name)) {
      return InvalidArgument("channel '" + name + "' is given twice");
    }
    options.channels[name] = path;
    return Status::Ok();
  };
  TY_RETURN_IF_ERROR(add_channel("training", flags.train));
  TY_RETURN_IF_ERROR(add_channel("evaluation", flags.eval));
  TY_RETURN_IF_ERROR(add_channel("pretrained", flags.pretrained));
  TY_RETURN_IF_ERROR(add_channel("config", flags.config));
  for (const std::string& text : flags.channels) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--channel"));
    TY_RETURN_IF_ERROR(add_channel(pair.first, pair.second));
  }

  if (!flags.grid_file.empty()) {
    if (!flags.params.empty()) {
      return InvalidArgument(
          "--grid and --param cannot be combined: put every parameter in the file");
    }
    auto text = ReadFile(flags.grid_file);
    if (!text.ok()) return text.status().WithContext("--grid");
    auto sweep = core::ParseSweepJsonText(*text);
    if (!sweep.ok()) return sweep.status().WithContext("--grid '" + flags.grid_file + "'");
    options.sweep = std::move(sweep).value();
  }
  TY_ASSIGN_OR_RETURN(core::SweepSpec flagged,
                      core::ParseSweepFlags(flags.hyperparameters, flags.params));
  for (auto& [key, value] : flagged.fixed) options.sweep.fixed[key] = std::move(value);
  for (auto& param : flagged.grid) options.sweep.grid.push_back(std::move(param));
  for (const std::string& text : flags.environment) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--env"));
    options.environment[pair.first] = pair.second;
  }
  for (const std::string& text : flags.metrics) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--metric"));
    // The wrapper matches with RE2: what it cannot compile is refused here, not in every job.
    TY_RETURN_IF_ERROR(
        contract::CheckMetricRegex("--metric '" + pair.first + "': regex", pair.second));
    options.metric_definitions.push_back({pair.first, pair.second});
  }
  if (!flags.objective.empty()) {
    TY_ASSIGN_OR_RETURN(core::Objective objective, core::ParseObjective(flags.objective));
    options.objective = objective;
  }
  options.stop_grace_period =
      std::chrono::milliseconds(static_cast<int64_t>(flags.stop_grace_seconds * 1000));
  if (options.sweep_name.empty()) options.sweep_name = DefaultSweepName();
  options.out_dir = flags.out.empty() ? fs::path("runs") / options.sweep_name : fs::path(flags.out);
  if (options.wrapper_path.empty()) options.wrapper_path = DefaultWrapperPath();
  TY_RETURN_IF_ERROR(CheckLogOptions({.level = options.log.level}).WithContext("--log-level"));
  TY_RETURN_IF_ERROR(CheckLogOptions({.format = options.log.format}).WithContext("--log-format"));
  return options;
}

}  // namespace trainyard::app
