// SlurmExecutorOptions: how the slurm executor runs jobs (where job roots live, which wrapper the
// nodes run, the site's sbatch options, how often Slurm is asked). Plain values, filled by
// `trainyard server` and `trainyard run` from their flags, and by tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/step_hook.h"
#include "executor/container/registry_digest.h"
#include "executor/job_staging.h"
#include "executor/slurm/batch_script.h"

namespace trainyard::executor {

// How a job with an image runs on the node (docs/slurm.md, "Images").
enum class SlurmContainerRuntime {
  kPodman,  // `podman run` in the batch script, as the container executor runs it
  kSrun,    // Slurm's OCI support: `srun --container=BUNDLE` (the image is a bundle's path)
};

// "podman" or "srun"; InvalidArgument naming `field` otherwise.
Result<SlurmContainerRuntime> ParseSlurmContainerRuntime(const std::string& text,
                                                         const std::string& field);

struct SlurmExecutorOptions {
  // Job roots go to <work_dir>/<job-name>/ml. Shared-directory mode: the server and every
  // compute node must see this directory at the same path (NFS, Lustre, ...). Object-store
  // mode: the server's own; each node lays the job's root out in its own /tmp.
  std::filesystem::path work_dir;
  // How a job's input and outputs reach the node and come back: kShared, the work dir is shared
  // with the nodes, which use the job roots in it; kObjectStore, through the object store and
  // presigned URLs, the nodes read nothing of it.
  StagingMode staging = StagingMode::kShared;
  // Object-store mode: stores each job's input and mints its URLs (required there).
  std::shared_ptr<JobStaging> job_staging;
  // The URLs stay valid for the job's max runtime, its stop grace period and this margin for
  // the time it waits in Slurm's queue (at most 7 days in all, SigV4's limit).
  std::chrono::seconds staging_url_margin{24 * 3600};
  // trainyard-wrap as the nodes see it (the same path on every node: shared, or installed).
  std::filesystem::path wrapper_path;
  // How a job that names an image runs it (a job without one runs its command under
  // wrapper_path). kPodman: the image's own entrypoint (trainyard-wrap) over the job root
  // mounted at /opt/ml, as the container executor runs it; kSrun: the image is an OCI bundle on
  // the nodes, run by `srun --container`, in which kImageWrapperPath runs over the job root at
  // its path on the node (the bundle must mount it).
  SlurmContainerRuntime container_runtime = SlurmContainerRuntime::kPodman;
  // podman's --network; empty: chosen per job (container_command.h: ChooseNetwork).
  std::string container_network = "host";
  // kPodman: a sweep's image (one named by its registry host, PinnableReference) is pinned to
  // the digest its registry serves when the sweep's first job is submitted, asked with this
  // skopeo, so that the sweep's jobs, requeues and retries run that one image on every node
  // (<work_dir>/image-pins.json; docs/slurm.md, "Images"). Empty skopeo path: every job runs the
  // reference as given, each node's podman resolving a tag itself.
  RegistryInspector image_inspector;
  std::chrono::hours image_pin_retention{24 * 30};  // as ContainerExecutorOptions' (0: forever)
  // podman's own settings (CONTAINERS_CONF, REGISTRY_AUTH_FILE...), exported to every job that
  // runs an image with podman, for podman on the node; never given into the container.
  std::map<std::string, std::string> container_runtime_environment;
  // The environment every job's wrapper starts from, before the job's own: the host variables
  // jobs may see (JobHostEnvironment), never the server's whole environment.
  std::map<std::string, std::string> job_environment;
  SlurmSiteOptions site;  // partition, account, QoS, extra sbatch arguments, GPU flag
  // How often Slurm is asked about the jobs (one `squeue` for all of them).
  std::chrono::milliseconds poll_interval{1'000};
  // How often the wrapper reads the progress file (output/trainyard-state.json, which Describe
  // reads through the shared directory).
  std::chrono::milliseconds progress_interval{1'000};
  // After a stop's SIGTERM, how long past the job's grace period before SIGKILL: the wrapper
  // kills its command at the grace period itself and needs a moment to write its exit file.
  std::chrono::milliseconds stop_margin{5'000};
  bool keep_job_roots = false;  // keep each job's root after it ends (debugging)
  // Jobs outlive the executor (`trainyard server`): its destructor leaves them in Slurm, and
  // AdoptRunningJobs() of the next executor on the same work_dir follows them again. False:
  // the destructor cancels every job and waits for its end (`trainyard run`, tests).
  bool detach_jobs = false;
  // Steps of a job, for the fault-injection tests (common/step_hook.h): "executor.recorded",
  // "executor.staged", "executor.launched" (sbatch returned, its id not yet recorded),
  // "executor.packed".
  StepHook on_step;
};

}  // namespace trainyard::executor
