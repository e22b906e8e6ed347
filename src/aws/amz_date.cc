#include "aws/amz_date.h"

#include <cstdio>
#include <ctime>

namespace trainyard::aws {
namespace {

std::tm ToUtc(TimePoint time) {
  std::time_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return utc;
}

}  // namespace

std::string FormatAmzDate(TimePoint time) {
  std::tm utc = ToUtc(time);
  // By hand rather than strftime, which would consult the local time zone.
  char text[80];  // Sized for any int fields, to keep -Wformat-truncation quiet.
  std::snprintf(text, sizeof text, "%04d%02d%02dT%02d%02d%02dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text;
}

std::string FormatAmzDay(TimePoint time) {
  return FormatAmzDate(time).substr(0, 8);
}

}  // namespace trainyard::aws
