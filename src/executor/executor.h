// Executor: runs training jobs on a backend (this machine, a container runtime, SageMaker,
// Slurm). Asynchronous by design, because SageMaker and Slurm jobs live outside this process:
// Submit returns once the job is accepted; Describe reports where it is, as
// DescribeTrainingJob does; Stop asks it to end.
//
// Every implementation passes the conformance suite in executor_conformance.h.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/job_definition.h"
#include "core/job_status_tracker.h"

namespace trainyard::executor {

// What a job of an executor runs, as a sweep's `trainer` gives it.
enum class TrainerKind {
  kImage,    // the ML team's container image (trainer.image)
  kCommand,  // a command on this machine, under trainyard-wrap (trainer.command)
  // either: a command runs inside the executor's default image (sagemaker), or on the
  // node under trainyard-wrap (slurm)
  kImageOrCommand,
};

// Where the job's checkpoint dir (/opt/ml/checkpoints, job.json's checkpoint_dir) is kept between
// its runs (docs/checkpoints.md): restored before its code starts, stored while it runs and at
// its end. Each executor keeps a checkpoint by its name in a place of its own that outlives the
// job's root: a retry, a requeue, a restart and a resume of the same name find it again.
struct CheckpointSpec {
  std::string name;  // the trainyard job's name (a retry's too); empty: not kept
  // Another checkpoint's name, restored from while this one holds none (a Hyperband trial
  // promoted from that job); never written. Empty: none.
  std::string restore_from;
};

// A channel whose data is one object of the server's object store, as its record knows it (an
// uploaded dataset's file): what an executor staging through that store (job_staging.h) hands
// the job where it lies, instead of a copy.
struct StoredObject {
  std::string key;         // in the store: "datasets/ds-4f2a.../train.csv"
  std::string filename;    // its name in the channel's directory: "train.csv"
  uint64_t size = 0;       // as recorded when it was stored
  std::string sha256_hex;  // likewise; the job's wrapper checks the bytes against it
};

struct JobSpec {
  contract::JobDefinition definition;  // name, hyperparameters, channels, limits, environment
  std::string sweep_id;  // the sweep the job belongs to, for backends that label their jobs
  // Who the backend runs the job as, where it has users of its own (the slurm executor: the
  // Slurm user it submits, follows and stops the job as). Empty: the executor's own identity.
  // An executor refuses a user it cannot act as (CheckRunAsUser).
  std::string run_as_user;
  // Where each channel's data comes from: a file or a directory on this machine.
  std::map<std::string, std::filesystem::path> channel_sources;
  // Channels given as an object of the store instead, left where they lie (never in
  // channel_sources too), for an executor that HandsStoredChannelsInPlace.
  std::map<std::string, StoredObject> channel_objects;
  std::vector<std::string> command;    // the ML command; empty: trainyard-wrap resolves it
  std::filesystem::path artifact_dir;  // receives model.tar.gz, output.tar.gz, training.log, ...
  // The job's code as an archive (the SageMaker SDK's sourcedir.tar.gz, named by the
  // hyperparameter sagemaker_submit_directory), unpacked into the job's code dir (/opt/ml/code)
  // before the job starts, unless the code dir already holds files (as AWS's training toolkit
  // does). Empty: none.
  std::filesystem::path code_source;
  // Passed to the job's wrapper but never written into its config files (the job token).
  std::map<std::string, std::string> secret_environment;
  std::chrono::milliseconds stop_grace_period{120'000};
  CheckpointSpec checkpoint;
  // Called on the job's thread just before its code starts, by an executor whose jobs live on
  // this machine (local, container), so that the caller records that the code may run from now
  // (the scheduler: MetadataStore::RecordLaunch). An error, and the code never starts: the job
  // ends Failed with it. Not kept across a restart (a job adopted from its records had either
  // started its code already or is fenced off). Null: none.
  std::function<Status()> before_launch;
};

struct JobDescription {
  std::string job_name;
  core::JobStatusTracker status;
  nlohmann::json progress = nlohmann::json::object();  // latest progress snapshot
  std::map<std::string, double> metrics;               // latest value of each metric
  std::optional<int> exit_code;
  // For an executor that runs images (the container executor), once the job's image is
  // resolved: the reference it was resolved from (`image`) and what exactly runs
  // (`image_digest`: REPOSITORY@sha256:..., or the runtime's image id for an image that came
  // from no registry). Empty before, and for executors that do not resolve images.
  std::string image;
  std::string image_digest;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string name() const = 0;
  // Accepts the job and starts it. AlreadyExists for a name already submitted; InvalidArgument
  // for a spec that breaks SageMaker's limits.
  virtual Status Submit(const JobSpec& spec) = 0;
  // NotFound for an unknown name.
  virtual Result<JobDescription> Describe(const std::string& job_name) = 0;
  // Asks a running job to stop (SIGTERM, then SIGKILL after the grace period). Stopping a job
  // that has ended is a no-op; NotFound for an unknown name.
  virtual Status Stop(const std::string& job_name) = 0;

