// One job's status history, kept the way DescribeTrainingJob reports it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time_format.h"
#include "core/job_status.h"

namespace trainyard::core {

// One entry of SecondaryStatusTransitions.
struct StatusTransition {
  SecondaryStatus status;
  TimePoint start_time;
  std::optional<TimePoint> end_time;  // unset while this is the current status
  std::string message;

  bool operator==(const StatusTransition&) const = default;
};

// SecondaryStatusTransitions as the API shows them and the metadata store keeps them:
// [{"status", "start_time", "end_time" (when ended), "status_message"}], times in ISO 8601.
nlohmann::json TransitionsToJson(const std::vector<StatusTransition>& transitions);
// The inverse of TransitionsToJson(), to the millisecond; an empty array is an empty list.
// InvalidArgument, naming the entry and field ("[1].start_time"), for anything
// TransitionsToJson() would not write: not an array, unknown statuses, bad times.
Result<std::vector<StatusTransition>> TransitionsFromJson(const nlohmann::json& json);

// Not thread-safe: callers lock. Times are always passed in. A time earlier than the current
// transition's start (a wall clock stepped back) is taken as that start, so that no entry ever
// ends before it began. Messages that are not valid UTF-8 (a cut stderr tail) have the bad
// bytes replaced by U+FFFD, so that ToJson() can always be written out.
class JobStatusTracker {
 public:
  // InProgress, Starting since `created`.
  explicit JobStatusTracker(TimePoint created, std::string message = "");

  // Moves to `next` at `now`: the current transition ends at `now` and a new one opens. The
  // primary status follows PrimaryStatusOf(next). A terminal transition ends as it starts
  // (SageMaker shows the final status with both times), and sets end_time(). Moving to Failed
  // records `message` as the failure reason, as Fail() does. Refused (FailedPrecondition,
  // naming both statuses): any move CanTransition refuses, including every move out of a
  // terminal status.
  Status Transition(SecondaryStatus next, TimePoint now, std::string message = "");

  // Ends the job as Failed with `failure_reason` (also the transition's message), from any
  // non-terminal status.
  Status Fail(std::string failure_reason, TimePoint now);

  // Replaces the current transition's message ("Downloading the training image" and then
  // "Training image download completed. Training in progress." are both Training), as
  // SageMaker does, without a new transition. Refused once the job has ended.
  Status SetStatusMessage(std::string message, TimePoint now);

  JobStatus status() const { return PrimaryStatusOf(secondary_status()); }
  SecondaryStatus secondary_status() const { return transitions_.back().status; }
  const std::vector<StatusTransition>& transitions() const { return transitions_; }
  // Empty unless the job failed (and possibly then: a failure may come without a reason).
  const std::string& failure_reason() const { return failure_reason_; }
  TimePoint creation_time() const { return creation_time_; }
  TimePoint last_modified_time() const { return last_modified_time_; }
  // When the job reached a terminal status; unset before.
  std::optional<TimePoint> end_time() const;

  // {"status", "secondary_status", "failure_reason" (when not empty), "creation_time",
  //  "last_modified_time", "end_time" (when terminal), "secondary_status_transitions":
  //  [{"status", "start_time", "end_time" (when ended), "status_message"}]}, times in ISO 8601.
  nlohmann::json ToJson() const;
  // The inverse of ToJson(), to the millisecond: restores a tracker from what ToJson() wrote
  // (a job followed again after a restart). InvalidArgument, naming the field, for anything
  // ToJson() would not write: unknown statuses, bad times, no transitions.
  static Result<JobStatusTracker> FromJson(const nlohmann::json& json);

 private:
  TimePoint creation_time_;
  TimePoint last_modified_time_;
  std::vector<StatusTransition> transitions_;  // never empty
  std::string failure_reason_;
};

}  // namespace trainyard::core
