#include "server/s3/s3_conditions.h"

#include <ctime>

namespace trainyard::server::s3 {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// ETags compare without their quotes and without a weak W/ prefix, as S3 compares them.
std::string_view Bare(std::string_view tag) {
  tag = Trim(tag);
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
    tag = tag.substr(1, tag.size() - 2);
  }
  return tag;
}

int64_t Seconds(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

}  // namespace

bool EtagListMatches(std::string_view list, const std::string& etag) {
  if (Trim(list) == "*") return true;
  const std::string_view wanted = Bare(etag);
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (Bare(list.substr(0, comma)) == wanted) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<TimePoint> ParseHttpDate(std::string_view text) {
  std::string copy(Trim(text));
  std::tm parts{};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  time_t seconds = timegm(&parts);
  if (seconds == static_cast<time_t>(-1)) return std::nullopt;
  return TimePoint(std::chrono::seconds(seconds));
}

PreconditionResult EvaluatePreconditions(const HttpRequest& request, const std::string& etag,
                                         TimePoint last_modified) {
  // Last-Modified is sent to the second: compared to the second.
  const int64_t modified = Seconds(last_modified);
  const std::string& if_match = request.Header("if-match");
  if (!if_match.empty()) {
    if (!EtagListMatches(if_match, etag)) return {Precondition::kFailed, "If-Match"};
  } else if (auto since = ParseHttpDate(request.Header("if-unmodified-since"))) {
    if (modified > Seconds(*since)) return {Precondition::kFailed, "If-Unmodified-Since"};
  }
  const std::string& if_none_match = request.Header("if-none-match");
  if (!if_none_match.empty()) {
    if (EtagListMatches(if_none_match, etag)) return {Precondition::kNotModified, "If-None-Match"};
  } else if (auto since = ParseHttpDate(request.Header("if-modified-since"))) {
    if (modified <= Seconds(*since)) return {Precondition::kNotModified, "If-Modified-Since"};
  }
  return {};
}

}  // namespace trainyard::server::s3
