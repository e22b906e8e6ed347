#include "wrapper/options.h"

#include <charconv>
#include <string_view>

#include "core/sagemaker_limits.h"

namespace trainyard::wrapper {

const char kWrapperUsage[] = R"(Usage: trainyard-wrap [train] [OPTIONS] [--] [COMMAND [ARGS...]]

Runs an ML command inside a SageMaker-shaped training job: reads /opt/ml, unpacks archives in
the input channels, writes job.json, exports the SM_* environment, runs the command, copies its
output to output/data/training.log and reports progress to the trainyard server.

The command is the first of: COMMAND ARGS...; $TRAINYARD_COMMAND; the script named by the
hyperparameter sagemaker_program or $SAGEMAKER_PROGRAM, run from /opt/ml/code (.py with python3,
.sh with sh) with the hyperparameters as --key value arguments.

Options:
  --hyperparameters-as-args   pass the hyperparameters as --key value arguments to COMMAND too
  --no-unpack                 leave zip, tar and tar.gz files in every channel as they are
  --grace-period SECONDS      after SIGTERM, wait this long before SIGKILL (default 120)
  --progress-interval SECONDS read the progress file this often (default 5)
  -h, --help                  show this help

Environment:
  TRAINYARD_ML_ROOT           the tree to use instead of /opt/ml
  TRAINYARD_CALLBACK_URL      where to POST progress (with TRAINYARD_JOB_TOKEN as bearer token)
  TRAINYARD_KEEP_ARCHIVES     channels (comma-separated, or *) whose archives stay packed
  TRAINYARD_STAGING           a staging manifest (JSON): download the input and upload the
                              outputs through its presigned URLs (docs/slurm.md)
  TRAINYARD_STAGING_REMOVE_ROOT=1  remove TRAINYARD_ML_ROOT once the outputs are uploaded
  TRAINYARD_CHECKPOINT_STORE  a directory that keeps the checkpoint dir between the job's runs
                              (restored before COMMAND, stored while it runs and at its end;
                              docs/checkpoints.md)
  TRAINYARD_CHECKPOINT_RESTORE_FROM  a directory to restore from when the store holds none
  TRAINYARD_CHECKPOINT_INTERVAL_SECONDS  how often a changed checkpoint dir is stored (10)
  TRAINYARD_CHECKPOINT_URLS   {"get": URL, "put": URL, "restore_from": URL (optional)}: keep
                              the checkpoint dir behind these presigned URLs instead
  TRAINYARD_STOP_GRACE_SECONDS, TRAINYARD_PROGRESS_INTERVAL_SECONDS,
  TRAINYARD_UNPACK_MAX_BYTES, TRAINYARD_UNPACK_MAX_ENTRIES, TRAINYARD_HYPERPARAMETERS_AS_ARGS=1
  TRAINYARD_UNPACK_MAX_RATIO  bytes an archive may unpack to per byte of it, past 16 MiB (100;
                              0: no limit); archives also stop at the free space less 256 MiB
                              and at the job's VolumeSizeInGB

Exit status: the command's (128+N when killed by signal N); 2 when the job could not start.
)";

namespace {

Result<double> ParseSeconds(const std::string& text, const std::string& name) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    return InvalidArgument(name + ": '" + text + "' is not a number of seconds");
  }
  return value;
}

Result<uint64_t> ParseCount(const std::string& text, const std::string& name) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0) {
    return InvalidArgument(name + ": '" + text + "' is not a positive whole number");
  }
  return value;
}

std::chrono::milliseconds ToMilliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

Result<KeptArchives> ParseKeptArchives(const std::string& text) {
  KeptArchives kept;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view name = TrimSpaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name.empty()) continue;
    if (name == "*") {
      kept.every_channel = true;
      continue;
    }
    if (Status valid = core::ValidateChannelName(std::string(name)); !valid.ok()) {
      return InvalidArgument("TRAINYARD_KEEP_ARCHIVES (channel names separated by commas, or *): " +
                             valid.message());
    }
    kept.channels.emplace(name);
  }
  return kept;
}

