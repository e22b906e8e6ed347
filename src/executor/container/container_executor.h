// ContainerExecutor: runs each job as SageMaker does, `<runtime> run <image> train` over a job
// root mounted at /opt/ml, with podman or docker. The root is laid out and the artifacts packed
// exactly as by the local executor (executor/job_root.h); inside the container the image's
// entrypoint, trainyard-wrap, runs the command and writes the same state files, which Describe
// reads through the mount. The exact command lines are in container_command.h.
//
// Before its `run`, a job's image is made present (image_puller.h): pulled as the pull policy
// says, once per host however many jobs wait for it, with the job's status message saying
// "Downloading the training image" meanwhile and then the digest it runs; the jobs of a sweep
// (its retries included) all run the digest its first job resolved. A pull that fails fails the
// job with a reason naming the image (not found, unauthorized, registry unreachable, no space).
//
// Stop is `<runtime> stop -t <grace + margin>`; the max runtime is enforced here, as by the
// local executor. The exit code is the wrapper's (output/trainyard-exit.json), or the runtime's
// when the image has no wrapper; a runtime that could not start the container (exit 125 and no
// exit file) fails the job with a ClientError quoting the runtime's message.
//
// Object-store staging (options.staging): the root is laid out here as above, but no directory
// of this machine is mounted; its input/ and code/ go to the object store (executor/job_staging.h)
// and the container gets their presigned URLs, and those of its outputs, as its staging manifest.
// At the end the wrapper's exit record and archives come back from the store into the root, and
// are packed as for every job; a job without trainyard-wrap as its entrypoint is refused.
//
// One thread per running job (RecordedJobsExecutor: the job table, the records, the adoption;
// this class keeps the runtime's part). Containers run detached (`run --detach`, labelled with the
// job and the executor's work dir) and are followed by the pid of their first process; each job's
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
#include "executor/container/image_pins.h"
#include "executor/detached_process.h"
#include "executor/recorded_jobs.h"

namespace trainyard::executor {

class ContainerExecutor : public RecordedJobsExecutor {
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
  // (RecordedJobsExecutor::AdoptRecordedJobs) and lists the containers labelled with this work
  // dir (no other executor's):
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
  // In object-store staging: a presigned URL of the object itself (docs/slurm.md).
  bool HandsStoredChannelsInPlace() const override {
    return object_store_staging() && options_.job_staging &&
           options_.job_staging->HandsStoredObjectsInPlace();
  }
  // The runtime's version, as the check at start printed it ("4.3.1").
  const std::string& runtime_version() const { return runtime_version_; }

  // Also InvalidArgument when the job names no image and there is no default image, and in
  // object-store staging for a container_entrypoint that is not trainyard-wrap;
  // FailedPrecondition in object-store staging without options.job_staging.
  Status Submit(const JobSpec& spec) override;
  // With the pull policy "never": FailedPrecondition, naming the image, when `image` (empty: the
  // default image) is not in the runtime's store; Internal when the store cannot be asked.
  Status CheckTrainerImage(const std::string& image) override;

 private:
  struct ContainerJob : Job {
    using Job::Job;
    // `<runtime> logs --follow` into the job's log while the container runs, for an image run
    // without trainyard-wrap (RunsWithoutWrapper); -1 when none. Only the job's thread uses it.
    pid_t log_follower = -1;
    // What FollowContainer found, for Settle. Only the job's thread uses them.
    int followed_exit_code = -1;
    std::string runtime_error;
    // The reference its image was resolved from (ResolveImage), forgotten by the puller when
    // the runtime could not run it. Only the job's thread uses it.
    std::string image_reference;
  };

  // Where a job's container stands, from `<runtime> inspect`.
  struct ContainerState {
    bool exists = false;
    std::string status;  // "running", "exited", "created", ...
    int exit_code = 0;
    pid_t pid = 0;  // its first process, while it runs
  };

  ContainerExecutor(ContainerExecutorOptions options, std::string version);
  bool object_store_staging() const { return options_.staging == StagingMode::kObjectStore; }
  // Object-store staging: the job's staging (options_.job_staging over its root).
  StagedJob StagedJobOf(const Job& job) const;
  std::unique_ptr<Job> NewJob(JobSpec spec) const override;
  // The image the job runs, made present first (pulled as options_.pull says, once however
  // many jobs wait for it), and the id it is run by. The job's status message says
  // "Downloading the training image" meanwhile, then the digest it runs. The jobs of one sweep
  // run the digest its first job resolved, recorded in <work_dir>/image-pins.json: a retry
  // (or a job after the tag moved) runs the same image. Errors: the pull's (image_puller.h).
  Result<std::string> ResolveImage(Job& job);
  ImageRuntime ImageRuntimeOf() const;
  // Starts `<runtime> run --detach` past the job's launch claim (the job's `process`).
  // Unavailable while the executor is being destroyed; Cancelled when the job was stopped first.
  Status Launch(Job& job) override;
  Status Follow(Job& job) override;
  void AfterFollow(Job& job) override;
  // The wrapper's exit code, else the container's; a launch failure when the runtime, not the
  // job, failed.
  Outcome Settle(Job& job) override;
  void BeforePack(Job& job) override;
  // Removes the job's container, once its end is recorded.
  void AfterEnd(Job& job) override;
  // Waits for the `run` to end, then follows the container to its end: stop requests, the max
  // runtime. `*runtime_error` is the runtime's message when it created no container or could
  // not start it (no job code ran). Unavailable when the executor is being destroyed.
  Status FollowContainer(ContainerJob& job, int* exit_code, std::string* runtime_error);
  // Inspect, retried twice; a container that is not there reads as !exists.
  Result<ContainerState> InspectContainer(const Job& job);
  // For a job run without trainyard-wrap, starts following the container's output into the
  // job's log, so that it can be read while the job runs. Logs what it could not start.
  void StartFollowingOutput(ContainerJob& job);
  // Ends the follower (it ends by itself with the container; a few seconds' grace).
  void StopFollowingOutput(ContainerJob& job);
  // When no trainyard-wrap in the image wrote the job's log (no exit file, no log), or the job
  // runs without it, makes the container's whole stdout and stderr (`<runtime> logs`) the log
  // (replacing what the follower wrote, which a restart may have cut short), as SageMaker does
  // with whatever runs in the image. Logs what it could not copy.
  void CopyContainerOutputToLog(const Job& job);
  // `<runtime> rm -f` of the job's container; logs a failure other than its absence.
  void RemoveContainer(const std::string& job_name);
  std::vector<std::string> RuntimeEnvironment(const JobSpec& spec) const;
  std::filesystem::path ConsoleFile(const Job& job) const;

  ContainerExecutorOptions options_;
  std::string runtime_version_;
  std::shared_ptr<ImagePuller> puller_;
  // The digest each sweep's image runs (<work_dir>/image-pins.json).
  ImagePins pins_;
};

}  // namespace trainyard::executor
