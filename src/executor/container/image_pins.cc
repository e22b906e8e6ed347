#include "executor/container/image_pins.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "common/file_lock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/time_format.h"

namespace trainyard::executor {
namespace fs = std::filesystem;

namespace {
// A pin's last use is written again (a synced write) at most this often, not at every job.
constexpr std::chrono::hours kTouchInterval{1};
// How long a write waits for another server sharing the work dir to finish its own.
constexpr std::chrono::seconds kLockWait{10};

std::string Key(const std::string& sweep_id, const std::string& image) {
  return sweep_id + "\n" + image;
}
}  // namespace

ImagePins::ImagePins(fs::path file, std::chrono::hours retention)
    : file_(std::move(file)), retention_(retention) {
  if (!fs::exists(file_)) return;
  std::lock_guard lock(mutex_);
  auto file_lock = LockFile();
  const bool rewrite = MergeFile();
  if (PruneUnused() > 0 || rewrite) Write();
}

std::optional<std::string> ImagePins::Find(const std::string& sweep_id, const std::string& image) {
  if (sweep_id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto pin = pins_.find(Key(sweep_id, image));
  if (pin == pins_.end()) {
    // Another server sharing the work dir (the Slurm executor's) may have pinned it.
    MergeFile();
    pin = pins_.find(Key(sweep_id, image));
    if (pin == pins_.end()) return std::nullopt;
  }
  const TimePoint now = std::chrono::system_clock::now();
  if (now - pin->second.last_used >= kTouchInterval) {
    pin->second.last_used = now;
    auto file_lock = LockFile();
    MergeFile();
    Write();
  }
  return pin->second.reference;
}

std::string ImagePins::Add(const std::string& sweep_id, const std::string& image,
                           const std::string& reference) {
  if (sweep_id.empty()) return reference;
  std::lock_guard lock(mutex_);
  auto file_lock = LockFile();
  MergeFile();  // a pin that another server sharing the work dir made first holds
  auto [pin, added] =
      pins_.emplace(Key(sweep_id, image), Pin{reference, std::chrono::system_clock::now()});
  if (added) {
    PruneUnused();
    Write();
  }
  return pin->second.reference;
}

std::optional<FileLock> ImagePins::LockFile() {
  const fs::path lock_file = file_.string() + ".lock";
  if (Status made = MakeDirectories(file_.parent_path()); !made.ok()) {
    Logger("executor").warn("file={} not locked: {}", lock_file.string(), made.message());
    return std::nullopt;
  }
  const auto give_up = std::chrono::steady_clock::now() + kLockWait;
  for (;;) {
    auto lock = FileLock::Acquire(lock_file, /*create=*/true, "held");
    if (lock.ok()) return std::move(lock).value();
    if (lock.status().code() != StatusCode::kFailedPrecondition ||
        std::chrono::steady_clock::now() > give_up) {
      Logger("executor")
          .warn("file={} not locked ({}): the image pins are written without it",
                lock_file.string(), lock.status().message());
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool ImagePins::MergeFile() {
  if (!fs::exists(file_)) return false;
  auto text = ReadFile(file_);
  nlohmann::json pins = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nullptr;
  if (!pins.is_object()) {
    Logger("executor")
        .warn("file={} unreadable: the sweeps' images are resolved again", file_.string());
    return false;
  }
  bool rewrite = false;
  for (const auto& [key, value] : pins.items()) {
    Pin read;
    if (value.is_string()) {
      // A pin written before last uses were kept: counted as used now.
      read = Pin{value.get<std::string>(), std::chrono::system_clock::now()};
      rewrite = true;
    } else if (value.is_object() && value.value("reference", nlohmann::json()).is_string() &&
               value.value("last_used_ms", nlohmann::json()).is_number_integer()) {
      read = Pin{value["reference"].get<std::string>(),
                 TimePoint(std::chrono::milliseconds(value["last_used_ms"].get<int64_t>()))};
    } else {
      Logger("executor").warn("file={} pin={} malformed: dropped", file_.string(), key);
      rewrite = true;
      continue;
    }
    auto [pin, added] = pins_.emplace(key, read);
    if (!added) pin->second.last_used = std::max(pin->second.last_used, read.last_used);
  }
  return rewrite;
}

int ImagePins::PruneUnused() {
  if (retention_.count() <= 0) return 0;
  const TimePoint now = std::chrono::system_clock::now();
  int pruned = 0;
  for (auto pin = pins_.begin(); pin != pins_.end();) {
    if (now - pin->second.last_used > retention_) {
      pin = pins_.erase(pin);
      ++pruned;
    } else {
      ++pin;
    }
  }
  if (pruned > 0) {
    Logger("executor")
        .info("file={} pruned={} image pins unused for more than {} h; kept={}", file_.string(),
              pruned, retention_.count(), pins_.size());
  }
  return pruned;
}

void ImagePins::Write() {
  nlohmann::json pins = nlohmann::json::object();
  for (const auto& [key, pin] : pins_) {
    pins[key] = {{"reference", pin.reference}, {"last_used_ms", EpochMillis(pin.last_used)}};
  }
  Status written = MakeDirectories(file_.parent_path());
  if (written.ok()) {
    written = WriteFileAtomic(file_, pins.dump(2) + "\n", Durability::kDurable);
  }
  WarnIfFailed("executor", written,
               "file={} not written: a retry after a restart may resolve a sweep's image again",
               file_.string());
}

}  // namespace trainyard::executor
