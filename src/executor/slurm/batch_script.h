// The batch job that runs one trainyard job on Slurm: its script (the launch claim, then
// trainyard-wrap over the job root with exactly the job's environment, or the job's image with
// podman or srun --container: docs/slurm.md, "Images") and its sbatch options
// (name, comment, output, time limit, partition, account, QoS, CPUs, memory, GPUs, extra).
//
// Pure functions; thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/job_definition.h"
#include "executor/executor.h"

namespace trainyard::executor {

// What a job asks of a node. 0: not asked (Slurm's defaults: one CPU, DefMemPerCPU, no GPU).
struct SlurmResources {
  int cpus = 0;
  int64_t memory_mb = 0;
  int gpus = 0;
  bool operator==(const SlurmResources&) const = default;
};

// The resources of a SageMaker instance type ("ml.g5.xlarge": 4 CPUs, 16 GiB, 1 GPU), so that a
// request written for SageMaker asks Slurm for the same machine; "local" and "" ask nothing.
// InvalidArgument naming the type for one this table does not know, and for more than one
// instance (a job is one node).
Result<SlurmResources> ResourcesOf(const contract::ResourceSettings& resources);

// The server's part of every job's sbatch options.
struct SlurmSiteOptions {
  std::string partition;  // --partition; empty: the cluster's default
  std::string account;    // --account; empty: the user's default
  std::string qos;        // --qos; empty: the account's default
  // Appended to every sbatch, after trainyard's own options (so they win): "--constraint=a100".
  std::vector<std::string> extra_sbatch_arguments;
  // How GPUs are asked for: "gres" (--gres=gpu:N, every Slurm) or "gpus" (--gpus=N, 19.05+).
  std::string gpu_option = "gres";
};

// The job's Slurm comment: "trainyard job <name>[ sweep <sweep id>]".
std::string SlurmJobComment(const JobSpec& spec);

// sbatch's options for the job, without --parsable, --export and the script. `job_dir` is the
// job's directory on the node, its working directory, where Slurm writes its output file
// `output_name` (%j: the Slurm job id).
std::vector<std::string> SbatchOptions(const JobSpec& spec, const SlurmResources& resources,
                                       const SlurmSiteOptions& site,
                                       const std::filesystem::path& job_dir,
                                       const std::string& output_name = "slurm-%j.out");

// The batch script. It first creates `launch_claim` exclusively with its Slurm job id (or finds
// its own id there: Slurm requeued it); a claim that holds anything else means that trainyard
// fenced the launch off after a restart, and the script exits without running anything. Then it
// execs `wrapper` (with `-- command` when there is one) under `env -i` with exactly
// `environment`, plus the variables `passed` by name from the job's own environment (the
// exported secrets, and what Slurm sets for the job: CUDA_VISIBLE_DEVICES, SLURM_JOB_ID, ...).
// An empty `launch_claim` is object-store staging (docs/slurm.md): no claim (the node cannot
// write where the server reads), and the job's root is a new directory in the node's $TMPDIR
// (else /tmp), given to the wrapper as TRAINYARD_ML_ROOT. `launcher` comes before `env -i`: a
// job's image through Slurm's OCI support is `srun --container=BUNDLE`, and `env -i` and the
// wrapper then run inside the container.
std::string BatchScript(const std::string& job_name, const std::filesystem::path& wrapper,
                        const std::vector<std::string>& command,
                        const std::map<std::string, std::string>& environment,
                        const std::vector<std::string>& passed,
                        const std::filesystem::path& launch_claim,
                        const std::vector<std::string>& launcher = {});

// Where trainyard-wrap lies in an image (docs/container.md: `COPY trainyard-wrap
// /usr/local/bin/`), for Slurm's `srun --container`, which runs no entrypoint of its own.
inline constexpr char kImageWrapperPath[] = "/usr/local/bin/trainyard-wrap";

// The job root as the batch script of a container names it, for the `--volume` of `container`
// below (ContainerLaunch::host_root): "$root:/opt/ml".
inline constexpr char kScriptRoot[] = "$root";

// The batch script of a job whose image runs with podman on the node: the launch claim as
// above, then `container` (NodeContainerRunArguments: podman run in the foreground, with
// exactly the container's environment and the variables passed by name, which podman copies
// from the job's), its job root mounted from `root`. An empty `launch_claim` is object-store
// staging: the root is a new directory in the node's $TMPDIR (else /tmp), mounted at /opt/ml,
// and removed once podman has ended (a stop's SIGTERM reaches podman, which hands it to the
// container; the script waits for it and exits with its exit code).
std::string ContainerBatchScript(const std::string& job_name,
                                 const std::filesystem::path& launch_claim,
                                 const std::filesystem::path& root,
                                 const std::vector<std::string>& container);

// `text` quoted for sh: 'it'\''s'.
std::string ShellQuote(const std::string& text);

// The variables Slurm sets in a job that its code may need (which GPUs, which node, its id).
const std::vector<std::string>& SlurmJobVariables();

}  // namespace trainyard::executor
