#include "executor/container/image_pins.h"

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"
#include "common/time_format.h"

namespace trainyard::executor {
namespace fs = std::filesystem;

namespace {
// A pin's last use is written again (a synced write) at most this often, not at every job.
constexpr std::chrono::hours kTouchInterval{1};

std::string Key(const std::string& sweep_id, const std::string& image) {
  return sweep_id + "\n" + image;
}
}  // namespace

ImagePins::ImagePins(fs::path file, std::chrono::hours retention)
    : file_(std::move(file)), retention_(retention) {
  Load();
}

void ImagePins::Load() {
  if (!fs::exists(file_)) return;
  auto text = ReadFile(file_);
  nlohmann::json pins = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nullptr;
  if (!pins.is_object()) {
    Logger("executor")
        .warn("file={} unreadable: the sweeps' images are resolved again", file_.string());
    return;
  }
  const TimePoint now = std::chrono::system_clock::now();
  bool rewrite = false;
  std::lock_guard lock(mutex_);
  for (const auto& [key, value] : pins.items()) {
    if (value.is_string()) {
      // A pin written before last uses were kept: counted as used now.
      pins_[key] = Pin{value.get<std::string>(), now};
      rewrite = true;
      continue;
    }
    if (!value.is_object() || !value.value("reference", nlohmann::json()).is_string() ||
        !value.value("last_used_ms", nlohmann::json()).is_number_integer()) {
      Logger("executor").warn("file={} pin={} malformed: dropped", file_.string(), key);
      rewrite = true;
      continue;
    }
    pins_[key] = Pin{value["reference"].get<std::string>(),
                     TimePoint(std::chrono::milliseconds(value["last_used_ms"].get<int64_t>()))};
  }
  if (PruneUnused() > 0 || rewrite) Save();
}

std::optional<std::string> ImagePins::Find(const std::string& sweep_id, const std::string& image) {
  if (sweep_id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto pin = pins_.find(Key(sweep_id, image));
  if (pin == pins_.end()) return std::nullopt;
  const TimePoint now = std::chrono::system_clock::now();
  if (now - pin->second.last_used >= kTouchInterval) {
    pin->second.last_used = now;
    Save();
  }
  return pin->second.reference;
}

std::string ImagePins::Add(const std::string& sweep_id, const std::string& image,
                           const std::string& reference) {
  if (sweep_id.empty()) return reference;
  std::lock_guard lock(mutex_);
  auto [pin, added] =
      pins_.emplace(Key(sweep_id, image), Pin{reference, std::chrono::system_clock::now()});
  if (added) {
    PruneUnused();
    Save();
  }
  return pin->second.reference;
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

void ImagePins::Save() {
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
