#include "core/job_status_tracker.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

#include "common/utf8.h"

namespace trainyard::core {
namespace {

// Reads exactly what FormatIso8601 writes: "2026-11-27T18:32:33.120Z".
Result<TimePoint> ParseTime(const nlohmann::json& json, const std::string& field) {
  std::tm parts{};
  int millis = 0, consumed = 0;
  if (!json.is_string() ||
      std::sscanf(json.get_ref<const std::string&>().c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n",
                  &parts.tm_year, &parts.tm_mon, &parts.tm_mday, &parts.tm_hour, &parts.tm_min,
                  &parts.tm_sec, &millis, &consumed) != 7 ||
      static_cast<size_t>(consumed) != json.get_ref<const std::string&>().size()) {
    return InvalidArgument("'" + field + "' is not an ISO 8601 UTC time: " + json.dump());
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&parts)) +
         std::chrono::milliseconds(millis);
}

Result<SecondaryStatus> ParseStatus(const nlohmann::json& json, const std::string& field) {
  if (!json.is_string()) return InvalidArgument("'" + field + "' is not a string");
  return ParseSecondaryStatus(json.get_ref<const std::string&>());
}

// `name` names the array in errors ("transitions[1].start_time").
Result<std::vector<StatusTransition>> ReadTransitions(const nlohmann::json& json,
                                                      const std::string& name) {
  if (!json.is_array()) return InvalidArgument("'" + name + "' is not an array");
  std::vector<StatusTransition> transitions;
  transitions.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    const nlohmann::json& entry = json[i];
    std::string field = name + "[" + std::to_string(i) + "]";
    if (!entry.is_object()) return InvalidArgument("'" + field + "' is not an object");
    StatusTransition transition;
    TY_ASSIGN_OR_RETURN(transition.status,
                        ParseStatus(entry.value("status", nlohmann::json()), field + ".status"));
    TY_ASSIGN_OR_RETURN(
        transition.start_time,
        ParseTime(entry.value("start_time", nlohmann::json()), field + ".start_time"));
    if (entry.contains("end_time")) {
      TY_ASSIGN_OR_RETURN(transition.end_time, ParseTime(entry["end_time"], field + ".end_time"));
    }
    const nlohmann::json& message = entry.value("status_message", nlohmann::json(""));
    if (!message.is_string()) return InvalidArgument("'" + field + ".status_message' is not text");
    transition.message = message.get<std::string>();
    transitions.push_back(std::move(transition));
  }
  return transitions;
}

}  // namespace

nlohmann::json TransitionsToJson(const std::vector<StatusTransition>& transitions) {
  nlohmann::json json = nlohmann::json::array();
  for (const StatusTransition& transition : transitions) {
    nlohmann::json entry = {{"status", ToString(transition.status)},
                            {"start_time", FormatIso8601(transition.start_time)},
                            {"status_message", transition.message}};
    if (transition.end_time) entry["end_time"] = FormatIso8601(*transition.end_time);
    json.push_back(std::move(entry));
  }
  return json;
}

Result<std::vector<StatusTransition>> TransitionsFromJson(const nlohmann::json& json) {
  return ReadTransitions(json, "transitions");
}

JobStatusTracker::JobStatusTracker(TimePoint created, std::string message)
    : creation_time_(created), last_modified_time_(created) {
  transitions_.push_back({SecondaryStatus::kStarting, created, std::nullopt, ToValidUtf8(message)});
}

Status JobStatusTracker::Transition(SecondaryStatus next, TimePoint now, std::string message) {
  const SecondaryStatus current = secondary_status();
  if (!CanTransition(current, next)) {
    std::string why = IsTerminal(current) ? "the job has ended" : "not a move a job makes";
    return FailedPrecondition(std::string("cannot move from ") + ToString(current) + " to " +
                              ToString(next) + ": " + why);
  }
  message = ToValidUtf8(message);
  now = std::max(now, transitions_.back().start_time);
  transitions_.back().end_time = now;
  std::optional<TimePoint> end;
  if (IsTerminal(next)) end = now;
  if (next == SecondaryStatus::kFailed) failure_reason_ = message;
  transitions_.push_back({next, now, end, std::move(message)});
  last_modified_time_ = now;
  return Status::Ok();
}

Status JobStatusTracker::Fail(std::string failure_reason, TimePoint now) {
  return Transition(SecondaryStatus::kFailed, now, std::move(failure_reason));
}

Status JobStatusTracker::SetStatusMessage(std::string message, TimePoint now) {
  if (IsTerminal(secondary_status())) {
    return FailedPrecondition(std::string("cannot change the message of ") +
                              ToString(secondary_status()) + ": the job has ended");
  }
  transitions_.back().message = ToValidUtf8(message);
  last_modified_time_ = std::max(now, last_modified_time_);
  return Status::Ok();
}

std::optional<TimePoint> JobStatusTracker::end_time() const {
  if (!IsTerminal(secondary_status())) return std::nullopt;
  return transitions_.back().start_time;
}

nlohmann::json JobStatusTracker::ToJson() const {
  nlohmann::json json = {{"status", ToString(status())},
                         {"secondary_status", ToString(secondary_status())},
                         {"creation_time", FormatIso8601(creation_time_)},
                         {"last_modified_time", FormatIso8601(last_modified_time_)},
                         {"secondary_status_transitions", TransitionsToJson(transitions_)}};
  if (!failure_reason_.empty()) json["failure_reason"] = failure_reason_;
  if (std::optional<TimePoint> end = end_time()) json["end_time"] = FormatIso8601(*end);
  return json;
}

Result<JobStatusTracker> JobStatusTracker::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InvalidArgument("a job status is a JSON object");
  const nlohmann::json& entries = json.value("secondary_status_transitions", nlohmann::json());
  if (!entries.is_array() || entries.empty()) {
    return InvalidArgument("'secondary_status_transitions' is not a non-empty array");
  }
  TY_ASSIGN_OR_RETURN(TimePoint created,
                      ParseTime(json.value("creation_time", nlohmann::json()), "creation_time"));
  TY_ASSIGN_OR_RETURN(
      TimePoint modified,
      ParseTime(json.value("last_modified_time", nlohmann::json()), "last_modified_time"));
  JobStatusTracker tracker(created);
  TY_ASSIGN_OR_RETURN(tracker.transitions_,
                      ReadTransitions(entries, "secondary_status_transitions"));
  tracker.last_modified_time_ = modified;
  const nlohmann::json& reason = json.value("failure_reason", nlohmann::json(""));
  if (!reason.is_string()) return InvalidArgument("'failure_reason' is not text");
  tracker.failure_reason_ = reason.get<std::string>();
  return tracker;
}

}  // namespace trainyard::core
