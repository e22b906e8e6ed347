// ContainerExecutor: runs each job as SageMaker does, `<runtime> run <image> train` over a job
// root mounted at /opt/ml, with podman or docker. The root is laid out and the artifacts packed
// exactly as by the local executor (executor/job_root.h); inside the container the image's
// entrypoint, trainyard-wrap, runs the command and writes the same state files, which Describe
// reads through the mount. The exact command lines are in container_command.h.
//
// Stop is `<runtime> stop -t <grace + margin>`; the max runtime is enforced here, as by the
// local executor. The exit code is the wrapper's (output/trainyard-exit.json), or the runtime's
// when the image has no wrapper; a runtime that could not start the container (exit 125 and no
// exit file) fails the job with a ClientError quoting the runtime's message.
//
// One thread per running job. Containers run detached (`run --detach`, labelled with the job
// and the executor's work dir) and are followed by the pid of their first process; each job's
// state is kept in <work_dir>/<job>/executor-state.json (rewritten atomically at every
// transition, synced to disk at the launch and at the end), and the container is removed once
// the job's end is recorded. With `detach_jobs` the containers outlive the executor, and
// AdoptRunningJobs() lets a new executor on the same work_dir follow them again; without it the
// destructor stops every running container and waits. Thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"
#include "contract/ml_root.h"
#include "executor/container/container_options.h"
#include "executor/executor.h"
#include "executor/local/detached_process.h"

namespace trainyard::executor {

class ContainerExecutor : public Executor {
 public:
  // Finds the runtime (options.runtime_path, or options.runtime on the runtime environment's
  // PATH) and checks that it can run containers (`podman info`, `docker version`).
  // InvalidArgument for an unknown runtime name; NotFound when the binary is missing;
  // FailedPrecondition with the runtime's own message when it cannot run containers.
  static Result<std::unique_ptr<ContainerExecutor>> Create(ContainerExecutorOptions options);

  // Without detach_jobs: stops every running container and waits for its job to end. With it:
  // stops following the jobs (within about 100 ms, longer only while a job's input is being
  // copied or its artifacts packed) and leaves their containers running, for
  // AdoptRunningJobs() of the next executor.
  ~ContainerExecutor() override;

  // Needs detach_jobs (FailedPrecondition otherwise). Called once at start, before anyone asks
  // Describe: reads every <work_dir>/*/executor-state.json that this executor does not know yet
  // and lists the containers labelled with this work dir (no other executor's):
  //  - a job whose container runs is followed again, with its transitions, stop request and max
  //    runtime (counted from its first start) restored;
  //  - a job whose container exited meanwhile is finished from the wrapper's exit file (else the
  //    container's exit code); both then pack their artifacts and end as usual, and their
  //    container is removed;
  //  - a job whose `run` was not recorded as started is settled by its launch claim
  //    (detached_process.h: FenceLaunch): a `run` that got past its claim is waited for and its
  //    container adopted as above; any other is fenced off (it never creates a container) and
  //    the job forgotten with its directory, as is a job directory with no state: none of its
  //    code ran, so Describe says NotFound and the caller may submit it again;
  //  - a job that had ended is known again as it ended; its container, if still there, and its
  //    root are removed, as is any container of this work dir that belongs to no job.
  // Unreadable state files are logged and left alone. Errors: the work_dir cannot be listed, or
  // the runtime cannot list its containers.
  Status AdoptRunningJobs();

  std::string name() const override { return "container"; }
  TrainerKind AcceptedTrainer() const override { return TrainerKind::kImage; }
  bool RunsImageItself() const override { return true; }
  // The runtime's version, as the check at start printed it ("4.3.1").
  const std::string& runtime_version() const { return runtime_version_; }

  // Also InvalidArgument when the job names no image and there is no default image.
  Status Submit(const JobSpec& spec) override;
  Result<JobDescription> Describe(const std::string& job_name) override;
  Status Stop(const std::string& job_name) override;
  bool RemembersJobsAcrossRestarts() const override { return options_.detach_jobs; }

