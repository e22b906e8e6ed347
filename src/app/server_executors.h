// The options of `trainyard server`'s executors, built from its settings: which executors are
// on and where each keeps its jobs under the data dir. The registry (executor_registry.h)
// builds the executors from them.
#pragma once

#include "app/executor_registry.h"
#include "app/server_options.h"
#include "common/environment.h"
#include "common/step_hook.h"

namespace trainyard::app {

// Local jobs detached in <data_dir>/jobs; container jobs in <data_dir>/container-jobs while
// container_runtime is set; SageMaker jobs' artifacts in <data_dir>/work (the scheduler's work
// dir) while sagemaker.role_arn is set; Slurm jobs' roots in slurm.work_dir (default
// <data_dir>/slurm-jobs, which the compute nodes must share) while slurm.enabled. `environment` is
// the server's own: the container runtime runs with it and the sagemaker executor finds its region,
// endpoints and credentials in it; local jobs' wrappers get only its JobHostEnvironment
// (common/environment.h: the allowlist plus options.job_env_passthrough), never the server's
// credentials. `on_step` reaches the local executor (tests/fault_injection_test.cc). NotFound when
// trainyard-wrap is not where options.wrapper_path (or the default, beside this binary) says.
// How `setup` reaches Slurm, as `settings` say: its commands, run with `environment` (the
// server's or the user's own: SLURM_CONF, PATH, munge's socket), or slurmrestd, as
// slurm_rest_user or one of slurm_allowed_users, with their tokens. `trainyard server` and
// `trainyard run` alike.
void SetSlurmTransport(const SlurmSettings& settings, const EnvironmentMap& environment,
                       SlurmSetup& setup);

Result<ExecutorSettings> ServerExecutorSettings(const ServerOptions& options,
                                                const EnvironmentMap& environment,
                                                StepHook on_step);

}  // namespace trainyard::app
