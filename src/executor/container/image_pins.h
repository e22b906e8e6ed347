// ImagePins: the digest each sweep's image runs, kept in a file of the executor's work dir
// (image-pins.json), so that every job of a sweep — its retries, its jobs after the tag moved,
// after a server restart — runs the image its first job ran. Used by the container executor
// (which pins what it pulled) and the Slurm executor (which asks the registry, registry_digest.h).
//
// A pin unused for longer than the retention is dropped when the pins are loaded and when one is
// added; a retry after that resolves the sweep's tag again. A pin's last use is written again
// at most once an hour, not at every job. Servers that share the work dir (the Slurm executor's)
// share the file: each write merges what the file holds under a lock file beside it, a pin one
// of them made first holds for all, and a sweep not pinned in memory is looked for in the file.
// Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/file_lock.h"

namespace trainyard::executor {

class ImagePins {
 public:
  // Reads `file` when it exists, dropping the pins unused for longer than `retention` (zero:
  // never dropped) and writing it again without them. An unreadable file is logged and left: the
  // sweeps' images are then resolved again.
  ImagePins(std::filesystem::path file, std::chrono::hours retention);

  // The reference `image` runs for the jobs of `sweep_id`, marking the pin used; nullopt when
  // there is none (or no sweep).
  std::optional<std::string> Find(const std::string& sweep_id, const std::string& image);
  // Pins `image` of `sweep_id` to `reference` (REPOSITORY@DIGEST, or an image id) unless a pin
  // is there already; the pin that holds, which the job then runs. A file that cannot be written
  // is logged. `reference` itself without a sweep.
  std::string Add(const std::string& sweep_id, const std::string& image,
                  const std::string& reference);

  // The file's name in an executor's work dir.
  static constexpr char kFileName[] = "image-pins.json";

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  struct Pin {
    std::string reference;
    TimePoint last_used;  // to the hour (see above)
  };
  // Under mutex_: the lock of the file (<file>.lock) against the other servers sharing it,
  // waited for up to 10 s; nullopt (logged) when it cannot be had, and the file is then written
  // without it.
  std::optional<FileLock> LockFile();
  // Under mutex_: adds the file's pins that memory lacks, and their later last uses; whether the
  // file needs writing again (a malformed or old-format entry).
  bool MergeFile();
  int PruneUnused();  // under mutex_; how many it dropped
  void Write();       // under mutex_ (and the file's lock); logs a failure

  const std::filesystem::path file_;
  const std::chrono::hours retention_;
  std::mutex mutex_;
  std::map<std::string, Pin> pins_;  // "<sweep id>\n<image as given>" -> its pin
};

}  // namespace trainyard::executor