  // What this executor's jobs run; a sweep that gives the other kind of trainer is refused.
  virtual TrainerKind AcceptedTrainer() const = 0;

  // Checks, when a sweep is created, that the executor can run `image` (a sweep's
  // trainer.image; empty: the executor's default): the container executor with the pull policy
  // "never" refuses an image that is not on this host (FailedPrecondition, naming it).
  virtual Status CheckTrainerImage(const std::string& /*image*/) { return Status::Ok(); }
  // Checks, when a sweep is created and again at each submit, that the executor may run jobs
  // as `user` (JobSpec::run_as_user; empty: its own identity, always fine). The error says
  // why not: PermissionDenied for a user the operator did not allow, FailedPrecondition for an
  // executor (or a configuration of it) that has one identity only.
  virtual Status CheckRunAsUser(const std::string& user) const {
    if (user.empty()) return Status::Ok();
    return FailedPrecondition("the " + name() +
                              " executor runs every job as the server's own user; it cannot run "
                              "one as '" +
                              user + "'");
  }
  // Whether the executor runs the job's image itself, as SageMaker does: the job root mounted
  // at /opt/ml, the definition's container_entrypoint and container_arguments given to the
  // image. False: the job's code runs as JobSpec::command under trainyard-wrap on this machine,
  // so a caller holding an entrypoint and arguments passes them as the command.
  virtual bool RunsImageItself() const { return false; }

  // Whether a channel that is one object of the server's object store may come as
  // JobSpec::channel_objects, handed to the job where it lies (the slurm and container executors
  // in object-store staging: a presigned URL of the object), so that the caller neither fetches
  // nor copies it. False: every channel comes as a file in channel_sources.
  virtual bool HandsStoredChannelsInPlace() const { return false; }

  // Whether Describe's NotFound proves that the job's code never started. True for an executor
  // that keeps every job it accepted across a restart of this process (on disk, or in the
  // backend itself), and that fences off a launch cut short by a crash: a job it does not know
  // was never launched, and may be submitted again. False: a job it does not know may have run
  // before the restart.
  virtual bool RemembersJobsAcrossRestarts() const { return false; }

  // Whether any server sharing the metadata store can follow this executor's jobs (their records
  // and their backend are reachable from every one: SageMaker; Slurm with its shared work dir),
  // so that one server takes over the jobs of another that stopped (Adopt). False: a job lives
  // on the machine of the server that submitted it.
  virtual bool ReachableFromAnyServer() const { return false; }
  // Follows a job that another server (or an earlier run of this one) submitted, from the
  // backend and the shared records; its artifacts go to `artifact_dir` from now on. OK when it
  // is followed now or was known already; NotFound when the backend does not know it or its
  // launch never happened (fenced off: it may be submitted again); FailedPrecondition for an
  // executor that is not ReachableFromAnyServer.
  virtual Status Adopt(const std::string& job_name, const std::filesystem::path& /*artifact_dir*/) {
    return FailedPrecondition("the " + name() + " executor cannot take over job '" + job_name +
                              "': its jobs live on the machine that started them");
  }

  // Where the artifacts of `job_name` must go when every server has to read them: a directory
  // that every server sharing the executor's records sees at the same path (the Slurm executor's
  // shared work dir), so that whichever server finishes a job taken over stores the outputs that
  // another server's executor packed. Empty: the caller's own directory will do (the job's
  // outputs are packed by the server that follows it, or fetched again by the one that adopts
  // it, as SageMaker's are).
  virtual std::filesystem::path SharedArtifactDir(const std::string& /*job_name*/) const {
    return {};
  }
  // `listener` is called, from any thread, after one of this executor's jobs changed its
  // status, so that the caller can act at once instead of at its next poll. Null removes it;
  // once this returns, the old listener is no longer running nor called.
  void SetStatusListener(std::function<void(const std::string& job_name)> listener) {
    std::lock_guard lock(listener_mutex_);
    listener_ = std::move(listener);
  }

 protected:
  void NotifyStatusChanged(const std::string& job_name) {
    std::lock_guard lock(listener_mutex_);
    if (listener_) listener_(job_name);
  }

 private:
  std::mutex listener_mutex_;
  std::function<void(const std::string& job_name)> listener_;
};

using ExecutorPtr = std::unique_ptr<Executor>;

}  // namespace trainyard::executor
