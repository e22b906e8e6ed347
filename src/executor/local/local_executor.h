// LocalExecutor: runs each job as a local process, `trainyard-wrap [-- COMMAND]`, over a job
// root laid out exactly as SageMaker lays out /opt/ml, then packs model/ and output/data/ into
// model.tar.gz and output.tar.gz as SageMaker does.
//
// One thread per running job follows it from Downloading to its end (RecordedJobsExecutor, which
// keeps the job table and the records); concurrency limits are the caller's (the sweep
// runner's). Thread-safe.
//
// With `detach_jobs`, a job's wrapper is not this process's child: it runs in its own session
// and outlives the executor. Each job's state is kept in <work_dir>/<job>/executor-state.json
// (rewritten atomically at its first record, its launch, a stop and its end), and
// AdoptRunningJobs() lets a new executor on the same work_dir follow those jobs again: see there.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/step_hook.h"
#include "executor/job_staging.h"
#include "executor/recorded_jobs.h"

namespace trainyard::executor {

struct LocalExecutorOptions {
  std::filesystem::path work_dir;      // job roots go to <work_dir>/<job-name>/ml
  std::filesystem::path wrapper_path;  // the trainyard-wrap binary
  // The environment every wrapper starts from, before the job's: the host variables jobs may
  // see, which the caller chooses (JobHostEnvironment, common/environment.h); never the
  // caller's whole environment, which holds its credentials.
  std::map<std::string, std::string> environment;
  bool keep_job_roots = false;  // keep each job's root after it ends (debugging)
  // Where each job's checkpoint is kept between its runs: set, in the object store behind the
  // URLs it mints (several servers share the store: a retry that another one runs restores it);
  // null, in <work_dir>/.checkpoints (CheckpointStoreRoot) on this machine.
  std::shared_ptr<CheckpointPresigner> checkpoint_presigner;
  // How often the wrapper reads the progress file. Shorter than the wrapper's 5 s default:
  // here the "report" is a local file that `trainyard run` shows live.
  std::chrono::milliseconds progress_interval{1'000};
  // How long after the grace period a wrapper that has not exited is killed outright.
  std::chrono::milliseconds wrapper_kill_margin{5'000};
  // Run each wrapper detached (own session, surviving us, followed by pid and start time)
  // and persist each job's state, so that jobs outlive this executor (`trainyard server`).
  // False: wrappers are children that the destructor stops (`trainyard run`).
  bool detach_jobs = false;
  // Steps of a job, for the fault-injection tests (common/step_hook.h): "executor.recorded"
  // (its state first written), "executor.staged" (input copied), "executor.launched" (wrapper
  // started, not yet recorded), "executor.packed" (artifacts packed, end not yet recorded).
  StepHook on_step;
};

class LocalExecutor : public RecordedJobsExecutor {
 public:
  explicit LocalExecutor(LocalExecutorOptions options);
  // Without detach_jobs: stops every running job and waits for them. With it: stops following
  // the jobs (within about 100 ms, longer only while a job's input is still being copied or its
  // artifacts packed) and leaves their wrappers running, for AdoptRunningJobs() of the next one.
  ~LocalExecutor() override;

  // Needs detach_jobs (FailedPrecondition otherwise). Reads every <work_dir>/*/executor-state.json
  // that this executor does not know yet, called once at start, before anyone asks Describe
  // (RecordedJobsExecutor::AdoptRecordedJobs):
  //  - a job whose wrapper still runs (same pid and start time) is followed again, with its
  //    transitions, stop request and max runtime (counted from its first start) restored;
  //  - a job whose wrapper ended meanwhile is finished from output/trainyard-exit.json (a
  //    wrapper that left none was killed: exit code 137);
  //    both then upload their artifacts and end Completed, Failed or Stopped as usual;
  //  - a job whose wrapper was not recorded as started is settled by its launch claim
  //    (detached_process.h: FenceLaunch): a launch that got past its claim is adopted as
  //    above; any other is fenced off and the job forgotten, with its directory, as is a job
  //    directory with no state at all: nothing of it ran, so Describe says NotFound and the
  //    caller may submit it again (RemembersJobsAcrossRestarts);
  //  - a job that had ended is known again as it ended (Describe reports it).
  // Unreadable state files are logged and left alone. Errors: the work_dir cannot be listed.
  Status AdoptRunningJobs();

  std::string name() const override { return "local"; }
  TrainerKind AcceptedTrainer() const override { return TrainerKind::kCommand; }

 private:
  struct LocalJob : Job {
    using Job::Job;
    pid_t pid = -1;  // the wrapper, while it runs as our child (without detach_jobs)
  };

  std::unique_ptr<Job> NewJob(JobSpec spec) const override;
  // Without detach_jobs, runs the wrapper as a child to its end (Follow has nothing left to do);
  // with it, starts the wrapper detached (Unavailable when the executor is being destroyed).
  Status Launch(Job& job) override;
  Status Follow(Job& job) override;
  Outcome Settle(Job& job) override;
  void SignalStop(Job& job) override;
  // The wrapper's argv and environment.
  void WrapperInvocation(const Job& job, std::vector<std::string>* argv,
                         std::vector<std::string>* environment) const;
  Status Train(LocalJob& job);
  Status StartDetached(Job& job);
  Status FollowDetached(Job& job);

  LocalExecutorOptions options_;
};

}  // namespace trainyard::executor
