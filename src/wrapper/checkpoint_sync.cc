#include "wrapper/checkpoint_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common/files.h"

namespace trainyard::wrapper {
namespace fs = std::filesystem;

namespace {

class DirectoryLocation : public CheckpointLocation {
 public:
  explicit DirectoryLocation(fs::path directory) : directory_(std::move(directory)) {}

  std::string Describe() const override { return directory_.string(); }

  Status Fetch(const fs::path& target) const override {
    const fs::path stored = directory_ / kCheckpointArchiveName;
    std::error_code error;
    if (!fs::exists(stored, error)) return NotFound("no checkpoint in '" + Describe() + "'");
    // A copy, so that a store by another run of the job (a requeue's) never changes what is
    // being unpacked.
    return CopyFileContents(stored, target);
  }

  Status Store(const fs::path& archive) const override {
    TY_RETURN_IF_ERROR(MakeDirectories(directory_));
    const fs::path stored = directory_ / kCheckpointArchiveName;
    const fs::path temporary = directory_ / ("." + std::string(kCheckpointArchiveName) + ".tmp." +
                                             std::to_string(::getpid()));
    TY_RETURN_IF_ERROR(CopyFileContents(archive, temporary));
    // On disk before the rename: a lost node must not leave a named but empty archive.
    int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
    bool synced = fd >= 0 && ::fdatasync(fd) == 0;
    if (fd >= 0) ::close(fd);
    std::error_code error;
    if (synced) fs::rename(temporary, stored, error);
    if (!synced || error) {
      fs::remove(temporary, error);
      return Internal("cannot store the checkpoint in '" + Describe() + "'");
    }
    return Status::Ok();
  }

 private:
  fs::path directory_;
};

class UrlLocation : public CheckpointLocation {
 public:
  UrlLocation(std::string get_url, std::string put_url, TransferOptions transfer)
      : get_url_(std::move(get_url)), put_url_(std::move(put_url)), transfer_(transfer) {}

  std::string Describe() const override { return get_url_.substr(0, get_url_.find('?')); }

  Status Fetch(const fs::path& target) const override {
    return DownloadObject(get_url_, target, transfer_);
  }

  Status Store(const fs::path& archive) const override {
    if (put_url_.empty()) return FailedPrecondition("'" + Describe() + "' is read only");
    return UploadFile(put_url_, archive, transfer_);
  }

