// Checkpoint sync (docs/checkpoints.md), SageMaker's CheckpointConfig on every backend: the job's
// checkpoint dir (job.json's checkpoint_dir, <ml root>/checkpoints) is kept in a location that
// outlives the job's run (a retry, a Slurm requeue, a lost node, `trainyard run --resume` find it
// again). It is restored from there before the command starts, and stored there while the command
// runs (each interval, only when something in it changed) and once more when it has ended (its
// own end, or a stop: SIGTERM, then SIGKILL after the grace period).
//
// The directory travels as one tar.gz, because a presigned URL names one object. A location holds
// a whole archive, the new one or the one before, never a torn one: an S3 PUT replaces an object
// at once, and a directory location is written to a temporary file that is then renamed. A
// trainer should write its own files the same way (temporary file, then rename), so that a sync
// in the middle of a write never packs half a file.
//
// CheckpointSync is thread-compatible; its periodic sync runs on a thread of its own, which
// Finish stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "archive/archive.h"
#include "common/status.h"
#include "wrapper/staging.h"

namespace trainyard::wrapper {

// Where a job's checkpoint archive is kept.
class CheckpointLocation {
 public:
  virtual ~CheckpointLocation() = default;
  // For messages: a directory, or a URL without its query (the signature is a secret).
  virtual std::string Describe() const = 0;
  // Copies the stored archive to `target`. NotFound when the location holds none.
  virtual Status Fetch(const std::filesystem::path& target) const = 0;
  // Replaces the stored archive with the file `archive`, at once for every reader.
  virtual Status Store(const std::filesystem::path& archive) const = 0;
};

// The file name of the archive in a directory location.
inline constexpr char kCheckpointArchiveName[] = "checkpoints.tar.gz";

// A directory that outlives the job's root (TRAINYARD_CHECKPOINT_STORE): the archive is
// <directory>/checkpoints.tar.gz, created with the directory at the first Store.
std::unique_ptr<CheckpointLocation> DirectoryCheckpointLocation(std::filesystem::path directory);
// One object behind presigned URLs (a staging manifest's checkpoint); `put_url` empty: read only.
std::unique_ptr<CheckpointLocation> UrlCheckpointLocation(std::string get_url, std::string put_url,
                                                          TransferOptions transfer);

struct CheckpointSyncOptions {
  std::filesystem::path checkpoint_dir;  // the job's, as job.json names it
  // Where archives are packed and fetched to; outside checkpoint_dir.
  std::filesystem::path scratch_dir;
  std::shared_ptr<const CheckpointLocation> location;  // restored from and stored to
  // Restored from when `location` holds no archive; never written. Null: none.
  std::shared_ptr<const CheckpointLocation> restore_from;
  std::chrono::milliseconds interval{10'000};  // TRAINYARD_CHECKPOINT_INTERVAL_SECONDS
  // The wrapper made the archive: no expansion ratio, but the size and free-space limits hold.
  archive::UnpackLimits unpack_limits{.max_expansion_ratio = 0};
  std::function<void(const std::string&)> say;  // the wrapper's own lines in the training log
};

class CheckpointSync {
 public:
  explicit CheckpointSync(CheckpointSyncOptions options);
  // Stops the periodic sync, without a last one (Finish makes it).
  ~CheckpointSync();

  // Before the command starts: unpacks the location's archive (else restore_from's) into the
  // checkpoint dir, and says from where. OK when neither holds one (the job starts afresh), and
  // when the checkpoint dir already holds files (kept as they are: they are newer). Errors,
  // naming the location: it cannot be read, or its archive cannot be unpacked (a job that would
  // silently start afresh and overwrite its progress is worse than a failed one).
  Status Restore();
  // Stores the checkpoint dir when it differs from what was last restored or stored. Errors
  // name the location; the next call tries again.
  Status SyncIfChanged();
  // Calls SyncIfChanged every interval on a thread of its own, saying each failure.
  void StartPeriodicSync();
  // Stops the periodic sync (waiting for a store under way) and syncs one last time.
  Status Finish();

 private:
  void StopPeriodicSync();

  CheckpointSyncOptions options_;
  std::string stored_fingerprint_;  // of the checkpoint dir as last restored or stored
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace trainyard::wrapper
