// RecordedJobsExecutor: what the local and the container executor share around their jobs, so
// that each keeps only how its job's code is started, followed, stopped and its exit read.
//
// It keeps the table of jobs (Submit, Describe, Stop, the status listener), runs each job on a
// thread of its own through the same steps (Downloading: the job root laid out; Training: the
// executor's Launch and Follow; Uploading: the artifacts packed; the end), records each job in
// <work_dir>/<job>/executor-state.json (rewritten atomically; synced to disk at the launch and
// at the end) and, after a restart, adopts the jobs an earlier executor recorded there: a job
// whose launch was not recorded is settled by its launch claim (detached_process.h:
// FenceLaunch), fenced off and forgotten when its command never started, otherwise followed
// again; a job that had ended is known again as it ended. docs/architecture.md ("One job's way,
// and restarts") tells the whole story.
//
// Thread-safe. A derived executor's destructor must call ShutDownJobs() first: the job threads
// call its hooks.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/file_lock.h"
#include "common/files.h"
#include "common/step_hook.h"
#include "contract/ml_root.h"
#include "executor/detached_process.h"
#include "executor/executor.h"

namespace trainyard::executor {

// How a RecordedJobsExecutor keeps its jobs.
struct RecordedJobsOptions {
  std::filesystem::path work_dir;  // each job's root is <work_dir>/<job-name>/ml
  bool keep_job_roots = false;     // keep each job's root after it ends (debugging)
  // Write executor-state.json. False: the jobs live in memory only.
  bool record_jobs = true;
  // The jobs outlive the executor (needs record_jobs): ShutDownJobs leaves them running, and
  // AdoptRecordedJobs lets the next executor on the same work_dir follow them again. False:
  // ShutDownJobs stops every job and waits for it.
  bool detach_jobs = false;
  // Also record the transitions between the first record and the launch, and Uploading; else
  // only the first record, the launch, a stop and the end are written (the steps between are
  // redone after a restart anyway).
  bool record_every_transition = false;
  // The state file's field names for the launched process's pid and start time.
  std::string process_field = "pid";
  // The environment variable, set to the job root, by which a recovery tells the launched
  // process apart from a reused pid (IdentifyByEnvironment).
  std::string launch_marker_variable = "TRAINYARD_ML_ROOT";
  // The job's steps, for the fault-injection tests (common/step_hook.h): "executor.recorded",
  // "executor.staged", "executor.launched" (by the derived executor), "executor.packed".
  StepHook on_step;
};

class RecordedJobsExecutor : public Executor {
 public:
  // One job. Fields are guarded by the executor's mutex_ except `spec`, `root` (fixed once made)
  // and `thread`. An executor that needs more per job derives from it (NewJob).
  struct Job {
    Job(JobSpec job_spec, const std::filesystem::path& work_dir);
    virtual ~Job() = default;

    const std::string& name() const { return spec.definition.job_name; }
    std::filesystem::path job_dir() const { return root.root().parent_path(); }
    std::filesystem::path state_file() const;
    // Created by the launched process just before it execs, or by a recovery that fences the
    // launch off (detached_process.h): whoever creates it decides whether the command ran.
    std::filesystem::path launch_claim_file() const { return job_dir() / "launch-claim"; }
    // When the max runtime is reached, counted from the launch; nullopt before it.
    std::optional<TimePoint> runtime_deadline() const;

    JobSpec spec;
    contract::MlRoot root;
    core::JobStatusTracker status;
    bool stop_requested = false;
    bool max_runtime_exceeded = false;
    std::optional<int> exit_code;
    nlohmann::json final_progress;  // what the wrapper reported last, kept after the root goes
    std::map<std::string, double> final_metrics;
    // The image the job runs, once the derived executor resolved it (JobDescription's fields of
    // the same names); recorded with the job, so that a restart still knows what ran.
    std::string image;
    std::string image_digest;
    std::thread thread;
    // The detached process launched for the job (the local wrapper, the container's `run`),
    // once started; recorded as `process_field`.
    ProcessIdentity process;
    std::optional<TimePoint> started_at;  // when it was launched: max runtime counts from here
    bool adopted = false;                 // taken over from an earlier executor
    std::mutex persist_mutex;             // orders the writes of executor-state.json
  };

  Status Submit(const JobSpec& spec) override;
  Result<JobDescription> Describe(const std::string& job_name) override;
  // Marks the job Stopping, records it and tells the listener; the derived executor's
  // SignalStop (under the lock) or its Follow acts on it.
  Status Stop(const std::string& job_name) override;
  bool RemembersJobsAcrossRestarts() const override { return options_.detach_jobs; }

 protected:
  // How a job's code ended, from the derived executor's Settle.
  struct Outcome {
    int exit_code = -1;
    // Set when the backend itself could not run the job (none of its code ran): the job fails
    // with this as its FailureReason, and no Uploading is recorded.
    std::string launch_failure;
    // Set when the backend knows better than the exit code why the job's code failed (out of
    // memory, a lost node): the job fails with this as its FailureReason, whatever its exit code.
    std::string failure_reason;
  };

  explicit RecordedJobsExecutor(RecordedJobsOptions options);

