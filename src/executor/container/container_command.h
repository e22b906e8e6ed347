// The exact command lines the container executor hands to the runtime, built by pure functions
// so that tests can check them argument by argument (the argv is the behaviour here).
//
//   <runtime> run --detach --name trainyard-<job> --label trainyard.job=<job>
//       --label trainyard.work-dir=<work dir> --stop-timeout S [--timeout T (podman)]
//       --pull never --network <net> [GPU flag] [--cpus C] [--memory M]
//       --volume <job root>:/opt/ml [--volume <checkpoint store>:...] --env K=V...
//       --env SECRET... [--entrypoint E0] <image> ARGS
//
// Without a job root (object-store staging, container_options.h: `staging`) there is no
// --volume: the wrapper in the container fills the image's own /opt/ml through the URLs of its
// staging manifest (TRAINYARD_STAGING, passed by name like a secret) and sends the outputs back
// the same way, its checkpoint too, so the container sees nothing of the server's disk.
//
// The part from --network on (ContainerJobArguments) says what the job's container is, whoever
// starts it: the Slurm executor's batch script runs the same container in the foreground on a
// node (NodeContainerRunArguments), so that an image behaves there as it does here.
//
// Detached and without --rm: the container outlives the `run` (and the executor), and the
// executor removes it once it has recorded the job's end, so that a job whose container is
// absent never had one. The labels let an executor find its own containers again, and only
// its own: the work dir (absolute) tells two executors on one machine apart.
//
// S is the grace period plus the stop margin; T = max runtime + S + 60 s, a backstop that ends a
// container whose executor died (the executor itself stops it gracefully at the max runtime).
//
// `--pull never`: the executor has made the image present itself (image_puller.h: pulled once
// per host however many jobs need it, with errors a person can act on) and names it by its id,
// exactly the image it resolved for the job.
//
// ARGS follow SageMaker: ContainerArguments when given; otherwise `train`, then `-- COMMAND` when
// the job has a command (trainyard-wrap, the image's entrypoint, runs it). With a
// ContainerEntrypoint its first element is `--entrypoint` and the rest come before ARGS, which
// docker and podman both accept. Secret variables (the job token) appear by name only: the
// runtime copies their values from its own environment, so they never show in `ps`.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "executor/container/container_options.h"
#include "executor/executor.h"

