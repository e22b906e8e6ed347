// ImagePins: the digest each sweep's image runs, kept in a file of the executor's work dir
// (image-pins.json), so that every job of a sweep — its retries, its jobs after the tag moved,
// after a server restart — runs the image its first job ran. Used by the container executor
// (which pins what it pulled) and the Slurm executor (which asks the registry, registry_digest.h).
//
// A pin unused for longer than the retention is dropped when the pins are loaded and when one is
// added; a retry after that resolves the sweep's tag again. A pin's last use is written again
// at most once an hour, not at every job. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

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
  void Load();
  int PruneUnused();  // under mutex_; how many it dropped
  void Save();        // under mutex_; logs a failure

  const std::filesystem::path file_;
  const std::chrono::hours retention_;
  std::mutex mutex_;
  std::map<std::string, Pin> pins_;  // "<sweep id>\n<image as given>" -> its pin
};

}  // namespace trainyard::executor