  // Needs detach_jobs (FailedPrecondition otherwise). Reads every <work_dir>/*/executor-state.json
  // this executor does not know yet: see the header comment. Unreadable state files, and launch
  // claims that cannot be settled, are logged and left alone. Returns the names of the jobs
  // whose backend resources must be kept: those known before, those adopted as running and
  // those left alone (by their directory's name). Errors: the work_dir cannot be listed.
  Result<std::set<std::string>> AdoptRecordedJobs();
  // AdoptRecordedJobs for one job (<work_dir>/<job_name>), its artifacts going to
  // `artifact_dir`: OK when it is followed now (or known already), NotFound when nothing is
  // recorded for it or its launch never happened (forgotten, as AdoptRecordedJobs does).
  Status AdoptRecordedJob(const std::string& job_name, const std::filesystem::path& artifact_dir);

  // With detach_jobs, stops following the jobs and leaves them running for the next executor
  // (within about 100 ms, longer only while a job's input is being copied or its artifacts
  // packed); without, stops every job and waits for it. The derived destructor's first call.
  void ShutDownJobs();

  // The derived executor's part of a job, each called on the job's thread.
  virtual std::unique_ptr<Job> NewJob(JobSpec spec) const;
  // Whether the job's code starts as Launch returns, so that the job is marked Downloading
  // (before its root is laid out) and Training (before Launch). False for a backend that queues
  // the job (a batch scheduler): the job stays Starting through Launch, and Follow marks
  // Downloading and Training once the backend starts it.
  virtual bool StartsAtLaunch() const { return true; }
  // After a restart, for a job recorded as not ended: whether its code may have run, settling
  // a launch that was not recorded. True: it is followed again (Follow); false: it never ran
  // and never will, and is forgotten with its directory. An error leaves it alone (logged).
  // Called on the adopting thread, before the job is in the table. The default: a job with a
  // recorded process is followed; one without is settled by its launch claim (FenceLaunch).
  virtual Result<bool> RecoverLaunch(Job& job);
  // Starts the job's code. Must check job.stop_requested under mutex_ (Cancelled) and, once the
  // process is recorded in the job, reach "executor.launched" and Persist durably.
  virtual Status Launch(Job& job) = 0;
  // Follows the launched job to its end (stop requests, the max runtime: MarkMaxRuntimeExceeded).
  // Unavailable once shutting_down().
  virtual Status Follow(Job& job) = 0;
  // After Follow (whatever its result), before the executor's shutdown is checked.
  virtual void AfterFollow(Job& /*job*/) {}
  // How the job's code ended, once Follow succeeded.
  virtual Outcome Settle(Job& job) = 0;
  // Before the artifacts are packed, when the job's code ran (Settle gave no launch failure).
  virtual void BeforePack(Job& /*job*/) {}
  // After the end is recorded, before the job root is removed.
  virtual void AfterEnd(Job& /*job*/) {}
  // Under mutex_, when Stop marked the job Stopping.
  virtual void SignalStop(Job& /*job*/) {}

  // Applies the transition, records it (record_every_transition) and tells the listener.
  // Unavailable while shutting down; Cancelled for a stopped job (unless it is its end).
  Status Transition(Job& job, core::SecondaryStatus next, const std::string& message = "");
  // Replaces the message of the job's current status (core::JobStatusTracker::SetStatusMessage),
  // records it (record_every_transition) and tells the listener. Unavailable while shutting
  // down; Cancelled for a stopped job.
  Status SetStatusMessage(Job& job, const std::string& message);
  // Under mutex_: at the job's max runtime, marks it Stopping (MaxRuntimeExceeded at its end);
  // true when it did so now, and the caller signals the job, then Persists and notifies.
  bool MarkMaxRuntimeExceeded(Job& job);
  // Writes the job's executor-state.json (no-op without record_jobs). Call without mutex_.
  // Atomic always (a kill never leaves a torn state); synced to disk (`Durability::kDurable`)
  // for the records a power cut must not lose: the launch and the end.
  void Persist(Job& job, Durability durability = Durability::kAtomicOnly);
  bool shutting_down() const { return shutting_down_; }
  const RecordedJobsOptions& recorded_jobs_options() const { return options_; }

  std::mutex mutex_;

 private:
  void RunJob(Job& job);
  // With detach_jobs: the lock on <job dir>/end.lock, held while the job's end is made (its
  // exit read, its artifacts packed, its end recorded), so that two executors following one job
  // (a server that took it over, and one whose lease on it expired) never end it together.
  // Waits while another process holds it; Unavailable once shutting down.
  Result<FileLock> LockJobEnd(Job& job);
  // Under that lock: when the job's record shows an end that another executor recorded, takes
  // it (status, exit code, final progress and metrics; its artifacts are packed already) and
  // returns true.
  bool TakeEndRecordedElsewhere(Job& job);
  void Finish(Job& job, const Outcome& outcome);
  Result<std::unique_ptr<Job>> LoadJob(const std::filesystem::path& state_file);

  RecordedJobsOptions options_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  // Jobs whose thread has returned; joined at the next Submit so that a long sweep does not
  // keep thousands of finished threads (and their stacks) around.
  std::vector<Job*> finished_threads_;
  // Set by ShutDownJobs with detach_jobs: job threads return without ending their jobs.
  std::atomic<bool> shutting_down_{false};
};

}  // namespace trainyard::executor
