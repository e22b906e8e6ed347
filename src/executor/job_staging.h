// JobStaging: how an executor whose jobs share no filesystem with the server (a Slurm node, a
// container without the data dir mounted) hands a job its input and gets its outputs back
// through an object store (docs/slurm.md, "Object-store staging"). The executor says which
// files; the staging stores them and mints, for this job alone, presigned URLs that trainyard-wrap
// uses (its staging manifest, wrapper/staging.h), and later reads back what the wrapper uploaded.
// The executor never sees the store or a credential.
//
// Below the interface, the executors' one share of the work around it (StagedJob): which files
// of a job root go out, how long their URLs live, and the exit record and archives that come back
// into the root, where the job is packed as every job is. Implementations of JobStaging must be
// thread-safe (one executor's job threads share one); StagedJob's functions are.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/ml_root.h"
#include "executor/executor.h"

namespace trainyard::executor {

// How a job's input reaches where it runs, and its outputs come back.
enum class StagingMode {
  kShared,       // the job root lies where the job runs (a shared directory, a bind mount)
  kObjectStore,  // through the object store and presigned URLs: the job reads nothing of ours
};

// "shared" or "object-store"; InvalidArgument naming `field` otherwise.
Result<StagingMode> ParseStagingMode(const std::string& text, const std::string& field);

class JobStaging {
 public:
  struct InputFile {
    std::string path;              // in the job's root: "input/data/train/train.csv"
    std::filesystem::path source;  // the file on this machine; empty for a stored object
    // Where the input is an object of the store already (a dataset's file): handed where it
    // lies, neither read nor copied (HandsStoredObjectsInPlace).
    std::optional<StoredObject> stored;
  };

  virtual ~JobStaging() = default;

  // Whether Publish takes an input that is an object of the store (InputFile::stored) and hands
  // the job a GET URL of that object itself. False: every input must be a file here.
  virtual bool HandsStoredObjectsInPlace() const { return false; }
  // Stores `inputs` for job `job_name` and returns the staging manifest's JSON text: a GET URL
  // (with size and SHA-256) per input, a PUT URL per output the wrapper sends back, and, for a
  // `checkpoint` with a name, a GET and a PUT URL of its one archive (and a GET of the archive
  // of checkpoint.restore_from), each valid for `expires`. A stored input is not copied: its
  // URL is the object's own, with the size and SHA-256 its record gives, and Remove leaves it.
  // The checkpoint's archive outlives Remove. Errors: a source that cannot be read, the store
  // failing, FailedPrecondition for a stored input it cannot hand in place.
  virtual Result<std::string> Publish(const std::string& job_name,
                                      const std::vector<InputFile>& inputs,
                                      std::chrono::seconds expires,
                                      const CheckpointSpec& checkpoint) = 0;
  // Copies the output `name` that the job's wrapper uploaded ("trainyard-exit.json",
  // "model.tar.gz", ...) to `target`. NotFound when it never arrived.
  virtual Status Fetch(const std::string& job_name, const std::string& name,
                       const std::filesystem::path& target) = 0;
  // Removes every staging object of the job (its end is recorded).
  virtual Status Remove(const std::string& job_name) = 0;
};

// How an executor whose jobs mount the server's disk (local, container in shared mode) keeps
// their checkpoints where every server sharing the metadata store reaches them: each
// checkpoint's one archive in the shared object store, behind presigned URLs
// (docs/checkpoints.md), so that a retry that another server runs restores it. Implementations
// must be thread-safe.
class CheckpointPresigner {
 public:
  virtual ~CheckpointPresigner() = default;
  // The JSON text of TRAINYARD_CHECKPOINT_URLS for `checkpoint` (which has a name): a GET and a
  // PUT URL of its archive and, where checkpoint.restore_from names one, a GET of that one's
  // ("restore_from"), each valid for `expires`. The store's errors.
  virtual Result<std::string> PresignCheckpoint(const CheckpointSpec& checkpoint,
                                                std::chrono::seconds expires) = 0;
};

// The variable that hands trainyard-wrap its checkpoint's URLs (wrapper/options.h). A secret,
// as the staging manifest is.
inline constexpr char kCheckpointUrlsVariable[] = "TRAINYARD_CHECKPOINT_URLS";

// Moves spec.checkpoint behind `presigner`'s URLs: TRAINYARD_CHECKPOINT_URLS in the spec's secret
// environment (never in its config files, never logged), and spec.checkpoint emptied, so that no
// directory of this machine keeps it. The URLs live as long as a staging manifest's
// (StagingUrlLifetime). Nothing for a spec without a checkpoint; the store's errors otherwise.
Status KeepCheckpointBehindUrls(CheckpointPresigner& presigner, std::chrono::seconds url_margin,
                                JobSpec& spec);

// The PUT URL of `spec`'s checkpoint when it is kept behind URLs (TRAINYARD_CHECKPOINT_URLS in its
// secret environment), for the network the job needs to reach the store; empty otherwise.
std::string CheckpointStoreUrl(const JobSpec& spec);

// How long the URLs handed to a job stay valid: its max runtime and stop grace period, and
// `url_margin` (the time it may wait in a queue), at most 7 days (SigV4's limit).
std::chrono::seconds StagingUrlLifetime(const JobSpec& spec, std::chrono::seconds url_margin);

// The variable that hands trainyard-wrap its staging manifest (wrapper/options.h). Exported like
// a secret: its URLs are credentials for this job's objects.
inline constexpr char kStagingManifestVariable[] = "TRAINYARD_STAGING";

// One URL of a staging manifest's JSON text (the exit record's PUT URL), for the network a job
// needs to reach the object store; empty when it has none.
std::string StagingManifestUrl(const std::string& manifest);

// One job's staging, as an executor does it around a job root laid out on the server.
class StagedJob {
 public:
  StagedJob(JobStaging& staging, std::string job_name, const contract::MlRoot& root)
      : staging_(staging), job_name_(std::move(job_name)), root_(root) {}

  // Stores every file of the root's input/ and code/ (a channel's links followed to the
  // dataset's file), hands each of spec.channel_objects where it lies, and returns the
  // manifest, with the URLs of spec.checkpoint's archive when it has one. The URLs stay valid for
  // StagingUrlLifetime(spec, url_margin). InvalidArgument when the manifest would be too large
  // for one environment variable (too many files: pack them into one archive); the listing's and
  // the store's errors otherwise.
  Result<std::string> PublishInput(const JobSpec& spec, std::chrono::seconds url_margin) const;
  // The wrapper's exit record into the root's exit file, its failure text into the failure file
  // and its last progress and metrics into the wrapper's state file, where a job root that ran
  // here would have them. NotFound when the wrapper never sent it.
  Status FetchExitRecord() const;
  // The archives the wrapper uploaded, unpacked into model/ and output/data/ (afresh: a restart
  // may do it again), or, when output.tar.gz never came, the log it sent alone. Logs what it
  // could not fetch, with the job.
  void FetchOutputs() const;
  // Removes every staging object of the job (its end is recorded); logs a failure.
  void Remove() const;

 private:
  JobStaging& staging_;
  std::string job_name_;
  const contract::MlRoot& root_;
};

}  // namespace trainyard::executor
