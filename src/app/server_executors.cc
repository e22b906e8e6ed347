#include "app/server_executors.h"

#include <filesystem>

#include "app/ecr_token_source.h"
#include "app/server_sagemaker.h"
#include "common/files.h"
#include "common/log.h"

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

// A metadata store that several servers may share (metadata/postgres_metadata_store.h).
bool IsSharedMetadataUrl(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

fs::path WrapperBesideSelf() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  return self.parent_path() / "trainyard-wrap";
}

// skopeo from the server's PATH, run with the server's environment (its registries.conf and
// auth file, as its podman reads them), for the Slurm executor's image pins; a warning without.
void SetImageInspector(const EnvironmentMap& environment, executor::SlurmExecutorOptions& slurm) {
  auto path = environment.find("PATH");
  std::optional<fs::path> skopeo =
      FindExecutable("skopeo", path == environment.end() ? "/usr/bin:/bin" : path->second);
  if (!skopeo) {
    Logger("app").warn(
        "slurm: skopeo not found on PATH: a sweep's image runs by its tag, each node resolving "
        "it, not pinned to one digest (install skopeo, or set slurm_pin_images false)");
    return;
  }
  slurm.image_inspector = {.skopeo = *skopeo, .environment = environment};
}

}  // namespace

void SetSlurmTransport(const SlurmSettings& settings, const EnvironmentMap& environment,
                       SlurmSetup& setup) {
  // Slurm's commands run with this environment (SLURM_CONF, PATH, munge's socket); the jobs get
  // only the job environment and the variables exported by name.
  setup.commands.environment = environment;
  setup.commands.bin_dir = settings.bin_dir;
  // Or slurmrestd, as slurm_rest_user or an allowed user, with their tokens (docs/slurm.md,
  // "Transports").
  setup.transport = settings.transport;
  setup.rest.url = settings.rest_url;
  setup.rest.user = settings.rest_user;
  setup.rest.allowed_users = {settings.allowed_users.begin(), settings.allowed_users.end()};
  setup.rest.environment = environment;
  setup.tokens.token_file = settings.rest_token_file;
  setup.tokens.token_user = settings.rest_user;
  setup.tokens.jwt_key_file = settings.jwt_key_file;
  setup.tokens.lifespan = std::chrono::seconds(settings.jwt_lifespan_seconds);
}

