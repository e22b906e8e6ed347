// LocalExecutor with detach_jobs: starting wrappers that outlive us and following them by pid and
// start time (RecordedJobsExecutor records each job and adopts those an earlier executor left).
#include <signal.h>

#include <thread>

#include "common/files.h"
#include "common/log.h"
#include "executor/job_root.h"
#include "executor/local/local_executor.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using std::chrono::milliseconds;

Status LocalExecutor::StartDetached(Job& job) {
  std::vector<std::string> argv, environment;
  WrapperInvocation(job, &argv, &environment);
  {
    std::lock_guard lock(mutex_);
    if (job.stop_requested) return Cancelled("stopped before training started");
    // Under the lock, so that a Stop either comes before (and is seen above) or finds the pid.
    TY_ASSIGN_OR_RETURN(
        job.process, SpawnDetached(argv, environment, job.root.root().parent_path() / "console.log",
                                   job.launch_claim_file()));
    job.started_at = std::chrono::system_clock::now();
  }
  ReachStep(options_.on_step, "executor.launched", job.spec.definition.job_name);
  Persist(job, Durability::kDurable);
  return Status::Ok();
}

Status LocalExecutor::FollowDetached(Job& job) {
  ProcessIdentity process;
  {
    std::lock_guard lock(mutex_);
    process = job.process;
  }
  ProcessWaiter waiter(process);
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  bool killed = false;
  while (!waiter.WaitForExit(kDetachedPollInterval)) {
    if (shutting_down()) return Unavailable("the executor is shutting down");
    bool changed = false;
    {
      std::lock_guard lock(mutex_);
      if (MarkMaxRuntimeExceeded(job)) {
        // False (nothing sent) only when the wrapper has just ended: the loop sees it.
        SignalProcessGroup(process, SIGTERM);
        changed = true;
      }
      auto now = std::chrono::steady_clock::now();
      // The wrapper sends SIGKILL to the command after the grace period; it gets a margin more.
      if (job.stop_requested && !kill_at) {
        kill_at = now + job.spec.stop_grace_period + options_.wrapper_kill_margin;
      }
      if (kill_at && !killed && now >= *kill_at) {
        SignalProcessGroup(process, SIGKILL);  // false: it ended meanwhile, as wanted
        killed = true;
      }
    }
    if (changed) Persist(job);
  }
  int exit_code = ReadWrapperExitCode(job.root).value_or(kKilledExitCode);
  std::lock_guard lock(mutex_);
  job.exit_code = exit_code;
  return Status::Ok();
}

}  // namespace trainyard::executor
