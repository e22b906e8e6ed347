#include "executor/container/container_command.h"

#include <algorithm>
#include <cctype>

#include "executor/job_root.h"

namespace trainyard::executor {
namespace {

std::string Seconds(std::chrono::milliseconds duration) {
  return std::to_string(static_cast<double>(duration.count()) / 1000.0);
}

// How long after its max runtime and grace period a container with no executor left is killed.
constexpr int64_t kOrphanMarginSeconds = 60;

// The grace period plus the stop margin, in whole seconds rounded up.
int64_t StopSeconds(const ContainerExecutorOptions& options, std::chrono::milliseconds grace) {
  return ((grace + options.stop_margin).count() + 999) / 1000;
}

std::string RuntimePath(const ContainerExecutorOptions& options) {
  return options.runtime_path.empty() ? options.runtime : options.runtime_path.string();
}

// The callback URL the wrapper will use: the job's own variable wins over the executor's.
std::string CallbackUrl(const ContainerExecutorOptions& options, const JobSpec& spec) {
  for (const auto* environment :
       {&spec.secret_environment, &spec.definition.environment, &options.job_environment}) {
    auto it = environment->find("TRAINYARD_CALLBACK_URL");
    if (it != environment->end() && !it->second.empty()) return it->second;
  }
  return "";
}

}  // namespace

std::vector<std::filesystem::path> HostCheckpointStores(const ContainerExecutorOptions& options,
                                                        const JobSpec& spec) {
  std::vector<std::filesystem::path> stores;
  const std::filesystem::path root =
      CheckpointStoreRoot(std::filesystem::absolute(options.work_dir));
  if (spec.checkpoint.name.empty()) return stores;
  stores.push_back(root / spec.checkpoint.name);
  if (!spec.checkpoint.restore_from.empty() &&
      spec.checkpoint.restore_from != spec.checkpoint.name) {
    stores.push_back(root / spec.checkpoint.restore_from);
  }
  return stores;
}

std::string ContainerName(const ContainerExecutorOptions& options, const std::string& job_name) {
  return options.container_name_prefix + job_name;
}

std::string WorkDirLabel(const ContainerExecutorOptions& options) {
  return std::string(kWorkDirLabel) + "=" +
         std::filesystem::absolute(options.work_dir).lexically_normal().string();
}

bool IsLoopbackUrl(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t at = url.find('@', start);
  size_t end = url.find_first_of("/?#", start);
  if (at != std::string::npos && (end == std::string::npos || at < end)) start = at + 1;
  std::string host;
  if (start < url.size() && url[start] == '[') {
    size_t close = url.find(']', start);
    if (close == std::string::npos) return false;
    host = url.substr(start + 1, close - start - 1);
  } else {
    size_t stop = url.find_first_of(":/?#", start);
    host = url.substr(start, stop == std::string::npos ? std::string::npos : stop - start);
  }
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string ChooseNetwork(const ContainerExecutorOptions& options, const JobSpec& spec,
                          const std::string& staging_url) {
  if (!options.network.empty()) return options.network;
  std::string callback = CallbackUrl(options, spec);
  if (callback.empty() && staging_url.empty()) return "none";
  return IsLoopbackUrl(callback) || IsLoopbackUrl(staging_url) ? "host" : "";
}

std::map<std::string, std::string> ContainerEnvironment(const ContainerExecutorOptions& options,
                                                        const JobSpec& spec) {
  std::map<std::string, std::string> environment = options.job_environment;
  for (const auto& [key, value] : spec.definition.environment) environment[key] = value;
  for (const auto& [key, value] : spec.secret_environment) environment.erase(key);
  environment["TRAINING_JOB_NAME"] = spec.definition.job_name;
  environment["TRAINYARD_STOP_GRACE_SECONDS"] = Seconds(spec.stop_grace_period);
  environment["TRAINYARD_PROGRESS_INTERVAL_SECONDS"] = Seconds(options.progress_interval);
  return environment;
}

namespace {

// --stop-timeout for `stop` by hand too, and with podman --timeout: a container whose executor
// died (the server was killed) still ends a minute after its max runtime and grace period.
void AppendStopLimits(const ContainerExecutorOptions& options, const JobSpec& spec,
                      std::vector<std::string>& argv) {
  int64_t stop_seconds = StopSeconds(options, spec.stop_grace_period);
  argv.insert(argv.end(), {"--stop-timeout", std::to_string(stop_seconds)});
  if (options.runtime == "podman") {
    int64_t timeout = spec.definition.max_runtime_seconds + stop_seconds + kOrphanMarginSeconds;
    argv.insert(argv.end(), {"--timeout", std::to_string(timeout)});
  }
}

}  // namespace

std::vector<std::string> ContainerJobArguments(const ContainerExecutorOptions& options,
                                               const JobSpec& spec, const ContainerLaunch& launch) {
  const contract::JobDefinition& definition = spec.definition;
  std::vector<std::string> argv;
  if (std::string network = ChooseNetwork(options, spec, launch.staging_url); !network.empty()) {
    argv.insert(argv.end(), {"--network", network});
  }
  if (options.gpus) {
    if (options.runtime == "docker") {
      argv.insert(argv.end(), {"--gpus", "all"});
    } else {
      argv.insert(argv.end(), {"--device", "nvidia.com/gpu=all"});
    }
  }
  if (!options.cpus.empty()) argv.insert(argv.end(), {"--cpus", options.cpus});
  if (!options.memory.empty()) argv.insert(argv.end(), {"--memory", options.memory});
  if (!launch.host_root.empty()) {
    argv.insert(argv.end(), {"--volume", launch.host_root.string() + ":" + kContainerMlRoot});
  }
  const std::vector<std::filesystem::path>& stores = launch.checkpoint_stores;
  for (size_t i = 0; i < stores.size(); ++i) {
    // The job writes its own checkpoints; the one it restores from is another job's.
    argv.insert(argv.end(),
                {"--volume", stores[i].string() + ":" + kContainerCheckpointStores + "/" +
                                 stores[i].filename().string() + (i == 0 ? "" : ":ro")});
  }
  std::map<std::string, std::string> environment = ContainerEnvironment(options, spec);
  if (!stores.empty()) AddCheckpointVariables(spec, kContainerCheckpointStores, &environment);
  for (const auto& [key, value] : environment) {
    argv.insert(argv.end(), {"--env", key + "=" + value});
  }
  for (const auto& [key, value] : spec.secret_environment) argv.insert(argv.end(), {"--env", key});
  for (const std::string& name : launch.passed) argv.insert(argv.end(), {"--env", name});
  if (!definition.container_entrypoint.empty()) {
    argv.insert(argv.end(), {"--entrypoint", definition.container_entrypoint.front()});
  }
  argv.push_back(!launch.image.empty()               ? launch.image
                 : definition.training_image.empty() ? options.default_image
                                                     : definition.training_image);
  if (!definition.container_entrypoint.empty()) {
    argv.insert(argv.end(), definition.container_entrypoint.begin() + 1,
                definition.container_entrypoint.end());
  }
  if (!definition.container_arguments.empty()) {
    argv.insert(argv.end(), definition.container_arguments.begin(),
                definition.container_arguments.end());
  } else if (definition.container_entrypoint.empty()) {
    argv.push_back("train");  // SageMaker's `docker run IMAGE train`
    if (!spec.command.empty()) {
      argv.push_back("--");
      argv.insert(argv.end(), spec.command.begin(), spec.command.end());
    }
  }
  return argv;
}

std::vector<std::string> ContainerRunArguments(const ContainerExecutorOptions& options,
                                               const JobSpec& spec, const ContainerLaunch& launch) {
  const std::string& job_name = spec.definition.job_name;
  std::vector<std::string> argv = {RuntimePath(options),
                                   "run",
                                   "--detach",
                                   "--name",
                                   ContainerName(options, job_name),
                                   "--label",
                                   std::string(kJobLabel) + "=" + job_name,
                                   "--label",
                                   WorkDirLabel(options)};
  AppendStopLimits(options, spec, argv);
  // The executor has pulled the image (or found it) already: the runtime never pulls again.
  argv.insert(argv.end(), {"--pull", "never"});
  std::vector<std::string> job = ContainerJobArguments(options, spec, launch);
  argv.insert(argv.end(), job.begin(), job.end());
  return argv;
}

std::vector<std::string> ContainerRunArguments(const ContainerExecutorOptions& options,
                                               const JobSpec& spec,
                                               const std::filesystem::path& host_root,
                                               const std::string& image) {
  return ContainerRunArguments(
      options, spec,
      ContainerLaunch{.host_root = host_root,
                      .image = image,
                      .checkpoint_stores = HostCheckpointStores(options, spec)});
}

std::vector<std::string> NodeContainerRunArguments(const ContainerExecutorOptions& options,
                                                   const JobSpec& spec,
                                                   const ContainerLaunch& launch) {
  const std::string& job_name = spec.definition.job_name;
  std::vector<std::string> argv = {RuntimePath(options),
                                   "run",
                                   "--rm",
                                   "--replace",
                                   "--name",
                                   ContainerName(options, job_name),
                                   "--label",
                                   std::string(kJobLabel) + "=" + job_name};
  AppendStopLimits(options, spec, argv);
  std::vector<std::string> job = ContainerJobArguments(options, spec, launch);
  argv.insert(argv.end(), job.begin(), job.end());
  return argv;
}

std::vector<std::string> ContainerStopArguments(const ContainerExecutorOptions& options,
                                                const std::string& job_name,
                                                std::chrono::milliseconds grace_period) {
  int64_t seconds = StopSeconds(options, grace_period);
  return {RuntimePath(options), "stop", "-t", std::to_string(seconds),
          ContainerName(options, job_name)};
}

std::vector<std::string> ContainerLogsArguments(const ContainerExecutorOptions& options,
                                                const std::string& job_name) {
  return {RuntimePath(options), "logs", ContainerName(options, job_name)};
}

std::vector<std::string> ContainerRemoveArguments(const ContainerExecutorOptions& options,
                                                  const std::string& job_name) {
  return {RuntimePath(options), "rm", "-f", ContainerName(options, job_name)};
}

std::vector<std::string> ContainerInspectArguments(const ContainerExecutorOptions& options,
                                                   const std::string& job_name) {
  return {RuntimePath(options), "inspect", "--format",
          "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}", ContainerName(options, job_name)};
}

std::vector<std::string> ContainerListArguments(const ContainerExecutorOptions& options) {
  return {RuntimePath(options), "ps",        "--all", "--filter", "label=" + WorkDirLabel(options),
          "--format",           "{{.Names}}"};
}

std::vector<std::string> RuntimeCheckArguments(const ContainerExecutorOptions& options) {
  if (options.runtime == "docker") {
    return {RuntimePath(options), "version", "--format", "{{.Server.Version}}"};
  }
  return {RuntimePath(options), "info", "--format", "{{.Version.Version}}"};
}

}  // namespace trainyard::executor
