// ContainerExecutorOptions: how the container executor runs jobs (which runtime, which image by
// default, resources, network). Plain values, filled by `trainyard server` from its config and
// by tests; the defaults are documented beside each field.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/step_hook.h"
#include "executor/container/image_puller.h"
#include "executor/job_staging.h"

namespace trainyard::executor {

struct ContainerExecutorOptions {
  // "podman" or "docker": decides the runtime's flag dialect (GPUs) and its version check.
  std::string runtime = "podman";
  // The runtime binary; empty: `runtime` looked up in the PATH of `runtime_environment`.
  std::filesystem::path runtime_path;
  // The environment the runtime command itself runs with (PATH, HOME, XDG_RUNTIME_DIR,
  // CONTAINERS_CONF, DOCKER_HOST...), usually the server's own. Never passed into a job.
  std::map<std::string, std::string> runtime_environment;
  std::filesystem::path work_dir;  // job roots go to <work_dir>/<job-name>/ml
  // How a job's input reaches its container and its outputs come back (docs/container.md,
  // "Object-store staging"): kShared mounts the job root at /opt/ml; kObjectStore mounts
  // nothing of this machine, and the wrapper in the container downloads the input and uploads
  // the outputs through the presigned URLs that job_staging mints (required there).
  StagingMode staging = StagingMode::kShared;
  std::shared_ptr<JobStaging> job_staging;
  // Shared mode: where each job's checkpoint is kept between its runs. Set, in the object store
  // behind presigned URLs (TRAINYARD_CHECKPOINT_URLS), so that a retry that another server runs
  // restores it (docs/checkpoints.md); null, in <work_dir>/.checkpoints on this machine, mounted
  // into the container. (Object-store staging keeps it through job_staging.)
  std::shared_ptr<CheckpointPresigner> checkpoint_presigner;
  // Object-store staging: the URLs stay valid for the job's max runtime, its stop grace period
  // and this margin (its container starts at once: the image is present by then).
  std::chrono::seconds staging_url_margin{3600};
  // The image of a job whose definition names none (training_image); empty: such a job is
  // refused at Submit.
  std::string default_image;
  // Environment every job gets, below the job's own.
  std::map<std::string, std::string> job_environment;
  // Give every job all GPUs: `--gpus all` (docker) or `--device nvidia.com/gpu=all` (podman,
  // CDI; needs `nvidia-ctk cdi generate` on the host).
  bool gpus = false;
  std::string cpus;    // `--cpus`, e.g. "2" or "0.5"; empty: no limit
  std::string memory;  // `--memory`, e.g. "4g"; empty: no limit
  // `--network`; empty: chosen per job from its callback URL (see ChooseNetwork).
  std::string network;
  // When a job's image is pulled (image_puller.h), by the executor itself before the job's
  // `run` (which then gets `--pull never` and the image's id): kMissing, when it is not in the
  // store; kAlways, before every job; kNever, a missing image is refused (CheckTrainerImage)
  // and fails the job.
  PullPolicy pull = PullPolicy::kMissing;
  // The registries' credentials, in the runtime's format (podman's auth.json; docker's
  // config.json, whose directory becomes DOCKER_CONFIG); empty: the runtime's default. Given to
  // the runtime through its environment, never on a command line; never read into a log.
  std::filesystem::path auth_file;
  // The auth file of each pull (registry_credentials.h): the user's, or for an ECR-form image
  // pulled as given one with a token from ECR. Shared by the executors of one process, like the
  // puller, so that concurrent pulls ask for one token; null: `auth_file` for every pull.
  std::shared_ptr<RegistryCredentials> registry_credentials;
  // How long one pull may take before the jobs waiting for it fail.
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(30)};
  // Where images of the ECR form (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG, as a
  // SageMaker request names them) are pulled from instead: "HOST[:PORT]" (MapEcrReference);
  // empty: such a reference is pulled as given (from ECR, with a token: registry_credentials).
  std::string ecr_registry;
  // How long a sweep's image pin (<work_dir>/image-pins.json: the digest its jobs and retries
  // run) is kept after its last use; older ones are dropped when the executor starts, and a
  // retry after that resolves the sweep's tag again. Zero: pins are never dropped.
  std::chrono::hours image_pin_retention{24 * 30};
  // Shared by the executors of one process (the server's and its SageMaker endpoint's), so that
  // an image is pulled once per host; null: the executor makes its own.
  std::shared_ptr<ImagePuller> image_puller;
  // Containers are named this + the job's name. Tests give each run its own prefix, so that
  // test runs sharing a machine do not collide on names.
  std::string container_name_prefix = "trainyard-";
  bool keep_job_roots = false;  // keep each job's root after it ends (debugging)
  // Containers outlive the executor (`trainyard server`): its destructor leaves them running,
  // and AdoptRunningJobs() of the next executor on the same work_dir follows them again. False:
  // the destructor stops every container and waits for its job to end (tests, tools).
  bool detach_jobs = false;
  // Steps of a job, for the fault-injection tests (common/step_hook.h): "executor.recorded"
  // (its state first written), "executor.staged" (input copied), "executor.launched" (`run`
  // started, not yet recorded), "executor.packed" (artifacts packed, end not yet recorded).
  StepHook on_step;
  // How often the wrapper reads the progress file (it writes output/trainyard-state.json, which
  // Describe reads through the mount).
  std::chrono::milliseconds progress_interval{1'000};
  // `<runtime> stop -t` waits the job's grace period plus this before SIGKILL: the wrapper (pid
  // 1 in the container) kills the command at the grace period itself and needs a moment to
  // write its exit file.
  std::chrono::milliseconds stop_margin{5'000};
  // How long the version check at start may take.
  std::chrono::milliseconds check_timeout{30'000};
  // false: skip that check (for a caller that has just checked the same runtime, e.g. tests
  // making one executor per test); the version then reads "unchecked".
  bool check_runtime = true;
};

}  // namespace trainyard::executor
