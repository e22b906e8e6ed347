#include "common/time_format.h"

#include <cstdio>
#include <ctime>

namespace trainyard {

std::string FormatIso8601(TimePoint time) {
  auto since_epoch = time.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  std::time_t t = seconds.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  // Formatted by hand: strftime would load the local time zone (tzset) for a UTC time.
  char result[48];
  std::snprintf(result, sizeof result, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis.count()));
  return result;
}

}  // namespace trainyard
