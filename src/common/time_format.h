// Timestamps as trainyard writes them everywhere: ISO 8601 UTC with milliseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trainyard {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-11-27T18:32:33.120Z"
std::string FormatIso8601(TimePoint time);

// Reads what FormatIso8601 writes, and the same without milliseconds or with another number of
// fraction digits ("2026-11-27T18:32:33Z", "...:33.120456Z": kept to the millisecond). Only UTC
// ("Z"); nullopt for anything else.
std::optional<TimePoint> ParseIso8601(std::string_view text);

// Milliseconds since the Unix epoch, as the records on disk keep times.
inline int64_t EpochMillis(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

}  // namespace trainyard
