#include "core/job_status_tracker.h"

#include <algorithm>

#include "core/utf8.h"

namespace trainyard::core {

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
  nlohmann::json transitions = nlohmann::json::array();
  for (const StatusTransition& transition : transitions_) {
    nlohmann::json entry = {{"status", ToString(transition.status)},
                            {"start_time", FormatIso8601(transition.start_time)},
                            {"status_message", transition.message}};
    if (transition.end_time) entry["end_time"] = FormatIso8601(*transition.end_time);
    transitions.push_back(std::move(entry));
  }
  nlohmann::json json = {{"status", ToString(status())},
                         {"secondary_status", ToString(secondary_status())},
                         {"creation_time", FormatIso8601(creation_time_)},
                         {"last_modified_time", FormatIso8601(last_modified_time_)},
                         {"secondary_status_transitions", std::move(transitions)}};
  if (!failure_reason_.empty()) json["failure_reason"] = failure_reason_;
  if (std::optional<TimePoint> end = end_time()) json["end_time"] = FormatIso8601(*end);
  return json;
}

}  // namespace trainyard::core