 private:
  struct Job {
    Job(JobSpec job_spec, const std::filesystem::path& work_dir);
    JobSpec spec;
    contract::MlRoot root;
    core::JobStatusTracker status;
    bool stop_requested = false;
    bool max_runtime_exceeded = false;
    std::optional<int> exit_code;
    nlohmann::json final_progress;
    std::map<std::string, double> final_metrics;
    std::thread thread;
    // The `run --detach` process, once started (its pid is recorded before the container can
    // be followed): a job is followed once it has ended.
    ProcessIdentity launch;
    std::optional<TimePoint> started_at;  // when the `run` started: max runtime counts from here
    bool adopted = false;                 // taken over from an earlier executor
    std::mutex persist_mutex;             // orders the writes of executor-state.json
    // `<runtime> logs --follow` into the job's log while the container runs, for an image run
    // without trainyard-wrap (RunsWithoutWrapper); -1 when none. Only the job's thread uses it.
    pid_t log_follower = -1;

    std::filesystem::path job_dir() const { return root.root().parent_path(); }
    std::filesystem::path state_file() const;
    // Created by the `run` process just before it execs, or by a recovery that fences the launch
    // off (detached_process.h): whoever creates it decides whether the container is created.
    std::filesystem::path launch_claim_file() const { return job_dir() / "launch-claim"; }
  };

  // Where a job's container stands, from `<runtime> inspect`.
  struct ContainerState {
    bool exists = false;
    std::string status;  // "running", "exited", "created", ...
    int exit_code = 0;
    pid_t pid = 0;  // its first process, while it runs
  };

  ContainerExecutor(ContainerExecutorOptions options, std::string version);
  void RunJob(Job& job);
  Status Transition(Job& job, core::SecondaryStatus next, const std::string& message = "");
  // Starts `<runtime> run --detach` past the job's launch claim. Unavailable while the executor
  // is being destroyed; Cancelled when the job was stopped first.
  Status Launch(Job& job);
  // Waits for the `run` to end, then follows the container to its end: stop requests, the max
  // runtime. `*runtime_error` is the runtime's message when it created no container or could
  // not start it (no job code ran). Unavailable when the executor is being destroyed.
  Status FollowContainer(Job& job, int* exit_code, std::string* runtime_error);
  // Inspect, retried twice; a container that is not there reads as !exists.
  Result<ContainerState> InspectContainer(const Job& job);
  // For a job run without trainyard-wrap, starts following the container's output into the
  // job's log, so that it can be read while the job runs. Logs what it could not start.
  void StartFollowingOutput(Job& job);
  // Ends the follower (it ends by itself with the container; a few seconds' grace).
  void StopFollowingOutput(Job& job);
  // When no trainyard-wrap in the image wrote the job's log (no exit file, no log), or the job
  // runs without it, makes the container's whole stdout and stderr (`<runtime> logs`) the log
  // (replacing what the follower wrote, which a restart may have cut short), as SageMaker does
  // with whatever runs in the image. Logs what it could not copy.
  void CopyContainerOutputToLog(const Job& job);
  // `<runtime> rm -f` of the job's container; logs a failure other than its absence.
  void RemoveContainer(const std::string& job_name);
  void Finish(Job& job, int exit_code, const std::string& runtime_error);
  std::vector<std::string> RuntimeEnvironment(const JobSpec& spec) const;
  std::filesystem::path ConsoleFile(const Job& job) const;
  // Writes the job's executor-state.json. Call without mutex_. Atomic always; synced to disk
  // (`Durability::kDurable`) for the launch and the end, which a power cut must not lose.
  void Persist(Job& job, Durability durability = Durability::kAtomicOnly);
  Result<std::unique_ptr<Job>> LoadJob(const std::filesystem::path& state_file);

  ContainerExecutorOptions options_;
  std::string runtime_version_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::vector<Job*> finished_threads_;
  // Set by the destructor with detach_jobs: job threads return without ending their jobs.
  std::atomic<bool> shutting_down_{false};
};

}  // namespace trainyard::executor
