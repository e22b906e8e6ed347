// SlurmExecutor: runs each job as one Slurm batch job. The server lays out the job root (a tree
// laid out as SageMaker lays out /opt/ml) in a directory that the compute nodes share; the batch
// script runs trainyard-wrap over it on the node, with exactly the job's environment; the
// artifacts are packed from it when the job ends, as for the local executor.
//
// Slurm is reached through a SlurmTransport (its commands, or slurmrestd). One listing, at most
// one per poll interval, serves every job's thread. A job's way:
//  - Starting: the root laid out, the batch script written, sbatch; while Slurm keeps the job
//    PENDING its status message is Slurm's reason in words. A job Slurm refuses at submit (more
//    than any node has, a partition that does not exist) fails with Slurm's own message; one
//    pending for a reason that never clears (PartitionConfig, InvalidQOS...) is cancelled and
//    fails with it.
//  - Downloading, Training: once Slurm runs it; the max runtime counts from Slurm's start time.
//  - Stop: SIGTERM to the batch script and its steps (scancel --full --signal=TERM), SIGKILL
//    after the job's grace period (and a margin); a pending job is cancelled.
//  - the end: the wrapper's exit file, else Slurm's exit code; OUT_OF_MEMORY, NODE_FAIL,
//    PREEMPTED, TIMEOUT and a cancellation from outside map to SageMaker's statuses
//    (slurm_state.h).
//
// Records (RecordedJobsExecutor): executor-state.json first (the intent), then, once sbatch has
// answered, slurm-job-id beside it (durable). After a restart, AdoptRunningJobs() follows every
// recorded job again by its Slurm id; a job recorded without an id is looked for in Slurm by its
// name and batch script, and failing that its launch claim settles it: the batch script creates
// the claim with its Slurm id before it runs anything, and the recovery creates it ("fenced")
// when it is absent, so a job is never submitted twice and never runs twice.
//
// Images (options.container_runtime, docs/slurm.md "Images"): a job that names an image runs in
// it on the node. With podman the batch script runs the container in the foreground exactly as
// the container executor builds it (container_command.h: the root mounted at /opt/ml, the
// image's entrypoint or the job's, the container's environment, GPUs through CDI when the job
// asks Slurm for some, --network host unless configured), a sweep's image pinned to one digest
// (PinnedImage); with srun, Slurm's OCI support runs the bundle the image names, and the
// bundle's trainyard-wrap runs as the command would.
//
// Object-store staging (options.staging, docs/slurm.md): the root is laid out here as above, but
// its input/ and code/ files go to the object store through options.job_staging, and the job gets
// their presigned URLs (and those for its outputs) as its staging manifest, exported like its
// secrets; the batch script makes the root in the node's own /tmp, and trainyard-wrap downloads
// and uploads. At the end, the wrapper's exit record and archives come back from the store into
// the root here, and are packed as for every job. No launch claim on the node: a job recorded
// without its Slurm id that Slurm no longer knows counts as having run when its exit record is
// in the store, else as never run.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "executor/container/image_pins.h"
#include "executor/recorded_jobs.h"
#include "executor/slurm/slurm_options.h"
#include "executor/slurm/slurm_state.h"
#include "executor/slurm/slurm_transport.h"

namespace trainyard::executor {

class SlurmExecutor : public RecordedJobsExecutor {
 public:
  SlurmExecutor(SlurmExecutorOptions options, SlurmTransportPtr transport);
  // Without detach_jobs: cancels every job and waits for its end. With it: stops following the
  // jobs (within a poll interval) and leaves them to Slurm, for AdoptRunningJobs().
  ~SlurmExecutor() override;

  std::string name() const override { return "slurm"; }
  // A command (under the nodes' trainyard-wrap), or an image (options.container_runtime).
  TrainerKind AcceptedTrainer() const override { return TrainerKind::kImageOrCommand; }
  // In object-store staging: a presigned URL of the object itself (docs/slurm.md).
  bool HandsStoredChannelsInPlace() const override {
    return object_store_staging() && options_.job_staging &&
           options_.job_staging->HandsStoredObjectsInPlace();
  }
  // Also InvalidArgument for resources the executor cannot ask Slurm for (an unknown instance
  // type, more than one instance), and, with srun as the container runtime, for an image that
  // is no absolute path (a bundle on the nodes).
  Status Submit(const JobSpec& spec) override;
  // The transport's answer (SlurmTransport::CheckUser): a job is submitted, followed and
  // stopped as its run_as_user.
  Status CheckRunAsUser(const std::string& user) const override {
    return transport_->CheckUser(user);
  }