Result<ExecutorSettings> ServerExecutorSettings(const ServerOptions& options,
                                                const EnvironmentMap& environment,
                                                StepHook on_step) {
  ExecutorSettings settings;
  executor::LocalExecutorOptions& local = settings.local;
  local.work_dir = options.data_dir / "jobs";
  local.wrapper_path = options.wrapper_path.empty() ? WrapperBesideSelf() : options.wrapper_path;
  // Built, not inherited: the allowlist and what the operator passes through, never the
  // server's credentials (docs/security.md).
  local.environment = JobHostEnvironment(environment, options.job_env_passthrough);
  local.progress_interval = options.progress_interval;
  local.detach_jobs = true;  // jobs outlive the server and are adopted again at its next start
  local.on_step = on_step;
  if (!fs::exists(local.wrapper_path)) {
    return NotFound("trainyard-wrap not found at '" + local.wrapper_path.string() +
                    "' (set --wrapper)");
  }
  if (!options.container_runtime.empty()) {
    executor::ContainerExecutorOptions container;
    container.runtime = options.container_runtime;
    // The runtime's own (XDG_RUNTIME_DIR, CONTAINERS_CONF, DOCKER_HOST, a registry's
    // credential helper...); containers get only the variables named on the runtime's command
    // line (ContainerRunArguments), none of these.
    container.runtime_environment = environment;
    container.work_dir = options.data_dir / "container-jobs";
    container.default_image = options.container_image;
    container.gpus = options.container_gpus;
    container.cpus = options.container_cpus;
    container.memory = options.container_memory;
    // Object-store staging: the job staging is set by the caller (it needs the object store or
    // the S3 endpoint).
    TY_ASSIGN_OR_RETURN(container.staging,
                        executor::ParseStagingMode(options.container_staging, "container_staging"));
    TY_ASSIGN_OR_RETURN(container.pull,
                        executor::ParsePullPolicy(options.container_pull, "container_pull"));
    container.auth_file = options.container_auth_file;
    container.ecr_registry = options.container_ecr_registry;
    // ECR-form images pulled as given get a token from ECR's GetAuthorizationToken, through the
    // AWS credentials chain, in a private auth file of the data dir with the user's entries.
    container.registry_credentials =
        std::make_shared<executor::RegistryCredentials>(executor::RegistryCredentialsOptions{
            .user_auth_file = options.container_auth_file,
            .directory = options.data_dir / "registry-auth",
            .ecr_tokens = std::make_shared<EcrTokenSource>(
                EcrTokenSourceOptionsFrom(options.container_ecr_endpoint_url, environment))});
    // One puller for this server's container executors (the SageMaker endpoint's is a copy of
    // these settings): an image is pulled once per host however many jobs need it.
    container.image_puller = std::make_shared<executor::ImagePuller>();
    container.progress_interval = options.progress_interval;
    container.detach_jobs = true;  // containers outlive the server, adopted again by label
    container.on_step = on_step;
    settings.container = std::move(container);
  }
  if (options.slurm.enabled) {
    SlurmSetup slurm;
    executor::SlurmExecutorOptions& executor = slurm.executor;
    // Shared with the compute nodes, which run trainyard-wrap over the job roots in it (in
    // object-store staging, the server's own: the job staging is set by the caller).
    executor.work_dir =
        options.slurm.work_dir.empty() ? options.data_dir / "slurm-jobs" : options.slurm.work_dir;
    executor.wrapper_path = local.wrapper_path;
    executor.job_environment = local.environment;
    executor.site = {.partition = options.slurm.partition,
                     .account = options.slurm.account,
                     .qos = options.slurm.qos,
                     .extra_sbatch_arguments = options.slurm.sbatch_args,
                     .gpu_option = options.slurm.gpu_option};
    TY_ASSIGN_OR_RETURN(executor.staging,
                        executor::ParseStagingMode(options.slurm.staging, "slurm_staging"));
    TY_ASSIGN_OR_RETURN(executor.container_runtime,
                        executor::ParseSlurmContainerRuntime(options.slurm.container_runtime,
                                                             "slurm_container_runtime"));
    executor.container_network = options.slurm.container_network;
    // podman on the node reads its own settings from these, as the server's podman does.
    for (const char* name : {"CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
                             "CONTAINERS_REGISTRIES_CONF", "REGISTRY_AUTH_FILE"}) {
      if (auto value = environment.find(name); value != environment.end()) {
        executor.container_runtime_environment[name] = value->second;
      }
    }
    if (options.slurm.pin_images &&
        executor.container_runtime == executor::SlurmContainerRuntime::kPodman) {
      SetImageInspector(environment, executor);
    }
    executor.staging_url_margin = std::chrono::seconds(options.slurm.staging_url_margin_seconds);
    executor.poll_interval = std::chrono::milliseconds(options.slurm.poll_interval_ms);
    executor.progress_interval = options.progress_interval;
    executor.detach_jobs = true;  // jobs live in Slurm and are followed again by their ids
    executor.on_step = on_step;
    // On a shared (PostgreSQL) metadata store, other servers may share the work dir and follow
    // some of its jobs: each scheduler adopts its own (docs/scale-out.md).
    slurm.adopt_at_start = !IsSharedMetadataUrl(options.metadata);
    SetSlurmTransport(options.slurm, environment, slurm);
    settings.slurm = std::move(slurm);
  }
  // SageMaker's jobs live in AWS: the scheduler's recovery finds them there again, and their
  // artifacts come down into the scheduler's work dir.
  if (!options.sagemaker.role_arn.empty()) {
    settings.sagemaker =
        SageMakerExecutorOptionsFrom(options.sagemaker, options.data_dir / "work", environment);
  }
  return settings;
}

}  // namespace trainyard::app
