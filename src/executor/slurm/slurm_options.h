// SlurmExecutorOptions: how the slurm executor runs jobs (where job roots live, which wrapper the
// nodes run, the site's sbatch options, how often Slurm is asked). Plain values, filled by
// `trainyard server` and `trainyard run` from their flags, and by tests.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "common/step_hook.h"
#include "executor/slurm/batch_script.h"

namespace trainyard::executor {

struct SlurmExecutorOptions {
  // Job roots go to <work_dir>/<job-name>/ml. Shared-directory mode: the server and every
  // compute node must see this directory at the same path (NFS, Lustre, ...).
  std::filesystem::path work_dir;
  // trainyard-wrap as the nodes see it (the same path on every node: shared, or installed).
  std::filesystem::path wrapper_path;
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