Result<WrapperOptions> ParseWrapperOptions(const std::vector<std::string>& arguments,
                                           const std::map<std::string, std::string>& environment) {
  WrapperOptions options;
  auto env = [&](const char* key) -> const std::string* {
    auto it = environment.find(key);
    return it == environment.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (auto* v = env("TRAINYARD_ML_ROOT")) options.ml_root = *v;
  if (auto* v = env("TRAINYARD_COMMAND")) options.command_from_environment = *v;
  if (auto* v = env("SAGEMAKER_PROGRAM")) options.sagemaker_program = *v;
  if (auto* v = env("TRAINYARD_CALLBACK_URL")) options.callback_url = *v;
  // As libcurl reads them for an http:// URL (it ignores HTTP_PROXY in upper case).
  for (const char* proxy : {"http_proxy", "all_proxy", "ALL_PROXY"}) {
    if (env(proxy)) options.callback_through_proxy = true;
  }
  if (auto* v = env("TRAINYARD_JOB_TOKEN")) options.job_token = *v;
  if (auto* v = env("TRAINING_JOB_NAME")) options.job_name = *v;
  if (auto* v = env("TRAINYARD_STAGING")) {
    TY_ASSIGN_OR_RETURN(options.staging, ParseStagingManifest(*v));
  }
  if (auto* v = env("TRAINYARD_STAGING_REMOVE_ROOT")) {
    options.remove_root_after_staging = *v == "1" || *v == "true";
  }
  if (auto* v = env("TRAINYARD_CHECKPOINT_STORE")) options.checkpoint_store = *v;
  if (auto* v = env("TRAINYARD_CHECKPOINT_RESTORE_FROM")) options.checkpoint_restore_from = *v;
  if (auto* v = env("TRAINYARD_CHECKPOINT_URLS")) {
    TY_ASSIGN_OR_RETURN(options.checkpoint_urls,
                        ParseCheckpointUrls(*v, "TRAINYARD_CHECKPOINT_URLS"));
  }
  if (auto* v = env("TRAINYARD_CHECKPOINT_INTERVAL_SECONDS")) {
    TY_ASSIGN_OR_RETURN(double seconds, ParseSeconds(*v, "TRAINYARD_CHECKPOINT_INTERVAL_SECONDS"));
    options.checkpoint_interval = ToMilliseconds(seconds);
  }
  if (auto* v = env("TRAINYARD_HYPERPARAMETERS_AS_ARGS")) {
    options.hyperparameters_as_arguments = *v == "1" || *v == "true";
  }
  if (auto* v = env("TRAINYARD_STOP_GRACE_SECONDS")) {
    TY_ASSIGN_OR_RETURN(double seconds, ParseSeconds(*v, "TRAINYARD_STOP_GRACE_SECONDS"));
    options.grace_period = ToMilliseconds(seconds);
  }
  if (auto* v = env("TRAINYARD_PROGRESS_INTERVAL_SECONDS")) {
    TY_ASSIGN_OR_RETURN(double seconds, ParseSeconds(*v, "TRAINYARD_PROGRESS_INTERVAL_SECONDS"));
    options.progress_interval = ToMilliseconds(seconds);
  }
  if (auto* v = env("TRAINYARD_KEEP_ARCHIVES")) {
    TY_ASSIGN_OR_RETURN(options.kept_archives, ParseKeptArchives(*v));
  }
  if (auto* v = env("TRAINYARD_UNPACK_MAX_BYTES")) {
    TY_ASSIGN_OR_RETURN(options.unpack_limits.max_total_bytes,
                        ParseCount(*v, "TRAINYARD_UNPACK_MAX_BYTES"));
  }
  if (auto* v = env("TRAINYARD_UNPACK_MAX_RATIO")) {
    if (*v == "0") {
      options.unpack_limits.max_expansion_ratio = 0;
    } else {
      TY_ASSIGN_OR_RETURN(options.unpack_limits.max_expansion_ratio,
                          ParseCount(*v, "TRAINYARD_UNPACK_MAX_RATIO"));
    }
  }
  if (auto* v = env("TRAINYARD_UNPACK_MAX_ENTRIES")) {
    TY_ASSIGN_OR_RETURN(options.unpack_limits.max_entries,
                        ParseCount(*v, "TRAINYARD_UNPACK_MAX_ENTRIES"));
  }

  size_t i = 0;
  if (i < arguments.size() && arguments[i] == "train") ++i;  // SageMaker's `docker run IMAGE train`
  for (; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= arguments.size()) return InvalidArgument(argument + " needs a value");
      return arguments[++i];
    };
    if (argument == "--") {
      ++i;
      break;
    } else if (argument == "-h" || argument == "--help") {
      options.show_help = true;
    } else if (argument == "--hyperparameters-as-args") {
      options.hyperparameters_as_arguments = true;
    } else if (argument == "--no-unpack") {
      options.kept_archives.every_channel = true;
    } else if (argument == "--grace-period" || argument == "--progress-interval") {
      TY_ASSIGN_OR_RETURN(std::string text, value());
      TY_ASSIGN_OR_RETURN(double seconds, ParseSeconds(text, argument));
      (argument == "--grace-period" ? options.grace_period : options.progress_interval) =
          ToMilliseconds(seconds);
    } else if (argument.starts_with("-")) {
      return InvalidArgument("unknown option '" + argument + "' (see trainyard-wrap --help)");
    } else {
      break;
    }
  }
  options.command.assign(arguments.begin() + static_cast<std::ptrdiff_t>(i), arguments.end());
  if (options.progress_interval.count() < 10) {
    return InvalidArgument("the progress interval must be at least 0.01 seconds");
  }
  if (options.checkpoint_interval.count() < 10) {
    return InvalidArgument("TRAINYARD_CHECKPOINT_INTERVAL_SECONDS must be at least 0.01 seconds");
  }
  return options;
}

}  // namespace trainyard::wrapper
