#include "common/time_format.h"

#include <cstdio>
#include <ctime>

namespace trainyard {
namespace {

// Reads exactly `digits` decimal digits at `text[*at]`.
bool ReadDigits(std::string_view text, size_t* at, int digits, int* value) {
  if (*at + digits > text.size()) return false;
  *value = 0;
  for (int i = 0; i < digits; ++i) {
    char c = text[*at + i];
    if (c < '0' || c > '9') return false;
    *value = *value * 10 + (c - '0');
  }
  *at += digits;
  return true;
}

bool ReadChar(std::string_view text, size_t* at, char expected) {
  if (*at >= text.size() || text[*at] != expected) return false;
  ++*at;
  return true;
}

}  // namespace

std::string FormatIso8601(TimePoint time) {
  auto since_epoch = time.time_since_epoch();
  // Floored, so that a time before 1970 has its milliseconds in 0..999 too.
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
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

std::optional<TimePoint> ParseIso8601(std::string_view text) {
  size_t at = 0;
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, &at, 4, &year) || !ReadChar(text, &at, '-') ||
      !ReadDigits(text, &at, 2, &month) || !ReadChar(text, &at, '-') ||
      !ReadDigits(text, &at, 2, &day) || !ReadChar(text, &at, 'T') ||
      !ReadDigits(text, &at, 2, &hour) || !ReadChar(text, &at, ':') ||
      !ReadDigits(text, &at, 2, &minute) || !ReadChar(text, &at, ':') ||
      !ReadDigits(text, &at, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  int millis = 0;
  if (ReadChar(text, &at, '.')) {
    int digits = 0;
    for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
      if (digits < 3) millis = millis * 10 + (text[at] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (!ReadChar(text, &at, 'Z') || at != text.size()) return std::nullopt;
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  // Only times a TimePoint holds (1678 to 2261 with nanoseconds), which FormatIso8601 writes back
  // as they were read. A leap second (:60) is refused for the same reason.
  std::time_t seconds_since_epoch = timegm(&parts);
  constexpr auto kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max());
  if (seconds_since_epoch <= -kLimit.count() || seconds_since_epoch >= kLimit.count()) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(seconds_since_epoch) +
         std::chrono::milliseconds(millis);
}

}  // namespace trainyard
