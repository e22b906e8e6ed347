// The CloudWatch Logs calls over /aws/sagemaker/TrainingJobs. GetLogEvents pages like
// CloudWatch: tokens "f/<position>/s" and "b/<position>/s" (56 digits, as CloudWatch's look),
// events always in ascending order, and at either end of the stream the token passed in comes
// back unchanged: readers such as the SageMaker SDK poll with nextForwardToken and stop when it
// repeats. Without a token, startFromHead=false (the default) gives the stream's last events.
// filterPattern supports CloudWatch's unstructured terms: words and "quoted phrases" that must
// all appear, ?words of which one must, and -words that must not (case-sensitive).
#include <algorithm>
#include <cstdio>
#include <functional>

#include "server/sagemaker/list_operations.h"

namespace trainyard::server::sagemaker {
namespace {
using nlohmann::json;

constexpr size_t kMaxEventsBytes = 1 << 20;  // a response holds at most 1 MB of events
constexpr size_t kEventOverheadBytes = 26;   // CloudWatch counts 26 bytes per event on top

std::optional<JsonReply> CheckLogGroup(const json& request) {
  if (request.contains("logGroupName") && request.contains("logGroupIdentifier")) {
    return LogsInvalidParameter(
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  }
  std::string group = request.value("logGroupName", request.value("logGroupIdentifier", ""));
  // The identifier may also be the group's ARN, with or without CloudWatch's ":*" suffix.
  auto ends_with = [&](const std::string& suffix) {
    return group.size() >= suffix.size() &&
           group.compare(group.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const std::string arn_suffix = std::string(":log-group:") + kTrainingJobsLogGroup;
  bool arn = group.rfind("arn:", 0) == 0 && (ends_with(arn_suffix) || ends_with(arn_suffix + ":*"));
  if (group != kTrainingJobsLogGroup && !arn) {
    return LogsResourceNotFound("The specified log group does not exist.");
  }
  return std::nullopt;
}

std::string StreamToken(char direction, uint64_t position) {
  char digits[64];
  std::snprintf(digits, sizeof digits, "%056llu", static_cast<unsigned long long>(position));
  return std::string(1, direction) + "/" + digits + "/s";
}

std::optional<std::pair<char, uint64_t>> ParseStreamToken(const std::string& token) {
  if (token.size() != 60 || (token[0] != 'f' && token[0] != 'b') || token[1] != '/' ||
      token.compare(58, 2, "/s") != 0) {
    return std::nullopt;
  }
  std::string digits = token.substr(2, 56);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.find_first_not_of('0') < 56 - 18) {
    return std::nullopt;
  }
  return std::make_pair(token[0], static_cast<uint64_t>(std::stoull(digits)));
}

struct Pattern {
  std::vector<std::string> all, any, none;
  bool Matches(const std::string& message) const {
    auto has = [&](const std::string& term) { return message.find(term) != std::string::npos; };
    if (!std::all_of(all.begin(), all.end(), has)) return false;
    if (!any.empty() && !std::any_of(any.begin(), any.end(), has)) return false;
    return std::none_of(none.begin(), none.end(), has);
  }
};

std::optional<Pattern> ParsePattern(const std::string& text) {
  Pattern pattern;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    if (text[i] == '{' || text[i] == '[') return std::nullopt;
    std::vector<std::string>* bucket = &pattern.all;
    if (text[i] == '?' || text[i] == '-') {
      bucket = text[i] == '?' ? &pattern.any : &pattern.none;
      ++i;
    }
    std::string term;
    if (i < text.size() && text[i] == '"') {
      size_t close = text.find('"', i + 1);
      if (close == std::string::npos) return std::nullopt;
      term = text.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      size_t end = text.find_first_of(" \t", i);
      if (end == std::string::npos) end = text.size();
      term = text.substr(i, end - i);
      i = end;
    }
    if (!term.empty()) bucket->push_back(term);
  }
  return pattern;
}

bool InRange(int64_t timestamp, const json& request, bool end_inclusive) {
  if (request.contains("startTime") && timestamp < request["startTime"].get<int64_t>()) {
    return false;
  }
  if (request.contains("endTime")) {
    int64_t end = request["endTime"].get<int64_t>();
    return end_inclusive ? timestamp <= end : timestamp < end;
  }
  return true;
}

}  // namespace

JsonReply DescribeLogStreams(TrainingJobs& jobs, const json& request, const LogsContext& context) {
  if (auto refused = CheckLogGroup(request)) return *refused;
  std::string prefix = request.value("logStreamNamePrefix", std::string());
  bool by_time = request.value("orderBy", std::string("LogStreamName")) == "LastEventTime";
  if (by_time && request.contains("logStreamNamePrefix")) {
    return LogsInvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  std::vector<LogStreamInfo> streams;
  for (LogStreamInfo& stream : jobs.LogStreams()) {
    if (stream.name.compare(0, prefix.size(), prefix) == 0) streams.push_back(std::move(stream));
  }
  if (by_time) {
    std::stable_sort(streams.begin(), streams.end(), [](const auto& a, const auto& b) {
      return a.last_event_ms.value_or(a.creation_ms) < b.last_event_ms.value_or(b.creation_ms);
    });
  }
  if (request.value("descending", false)) std::reverse(streams.begin(), streams.end());
  uint64_t start = 0;
  if (request.contains("nextToken")) {
    auto position = DecodePageToken("DescribeLogStreams", request["nextToken"].get<std::string>());
    if (!position) return LogsInvalidParameter("The specified nextToken is invalid.");
    start = *position;
  }
  size_t end = std::min<size_t>(streams.size(), start + request.value("limit", 50));
  json answer = {{"logStreams", json::array()}};
  for (size_t i = start; i < end; ++i) {
    const LogStreamInfo& stream = streams[i];
    json entry = {{"logStreamName", stream.name},
                  {"creationTime", stream.creation_ms},
                  {"arn", "arn:aws:logs:" + context.region + ":" + context.account_id +
                              ":log-group:" + kTrainingJobsLogGroup + ":log-stream:" + stream.name},
                  {"storedBytes", 0}};
    if (stream.first_event_ms) entry["firstEventTimestamp"] = *stream.first_event_ms;
    if (stream.last_event_ms) {
      entry["lastEventTimestamp"] = *stream.last_event_ms;
      entry["lastIngestionTime"] = *stream.last_event_ms;
    }
    answer["logStreams"].push_back(std::move(entry));
  }
  if (end < streams.size()) answer["nextToken"] = EncodePageToken("DescribeLogStreams", end);
  return JsonReply::Ok(std::move(answer));
}

JsonReply GetLogEvents(TrainingJobs& jobs, const json& request) {
  if (auto refused = CheckLogGroup(request)) return *refused;
  auto all = jobs.LogEventsOf(request["logStreamName"].get<std::string>());
  if (!all.ok() && all.status().code() == StatusCode::kNotFound) {
    return LogsResourceNotFound("The specified log stream does not exist.");
  }
  if (!all.ok()) return InternalFailure(all.status());
  std::vector<const LogEvent*> events;
  for (const LogEvent& event : *all) {
    if (InRange(event.timestamp_ms, request, false)) events.push_back(&event);
  }
  const uint64_t count = events.size();
  // Forward from the head, or backward from the end, unless a token says otherwise.
  std::pair<char, uint64_t> from = request.value("startFromHead", false)
                                       ? std::make_pair('f', uint64_t{0})
                                       : std::make_pair('b', count);
  if (request.contains("nextToken")) {
    auto token = ParseStreamToken(request["nextToken"].get<std::string>());
    if (!token) return LogsInvalidParameter("The specified nextToken is invalid.");
    from = {token->first, std::min(token->second, count)};
  }
  const size_t limit = static_cast<size_t>(request.value("limit", 10000));
  uint64_t first = from.second, last = from.second;  // the page is [first, last)
  size_t bytes = 0;
  auto fits = [&](uint64_t index) {
    size_t size = events[index]->message.size() + kEventOverheadBytes;
    if (last - first >= limit || (last > first && bytes + size > kMaxEventsBytes)) return false;
    bytes += size;
    return true;
  };
  if (from.first == 'f') {
    while (last < count && fits(last)) ++last;
  } else {
    while (first > 0 && fits(first - 1)) --first;
  }
  json answer = {{"events", json::array()},
                 {"nextForwardToken", StreamToken('f', last)},
                 {"nextBackwardToken", StreamToken('b', first)}};
  for (uint64_t i = first; i < last; ++i) {
    answer["events"].push_back({{"timestamp", events[i]->timestamp_ms},
                                {"message", events[i]->message},
                                {"ingestionTime", events[i]->timestamp_ms}});
  }
  return JsonReply::Ok(std::move(answer));
}

JsonReply FilterLogEvents(TrainingJobs& jobs, const json& request) {
  if (auto refused = CheckLogGroup(request)) return *refused;
  if (request.contains("logStreamNames") && request.contains("logStreamNamePrefix")) {
    return LogsInvalidParameter("logStreamNames and logStreamNamePrefix cannot both be given.");
  }
  std::optional<Pattern> pattern = ParsePattern(request.value("filterPattern", std::string()));
  if (!pattern) {
    return LogsInvalidParameter(
        "trainyard supports filterPattern terms, \"quoted phrases\", "
        "?optional and -excluded terms; not JSON or space-delimited "
        "patterns.");
  }
  std::vector<std::string> names = request.value("logStreamNames", std::vector<std::string>());
  std::string prefix = request.value("logStreamNamePrefix", std::string());
  struct Found {
    const LogEvent* event;
    const std::string* stream;
  };
  std::vector<std::pair<std::string, std::vector<LogEvent>>> read;
  for (const LogStreamInfo& stream : jobs.LogStreams()) {
    bool wanted = names.empty() ? stream.name.compare(0, prefix.size(), prefix) == 0
                                : std::find(names.begin(), names.end(), stream.name) != names.end();
    if (!wanted) continue;
    auto events = jobs.LogEventsOf(stream.name);
    if (!events.ok() && events.status().code() != StatusCode::kNotFound) {
      return InternalFailure(events.status());
    }
    if (events.ok()) read.emplace_back(stream.name, std::move(events).value());
  }
  std::vector<Found> found;
  for (const auto& [stream, events] : read) {
    for (const LogEvent& event : events) {
      if (InRange(event.timestamp_ms, request, true) && pattern->Matches(event.message)) {
        found.push_back({&event, &stream});
      }
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.event->timestamp_ms < b.event->timestamp_ms;
  });
  uint64_t start = 0;
  if (request.contains("nextToken")) {
    auto position = DecodePageToken("FilterLogEvents", request["nextToken"].get<std::string>());
    if (!position) return LogsInvalidParameter("The specified nextToken is invalid.");
    start = *position;
  }
  size_t end = std::min<size_t>(found.size(), start + request.value("limit", 10000));
  json answer = {{"events", json::array()}, {"searchedLogStreams", json::array()}};
  for (size_t i = start; i < end; ++i) {
    const Found& hit = found[i];
    char line[16];
    std::snprintf(line, sizeof line, "%010llu", static_cast<unsigned long long>(hit.event->line));
    std::string event_id =
        std::to_string(std::hash<std::string>{}(*hit.stream) % 1000000000000ull) + line;
    answer["events"].push_back({{"logStreamName", *hit.stream},
                                {"timestamp", hit.event->timestamp_ms},
                                {"message", hit.event->message},
                                {"ingestionTime", hit.event->timestamp_ms},
                                {"eventId", event_id}});
  }
  if (end < found.size()) answer["nextToken"] = EncodePageToken("FilterLogEvents", end);
  return JsonReply::Ok(std::move(answer));
}

}  // namespace trainyard::server::sagemaker
