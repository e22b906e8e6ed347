#include "aws/json_credentials.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace trainyard::aws {

namespace {

// A string member, or an error naming it; `required` members must be non-empty.
Status ReadString(const nlohmann::json& document, const char* name, bool required,
                  std::string* out) {
  auto found = document.find(name);
  if (found == document.end() || found->is_null()) {
    return required ? InvalidArgument(std::string("field '") + name + "' is missing")
                    : Status::Ok();
  }
  if (!found->is_string())
    return InvalidArgument(std::string("field '") + name + "' is not a string");
  *out = found->get<std::string>();
  if (required && out->empty())
    return InvalidArgument(std::string("field '") + name + "' is empty");
  return Status::Ok();
}

}  // namespace

Result<TimePoint> ParseIso8601Utc(const std::string& text) {
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return InvalidArgument("'" + text + "' is not an ISO 8601 time (2016-02-25T06:03:31Z)");
  }
  size_t position = 19;
  if (position < text.size() && text[position] == '.') {
    ++position;
    while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
      ++position;  // sub-second precision is irrelevant to an expiry
    }
  }
  std::string zone = text.substr(position);
  long offset_seconds = 0;
  if (zone == "Z" || zone == "z") {
    offset_seconds = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int zone_hours = 0, zone_minutes = 0;
    if (std::sscanf(zone.c_str() + 1, "%2d:%2d", &zone_hours, &zone_minutes) != 2) {
      return InvalidArgument("'" + text + "' has a bad UTC offset");
    }
    offset_seconds = (zone_hours * 3600L + zone_minutes * 60L) * (zone[0] == '-' ? -1 : 1);
  } else {
    return InvalidArgument("'" + text + "' has no time zone (Z or +hh:mm)");
  }
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return InvalidArgument("'" + text + "' is not a valid date and time");
  }
  time_t seconds = ::timegm(&parts) - offset_seconds;
  return std::chrono::system_clock::from_time_t(seconds);
}

Result<TimedCredentials> ParseJsonCredentials(const std::string& body, const std::string& what,
                                              const std::string& source) {
  // No exceptions: parse(..., allow_exceptions=false) gives a discarded value on bad input.
  nlohmann::json document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return Unavailable(what + ": the answer is not a JSON object");
  }
  TimedCredentials result;
  result.source = source;
  std::string code, expiration;
  Status status = ReadString(document, "Code", false, &code);
  // IMDS reports failures in-band: {"Code": "AssumeRoleUnauthorizedAccess", ...}.
  if (status.ok() && !code.empty() && code != "Success") {
    return Unavailable(what + ": the answer's Code is '" + code + "'");
  }
  if (status.ok())
    status = ReadString(document, "AccessKeyId", true, &result.credentials.access_key_id);
  if (status.ok()) {
    status = ReadString(document, "SecretAccessKey", true, &result.credentials.secret_access_key);
  }
  if (status.ok()) status = ReadString(document, "Token", false, &result.credentials.session_token);
  if (status.ok()) status = ReadString(document, "Expiration", false, &expiration);
  if (!status.ok()) return Unavailable(what + ": " + status.message());
  if (!expiration.empty()) {
    auto parsed = ParseIso8601Utc(expiration);
    if (!parsed.ok()) return Unavailable(what + ": Expiration: " + parsed.status().message());
    result.expiration = *parsed;
  }
  return result;
}

}  // namespace trainyard::aws