namespace trainyard::executor {

// Where the job root is mounted inside the container.
inline constexpr char kContainerMlRoot[] = "/opt/ml";
// Where the job's checkpoint store (CheckpointStoreRoot(work_dir)/<name>) is mounted, and the
// one it restores from (read only), for trainyard-wrap's TRAINYARD_CHECKPOINT_* variables.
inline constexpr char kContainerCheckpointStores[] = "/opt/trainyard/checkpoint-stores";

// The checkpoint stores of `spec` on the host, each to be mounted at
// kContainerCheckpointStores/<name>: its own, then the one it restores from. Empty without a
// checkpoint.
std::vector<std::filesystem::path> HostCheckpointStores(const ContainerExecutorOptions& options,
                                                        const JobSpec& spec);

// options.container_name_prefix + the job name ("trainyard-<job>"): job names are already
// valid container names.
std::string ContainerName(const ContainerExecutorOptions& options, const std::string& job_name);

// The labels every container of the executor carries: "trainyard.job=<job>" and
// "trainyard.work-dir=<absolute work dir>" (kWorkDirLabel).
inline constexpr char kJobLabel[] = "trainyard.job";
inline constexpr char kWorkDirLabel[] = "trainyard.work-dir";
std::string WorkDirLabel(const ContainerExecutorOptions& options);

// Whether `url`'s host is loopback (localhost, 127.x.x.x, [::1]).
bool IsLoopbackUrl(const std::string& url);

// The network a job gets: options.network when set; otherwise "none" for a job without a
// callback URL or `staging_url` to reach, "host" when either is on loopback (the only way to
// reach a server that listens on 127.0.0.1 without slirp4netns or pasta), else "" (the runtime's
// default bridge).
std::string ChooseNetwork(const ContainerExecutorOptions& options, const JobSpec& spec,
                          const std::string& staging_url = "");

// The variables set in the container: options.job_environment, then the job's environment, then
// TRAINING_JOB_NAME, TRAINYARD_STOP_GRACE_SECONDS and TRAINYARD_PROGRESS_INTERVAL_SECONDS. The
// secrets are not included (see SecretNames), nor the checkpoint's (ContainerJobArguments).
std::map<std::string, std::string> ContainerEnvironment(const ContainerExecutorOptions& options,
                                                        const JobSpec& spec);

// What a job's container gets besides the job itself.
struct ContainerLaunch {
  // The job root (an absolute path), mounted at /opt/ml; empty: none (object-store staging).
  std::filesystem::path host_root;
  // What runs: the executor's resolved image id; empty: the job's training_image or the default
  // image, as given.
  std::string image;
  // Variables passed by name (`--env NAME`: the runtime copies them from its own environment,
  // and skips those it does not have), after the job's secrets: the staging manifest, Slurm's
  // job variables.
  std::vector<std::string> passed;
  // One URL of the job's staging manifest, or of its checkpoint kept behind URLs: the network
  // must reach its host (ChooseNetwork).
  std::string staging_url;
  // The job's checkpoint stores on the host (HostCheckpointStores), each mounted at
  // kContainerCheckpointStores/<name>, the first writable, the one it restores from read only,
  // and named by trainyard-wrap's TRAINYARD_CHECKPOINT_* variables. Empty: none (no checkpoint,
  // or object-store staging, whose manifest carries the checkpoint's URLs).
  std::vector<std::filesystem::path> checkpoint_stores;
};

// From --network on: the network, GPUs, CPUs and memory, the root's and the checkpoint stores'
// --volume, the environment (with the checkpoint variables), the secrets and `passed` by name,
// the entrypoint, the image and its arguments.
std::vector<std::string> ContainerJobArguments(const ContainerExecutorOptions& options,
                                               const JobSpec& spec, const ContainerLaunch& launch);

// `<runtime> run --detach ...`: the container executor's.
std::vector<std::string> ContainerRunArguments(const ContainerExecutorOptions& options,
                                               const JobSpec& spec, const ContainerLaunch& launch);
// The same with the job root mounted from `host_root` and its checkpoint stores
// (HostCheckpointStores): the shared mode.
std::vector<std::string> ContainerRunArguments(const ContainerExecutorOptions& options,
                                               const JobSpec& spec,
                                               const std::filesystem::path& host_root,
                                               const std::string& image = "");

// `podman run --rm --replace --name <name> --label trainyard.job=<job> --stop-timeout S
// --timeout T` then ContainerJobArguments: the job's container in the foreground, for a batch
// script on a Slurm node (podman only). --replace: a container of the same job left on the node
// (a requeued job whose first run was killed) is replaced rather than refused; the image is
// pulled by podman on the node when missing (its own default), with the node's credentials.
std::vector<std::string> NodeContainerRunArguments(const ContainerExecutorOptions& options,
                                                   const JobSpec& spec,
                                                   const ContainerLaunch& launch);

// `<runtime> stop -t <seconds> <name>`: the grace period plus the stop margin, rounded up.
std::vector<std::string> ContainerStopArguments(const ContainerExecutorOptions& options,
                                                const std::string& job_name,
                                                std::chrono::milliseconds grace_period);

// `<runtime> logs <name>`: what the container's processes wrote to stdout and stderr, which the
// executor makes the job's log when no trainyard-wrap inside wrote one.
std::vector<std::string> ContainerLogsArguments(const ContainerExecutorOptions& options,
                                                const std::string& job_name);

// `<runtime> rm -f <name>`: removes a job's container once its end is recorded, and is the last
// resort when a stop did not end it.
std::vector<std::string> ContainerRemoveArguments(const ContainerExecutorOptions& options,
                                                  const std::string& job_name);

// `<runtime> inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}' <name>`:
// where the job's container stands ("running 0 4242", "exited 3 0").
std::vector<std::string> ContainerInspectArguments(const ContainerExecutorOptions& options,
                                                   const std::string& job_name);

// `<runtime> ps --all --filter label=trainyard.work-dir=<work dir> --format {{.Names}}`: the
// names of every container this executor (its work dir) started, whatever their state.
std::vector<std::string> ContainerListArguments(const ContainerExecutorOptions& options);

// The version check at start: podman `info --format ...`, docker `version --format ...`; both
// need a working runtime (storage, OCI runtime, daemon), not just the client.
std::vector<std::string> RuntimeCheckArguments(const ContainerExecutorOptions& options);

}  // namespace trainyard::executor
