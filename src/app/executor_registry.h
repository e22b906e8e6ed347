// The executor registry: the one place that knows every executor by name and builds it from its
// options, as storage's OpenObjectStore does for object stores. `trainyard server` asks it for
// the executors its settings turn on, and for the one that runs the SageMaker-compatible
// endpoint's jobs; nothing else names a backend.
//
// It lives in app/ because it links every backend, the sagemaker executor's AWS clients
// included, which the executor module itself must not depend on.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "executor/container/container_options.h"
#include "executor/executor.h"
#include "executor/local/local_executor.h"
#include "executor/sagemaker/sagemaker_options.h"
#include "executor/slurm/slurm_commands.h"
#include "executor/slurm/slurm_options.h"
#include "executor/slurm/slurm_rest.h"

namespace trainyard::app {

// The slurm executor's options and how it reaches Slurm: its commands (with their environment),
// or slurmrestd (with the tokens' options; `rest.tokens` is made from them when opened).
struct SlurmSetup {
  executor::SlurmExecutorOptions executor;
  std::string transport = "commands";  // or "rest"
  executor::SlurmCommandsOptions commands;
  executor::SlurmRestOptions rest;
  executor::SlurmTokenOptions tokens;
  // With detach_jobs: follow every job recorded in the work dir when built. False where other
  // servers share the work dir and the metadata store: each server's scheduler adopts its own
  // jobs, and those it takes over, one by one (Executor::Adopt).
  bool adopt_at_start = true;
};

// The options of every executor; an executor whose options are absent is off.
struct ExecutorSettings {
  // The local executor, always on. With detach_jobs it adopts, when built, the jobs left
  // running in its work_dir (LocalExecutor::AdoptRunningJobs).
  executor::LocalExecutorOptions local;
  // The container executor: on when a runtime is configured (--container-runtime).
  std::optional<executor::ContainerExecutorOptions> container;
  // The sagemaker executor: on when a training role is configured (--sagemaker-role-arn).
  std::optional<executor::SageMakerExecutorOptions> sagemaker;
  // The slurm executor: on with --slurm or any --slurm-* setting (docs/slurm.md). With
  // detach_jobs it follows again, when built, the jobs recorded in its work_dir.
  std::optional<SlurmSetup> slurm;
};

// Every name OpenExecutor knows, sorted: "container", "local", "sagemaker", "slurm".
std::vector<std::string> KnownExecutors();

// Builds the executor registered as `name` from its options in `settings`. Errors:
// InvalidArgument naming the known executors for an unknown name; FailedPrecondition naming
// the setting that turns it on when its options are absent; the executor's own error
// otherwise (a runtime that cannot run containers, a malformed role ARN, ...).
Result<executor::ExecutorPtr> OpenExecutor(const std::string& name,
                                           const ExecutorSettings& settings);

// Every executor that `settings` turns on, by name, each built by OpenExecutor. The first
// error stops it (the executors built so far are destroyed).
Result<std::map<std::string, executor::ExecutorPtr>> OpenConfiguredExecutors(
    const ExecutorSettings& settings);

}  // namespace trainyard::app