  // Needs detach_jobs (FailedPrecondition otherwise). Follows again every job recorded under
  // work_dir (see the header comment), called once at start, before anyone asks Describe.
  // Errors: the work_dir cannot be listed.
  Status AdoptRunningJobs();
  // Every server whose slurm work dir is the same shared directory follows the jobs of another
  // (detach_jobs: jobs outlive the server).
  bool ReachableFromAnyServer() const override { return options_.detach_jobs; }
  Status Adopt(const std::string& job_name, const std::filesystem::path& artifact_dir) override {
    return AdoptRecordedJob(job_name, artifact_dir);
  }
  // <work_dir>/<job>/artifacts with detach_jobs (the work dir every server shares): the
  // artifacts are packed where any server stores them from, so that a server killed after
  // packing them leaves nothing on its own disk that the job's outputs need.
  std::filesystem::path SharedArtifactDir(const std::string& job_name) const override;

  // The files of a job's directory.
  static constexpr char kScriptFileName[] = "slurm-job.sh";
  static constexpr char kJobIdFileName[] = "slurm-job-id";

 private:
  struct SlurmJob : Job {
    using Job::Job;
    std::string slurm_id;  // once sbatch answered (guarded by mutex_)
    // A listing must be newer: when sbatch answered, or when the job was adopted.
    std::chrono::steady_clock::time_point submitted_at{};
    std::optional<SlurmJobInfo> last_seen;  // Follow's thread only
    std::optional<SlurmJobView> ended;      // how Slurm ended it
    std::condition_variable wake;           // with mutex_: a stop for Follow's thread
    bool vanished = false;                  // Slurm no longer knows it (its record aged out)
    std::string refused;                    // why Slurm will never run it
  };

  std::unique_ptr<Job> NewJob(JobSpec spec) const override;
  bool StartsAtLaunch() const override { return false; }
  Status Launch(Job& job) override;
  Status Follow(Job& job) override;
  Outcome Settle(Job& job) override;
  Result<bool> RecoverLaunch(Job& job) override;
  void SignalStop(Job& job) override;
  void BeforePack(Job& job) override;
  void AfterEnd(Job& job) override;

  bool object_store_staging() const { return options_.staging == StagingMode::kObjectStore; }
  // Object-store staging: the job's staging (options_.job_staging over its root).
  StagedJob StagedJobOf(const Job& job) const;

  // Marks Downloading then Training (the wrapper lays out the input, then runs the command) once
  // Slurm has started the job, with the max runtime counted from Slurm's start time.
  void MarkStarted(SlurmJob& job, const SlurmJobInfo& info, const std::string& message);
  // Acts on a stop request: cancels a job that never started, else SIGTERM, then SIGKILL after
  // the grace period.
  void DeliverStop(SlurmJob& job, bool started,
                   std::optional<std::chrono::steady_clock::time_point>* kill_at, bool* term_sent,
                   bool* kill_sent);
  // The job as the newest listing made as `user` shows it (nullopt: Slurm does not know it);
  // lists again when that listing is older than the poll interval or than `not_before`, but
  // never sooner after the last listing ended than that listing took (at most
  // kMaxListingPause).
  Result<std::optional<SlurmJobInfo>> LookUp(const std::string& slurm_id, const std::string& user,
                                             std::chrono::steady_clock::time_point not_before);
  std::string SlurmOutputTail(const Job& job, const std::string& slurm_id) const;
  // What the podman of the job's node runs: its sweep's pin of the image, else, for an image
  // named by its registry host, REPOSITORY@DIGEST as the registry serves it now (pinned for the
  // sweep's later jobs), else the image as given. Errors: the registry's (registry_digest.h).
  Result<std::string> PinnedImage(const JobSpec& spec);

  SlurmExecutorOptions options_;
  SlurmTransportPtr transport_;
  ImagePins pins_;  // <work_dir>/image-pins.json

  // The longest pause between two listings (see LookUp), so that a stop or a shutdown waits
  // no longer than that for a listing.
  static constexpr std::chrono::seconds kMaxListingPause{10};
  std::mutex listing_mutex_;  // one listing at a time; the others wait and share it
  struct Listing {
    std::chrono::steady_clock::time_point listed_at{};  // when the listing began
    std::vector<SlurmJobInfo> jobs;
  };
  // By the Slurm user it was made as ("": the transport's own): what one user sees of Slurm's
  // jobs may not be what another sees (PrivateData=jobs).
  std::map<std::string, Listing> listings_;
  std::chrono::steady_clock::time_point last_listing_ended_{};
  std::chrono::steady_clock::duration last_listing_took_{};
};

}  // namespace trainyard::executor