 private:
  std::string get_url_, put_url_;
  TransferOptions transfer_;
};

// What the checkpoint dir holds, as one comparable text: every entry's path, type, size and
// modification time. A file rewritten in place changes its time; one renamed over changes both.
std::string Fingerprint(const fs::path& directory) {
  std::vector<std::string> entries;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(directory, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code ignored;  // an entry removed meanwhile: the next fingerprint has it right
    fs::file_status status = it->symlink_status(ignored);
    std::string entry = fs::relative(it->path(), directory, ignored).string();
    entry += '\0' + std::to_string(static_cast<int>(status.type()));
    if (fs::is_regular_file(status)) {
      entry += '\0' + std::to_string(it->file_size(ignored));
      entry += '\0' + std::to_string(it->last_write_time(ignored).time_since_epoch().count());
    } else if (fs::is_symlink(status)) {
      entry += '\0' + fs::read_symlink(it->path(), ignored).string();
    }
    entries.push_back(std::move(entry));
  }
  if (error) return "unreadable: " + error.message();
  std::sort(entries.begin(), entries.end());
  std::string fingerprint;
  for (const std::string& entry : entries) fingerprint += entry + '\n';
  return fingerprint;
}

bool IsEmptyDirectory(const fs::path& directory) {
  std::error_code error;
  return fs::is_empty(directory, error) && !error;
}

}  // namespace

std::unique_ptr<CheckpointLocation> DirectoryCheckpointLocation(fs::path directory) {
  return std::make_unique<DirectoryLocation>(std::move(directory));
}

std::unique_ptr<CheckpointLocation> UrlCheckpointLocation(std::string get_url, std::string put_url,
                                                          TransferOptions transfer) {
  return std::make_unique<UrlLocation>(std::move(get_url), std::move(put_url), transfer);
}

CheckpointSync::CheckpointSync(CheckpointSyncOptions options) : options_(std::move(options)) {
  if (!options_.say) options_.say = [](const std::string&) {};
}

CheckpointSync::~CheckpointSync() {
  StopPeriodicSync();
}

Status CheckpointSync::Restore() {
  TY_RETURN_IF_ERROR(MakeDirectories(options_.checkpoint_dir));
  stored_fingerprint_ = Fingerprint(options_.checkpoint_dir);
  if (!IsEmptyDirectory(options_.checkpoint_dir)) {
    options_.say("checkpoint: " + options_.checkpoint_dir.string() +
                 " already holds files: kept, nothing restored");
    return Status::Ok();
  }
  TY_RETURN_IF_ERROR(MakeDirectories(options_.scratch_dir));
  const fs::path fetched = options_.scratch_dir / "restored-checkpoints.tar.gz";
  for (const auto* location : {options_.location.get(), options_.restore_from.get()}) {
    if (!location) continue;
    auto started = std::chrono::steady_clock::now();
    Status got = location->Fetch(fetched);
    if (got.code() == StatusCode::kNotFound) continue;
    if (!got.ok()) {
      return Status(got.code(), "restoring the checkpoint from '" + location->Describe() +
                                    "' failed: " + got.message());
    }
    Result<std::vector<std::string>> files =
        archive::Unpack(fetched, options_.checkpoint_dir, options_.unpack_limits);
    std::error_code ignored;
    fs::remove(fetched, ignored);
    if (!files.ok()) {
      return Status(files.status().code(), "restoring the checkpoint from '" +
                                               location->Describe() +
                                               "' failed: " + files.status().message());
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    options_.say("checkpoint: restored " + std::to_string(files->size()) + " files from " +
                 location->Describe() + " (" + std::to_string(elapsed.count()) + " ms)");
    stored_fingerprint_ =
        location == options_.location.get() ? Fingerprint(options_.checkpoint_dir) : "";
    return Status::Ok();
  }
  options_.say("checkpoint: none stored yet in " + options_.location->Describe());
  return Status::Ok();
}

Status CheckpointSync::SyncIfChanged() {
  // Taken before packing: a change made while packing differs from it, and is stored next time.
  std::string fingerprint = Fingerprint(options_.checkpoint_dir);
  if (fingerprint == stored_fingerprint_) return Status::Ok();
  auto started = std::chrono::steady_clock::now();
  TY_RETURN_IF_ERROR(MakeDirectories(options_.scratch_dir));
  const fs::path packed = options_.scratch_dir / kCheckpointArchiveName;
  Status done = archive::PackTarGz(options_.checkpoint_dir, packed);
  if (done.ok()) done = options_.location->Store(packed);
  if (!done.ok()) {
    return Status(done.code(), "storing the checkpoint in '" + options_.location->Describe() +
                                   "' failed: " + done.message());
  }
  std::error_code error;
  auto bytes = fs::file_size(packed, error);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  options_.say("checkpoint: stored " + std::to_string(error ? 0 : bytes) + " bytes in " +
               options_.location->Describe() + " (" + std::to_string(elapsed.count()) + " ms)");
  stored_fingerprint_ = std::move(fingerprint);
  return Status::Ok();
}

void CheckpointSync::StartPeriodicSync() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
      lock.unlock();
      Status synced = SyncIfChanged();
      if (!synced.ok()) options_.say(synced.message());
      lock.lock();
    }
  });
}

void CheckpointSync::StopPeriodicSync() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status CheckpointSync::Finish() {
  StopPeriodicSync();
  return SyncIfChanged();
}

}  // namespace trainyard::wrapper
