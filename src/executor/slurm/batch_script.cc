#include "executor/slurm/batch_script.h"

#include <map>
#include <sstream>

#include "executor/slurm/slurm_options.h"

namespace trainyard::executor {
namespace fs = std::filesystem;

namespace {

// SageMaker's instance types: vCPUs, memory (GiB), GPUs.
struct InstanceShape {
  int cpus;
  int memory_gib;
  int gpus;
};

const std::map<std::string, InstanceShape>& InstanceShapes() {
  static const std::map<std::string, InstanceShape> shapes = {
      {"ml.m5.large", {2, 8, 0}},         {"ml.m5.xlarge", {4, 16, 0}},
      {"ml.m5.2xlarge", {8, 32, 0}},      {"ml.m5.4xlarge", {16, 64, 0}},
      {"ml.m5.12xlarge", {48, 192, 0}},   {"ml.m5.24xlarge", {96, 384, 0}},
      {"ml.c5.xlarge", {4, 8, 0}},        {"ml.c5.2xlarge", {8, 16, 0}},
      {"ml.c5.4xlarge", {16, 32, 0}},     {"ml.c5.9xlarge", {36, 72, 0}},
      {"ml.c5.18xlarge", {72, 144, 0}},   {"ml.g4dn.xlarge", {4, 16, 1}},
      {"ml.g4dn.2xlarge", {8, 32, 1}},    {"ml.g4dn.4xlarge", {16, 64, 1}},
      {"ml.g4dn.12xlarge", {48, 192, 4}}, {"ml.g5.xlarge", {4, 16, 1}},
      {"ml.g5.2xlarge", {8, 32, 1}},      {"ml.g5.4xlarge", {16, 64, 1}},
      {"ml.g5.12xlarge", {48, 192, 4}},   {"ml.g5.48xlarge", {192, 768, 8}},
      {"ml.p3.2xlarge", {8, 61, 1}},      {"ml.p3.8xlarge", {32, 244, 4}},
      {"ml.p3.16xlarge", {64, 488, 8}},   {"ml.p4d.24xlarge", {96, 1152, 8}},
      {"ml.p5.48xlarge", {192, 2048, 8}},
  };
  return shapes;
}

}  // namespace

Result<SlurmContainerRuntime> ParseSlurmContainerRuntime(const std::string& text,
                                                         const std::string& field) {
  if (text == "podman") return SlurmContainerRuntime::kPodman;
  if (text == "srun") return SlurmContainerRuntime::kSrun;
  return InvalidArgument(field + " '" + text + "': must be 'podman' or 'srun'");
}

Result<SlurmResources> ResourcesOf(const contract::ResourceSettings& resources) {
  if (resources.instance_count > 1) {
    return InvalidArgument("resources.instance_count " + std::to_string(resources.instance_count) +
                           ": the slurm executor runs a job on one node");
  }
  const std::string& type = resources.instance_type;
  if (type.empty() || type == "local") return SlurmResources{};
  auto shape = InstanceShapes().find(type);
  if (shape == InstanceShapes().end()) {
    return InvalidArgument("resources.instance_type '" + type +
                           "' is not known to the slurm executor (use 'local', or a SageMaker "
                           "type such as ml.m5.xlarge or ml.g5.xlarge; docs/slurm.md)");
  }
  return SlurmResources{shape->second.cpus, int64_t{shape->second.memory_gib} * 1024,
                        shape->second.gpus};
}

std::string SlurmJobComment(const JobSpec& spec) {
  return "trainyard job " + spec.definition.job_name +
         (spec.sweep_id.empty() ? "" : " sweep " + spec.sweep_id);
}

std::vector<std::string> SbatchOptions(const JobSpec& spec, const SlurmResources& resources,
                                       const SlurmSiteOptions& site, const fs::path& job_dir,
                                       const std::string& output_name) {
  const std::string& name = spec.definition.job_name;
  // Slurm's time limit is in whole minutes: the max runtime and the stop grace, rounded up, and
  // one minute more. The executor stops the job itself at its max runtime (SIGTERM, SIGKILL
  // after the grace); this is the cluster's own backstop, for when no executor follows the job.
  int64_t seconds = spec.definition.max_runtime_seconds +
                    std::chrono::ceil<std::chrono::seconds>(spec.stop_grace_period).count();
  int64_t minutes = (seconds + 59) / 60 + 1;
  std::vector<std::string> options = {
      "--job-name=" + name,
      "--comment=" + SlurmJobComment(spec),
      "--output=" + (job_dir / output_name).string(),
      "--chdir=" + job_dir.string(),
      "--time=" + std::to_string(minutes),
      "--nodes=1",
      "--ntasks=1",
  };
  if (!site.partition.empty()) options.push_back("--partition=" + site.partition);
  if (!site.account.empty()) options.push_back("--account=" + site.account);
  if (!site.qos.empty()) options.push_back("--qos=" + site.qos);
  if (resources.cpus > 0) options.push_back("--cpus-per-task=" + std::to_string(resources.cpus));
  if (resources.memory_mb > 0) options.push_back("--mem=" + std::to_string(resources.memory_mb));
  if (resources.gpus > 0) {
    options.push_back(site.gpu_option == "gpus" ? "--gpus=" + std::to_string(resources.gpus)
                                                : "--gres=gpu:" + std::to_string(resources.gpus));
  }
  options.insert(options.end(), site.extra_sbatch_arguments.begin(),
                 site.extra_sbatch_arguments.end());
  return options;
}

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

const std::vector<std::string>& SlurmJobVariables() {
  static const std::vector<std::string> names = {
      "SLURM_JOB_ID",         "SLURM_JOB_NAME",     "SLURM_JOB_NODELIST",  "SLURM_JOB_PARTITION",
      "SLURM_JOB_ACCOUNT",    "SLURM_CPUS_ON_NODE", "SLURM_JOB_GPUS",      "SLURM_RESTART_COUNT",
      "CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "ROCR_VISIBLE_DEVICES"};
  return names;
}

namespace {

// The rest of the `exec env -i` line: the environment, the variables passed by name, the wrapper
// and its command.
void AppendWrapperCall(std::ostringstream& script, const fs::path& wrapper,
                       const std::vector<std::string>& command,
                       const std::map<std::string, std::string>& environment,
                       const std::vector<std::string>& passed) {
  for (const auto& [name, value] : environment) {
    script << " \\\n  " << ShellQuote(name + "=" + value);
  }
  // Passed only when set: ${NAME+NAME=$NAME} expands to nothing for an unset variable.
  for (const std::string& name : passed) {
    script << " \\\n  ${" << name << "+\"" << name << "=$" << name << "\"}";
  }
  script << " \\\n  " << ShellQuote(wrapper.string());
  if (!command.empty()) {
    script << " --";
    for (const std::string& argument : command) script << " " << ShellQuote(argument);
  }
  script << "\n";
}

// The script's first lines.
void AppendHeader(std::ostringstream& script, const std::string& job_name) {
  script << "#!/bin/sh\n"
         << "# trainyard job " << job_name << ": written by trainyard's slurm executor.\n";
}

// Object-store staging: the job's root, a new directory of the node's own.
void AppendNodeRoot(std::ostringstream& script, const std::string& job_name) {
  script << "root=$(mktemp -d \"${TMPDIR:-/tmp}/trainyard-" << job_name << ".XXXXXX\") || exit 1\n";
}

// The launch claim, created exclusively with the Slurm job id (see BatchScript).
void AppendLaunchClaim(std::ostringstream& script, const std::string& job_name,
                       const fs::path& launch_claim) {
  script << "claim=" << ShellQuote(launch_claim.string())
         << "\n"
         // Exactly one of this job and a restarted server's recovery creates the claim.
         << "if ! (set -C; echo \"$SLURM_JOB_ID\" > \"$claim\") 2>/dev/null; then\n"
         << "  owner=\n"
         << "  read -r owner < \"$claim\" 2>/dev/null\n"
         << "  if [ \"$owner\" != \"$SLURM_JOB_ID\" ]; then\n"
         << "    echo \"trainyard: job " << job_name
         << " was fenced off after a restart (launch claim: '$owner'); nothing runs\" >&2\n"
         << "    exit 0\n"
         << "  fi\n"
         << "fi\n";
}

// `exec LAUNCHER /usr/bin/env -i`, each word of the launcher quoted.
void AppendExecEnv(std::ostringstream& script, const std::vector<std::string>& launcher) {
  script << "exec";
  for (const std::string& word : launcher) script << " " << ShellQuote(word);
  script << " /usr/bin/env -i";
}

}  // namespace

std::string BatchScript(const std::string& job_name, const fs::path& wrapper,
                        const std::vector<std::string>& command,
                        const std::map<std::string, std::string>& environment,
                        const std::vector<std::string>& passed, const fs::path& launch_claim,
                        const std::vector<std::string>& launcher) {
  std::ostringstream script;
  AppendHeader(script, job_name);
  if (launch_claim.empty()) {
    // Object-store staging: the wrapper downloads the input into a root of the node's own and
    // removes it once the outputs are uploaded (TRAINYARD_STAGING_REMOVE_ROOT).
    AppendNodeRoot(script, job_name);
    AppendExecEnv(script, launcher);
    script << " \\\n  \"TRAINYARD_ML_ROOT=$root\"";
  } else {
    AppendLaunchClaim(script, job_name, launch_claim);
    AppendExecEnv(script, launcher);
  }
  AppendWrapperCall(script, wrapper, command, environment, passed);
  return script.str();
}

std::string ContainerBatchScript(const std::string& job_name, const fs::path& launch_claim,
                                 const fs::path& root, const std::vector<std::string>& container) {
  std::ostringstream script;
  AppendHeader(script, job_name);
  const bool node_root = launch_claim.empty();
  if (node_root) {
    AppendNodeRoot(script, job_name);
    // podman's exit is the job's; the root goes once podman has ended. A stop's SIGTERM reaches
    // podman too (scancel --full), which hands it to the container: this shell only waits.
    script << "trap 'rm -rf \"$root\"' EXIT\n"
           << "trap : TERM INT\n";
  } else {
    AppendLaunchClaim(script, job_name, launch_claim);
    script << "root=" << ShellQuote(root.string()) << "\n";
    script << "exec";
  }
  const std::string volume_prefix = std::string(kScriptRoot) + ":";
  for (size_t i = 0; i < container.size(); ++i) {
    const std::string& word = container[i];
    script << (i == 0 ? (node_root ? "" : " ") : " \\\n  ");
    if (i > 0 && container[i - 1] == "--volume" && word.rfind(volume_prefix, 0) == 0) {
      script << "\"$root\"" << ShellQuote(word.substr(std::string(kScriptRoot).size()));
    } else {
      script << ShellQuote(word);
    }
  }
  script << "\n";
  if (node_root) script << "exit $?\n";
  return script.str();
}

}  // namespace trainyard::executor
