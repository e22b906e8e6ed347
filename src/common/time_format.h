// Timestamps as trainyard writes them everywhere: ISO 8601 UTC with milliseconds.
#pragma once

#include <chrono>
#include <string>

namespace trainyard {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-11-27T18:32:33.120Z"
std::string FormatIso8601(TimePoint time);

}  // namespace trainyard
