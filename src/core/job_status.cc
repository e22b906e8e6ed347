#include "core/job_status.h"

#include <array>
#include <string>
#include <utility>

namespace trainyard::core {
namespace {

constexpr std::array<std::pair<JobStatus, const char*>, 5> kJobStatusNames = {{
    {JobStatus::kInProgress, "InProgress"},
    {JobStatus::kCompleted, "Completed"},
    {JobStatus::kFailed, "Failed"},
    {JobStatus::kStopping, "Stopping"},
    {JobStatus::kStopped, "Stopped"},
}};

constexpr std::array<std::pair<SecondaryStatus, const char*>, 12> kSecondaryStatusNames = {{
    {SecondaryStatus::kStarting, "Starting"},
    {SecondaryStatus::kDownloading, "Downloading"},
    {SecondaryStatus::kTraining, "Training"},
    {SecondaryStatus::kUploading, "Uploading"},
    {SecondaryStatus::kStopping, "Stopping"},
    {SecondaryStatus::kStopped, "Stopped"},
    {SecondaryStatus::kMaxRuntimeExceeded, "MaxRuntimeExceeded"},
    {SecondaryStatus::kCompleted, "Completed"},
    {SecondaryStatus::kFailed, "Failed"},
    {SecondaryStatus::kInterrupted, "Interrupted"},
    {SecondaryStatus::kMaxWaitTimeExceeded, "MaxWaitTimeExceeded"},
    {SecondaryStatus::kRestarting, "Restarting"},
}};

template <typename Enum, size_t N>
const char* Name(const std::array<std::pair<Enum, const char*>, N>& names, Enum value) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "Unknown";
}

template <typename Enum, size_t N>
Result<Enum> Parse(const std::array<std::pair<Enum, const char*>, N>& names, std::string_view text,
                   const char* what) {
  std::string expected;
  for (const auto& [value, name] : names) {
    if (text == name) return value;
    expected.append(expected.empty() ? "" : ", ").append(name);
  }
  return InvalidArgument(std::string(what) + " '" + std::string(text) + "': expected one of " +
                         expected);
}

// The order of the phases of a run; -1 for the statuses outside it.
int Phase(SecondaryStatus status) {
  switch (status) {
    case SecondaryStatus::kStarting: return 0;
    case SecondaryStatus::kDownloading: return 1;
    case SecondaryStatus::kTraining: return 2;
    case SecondaryStatus::kUploading: return 3;
    default: return -1;
  }
}

}  // namespace

const char* ToString(JobStatus status) {
  return Name(kJobStatusNames, status);
}
const char* ToString(SecondaryStatus status) {
  return Name(kSecondaryStatusNames, status);
}

Result<JobStatus> ParseJobStatus(std::string_view text) {
  return Parse(kJobStatusNames, text, "training job status");
}

Result<SecondaryStatus> ParseSecondaryStatus(std::string_view text) {
  return Parse(kSecondaryStatusNames, text, "secondary status");
}

bool IsTerminal(JobStatus status) {
  return status == JobStatus::kCompleted || status == JobStatus::kFailed ||
         status == JobStatus::kStopped;
}

bool IsTerminal(SecondaryStatus status) {
  return IsTerminal(PrimaryStatusOf(status));
}

JobStatus PrimaryStatusOf(SecondaryStatus status) {
  switch (status) {
    case SecondaryStatus::kStarting:
    case SecondaryStatus::kDownloading:
    case SecondaryStatus::kTraining:
    case SecondaryStatus::kUploading:
    case SecondaryStatus::kInterrupted:
    case SecondaryStatus::kRestarting: return JobStatus::kInProgress;
    case SecondaryStatus::kStopping: return JobStatus::kStopping;
    case SecondaryStatus::kStopped:
    case SecondaryStatus::kMaxRuntimeExceeded:
    case SecondaryStatus::kMaxWaitTimeExceeded: return JobStatus::kStopped;
    case SecondaryStatus::kCompleted: return JobStatus::kCompleted;
    case SecondaryStatus::kFailed: return JobStatus::kFailed;
  }
  return JobStatus::kFailed;
}

bool CanTransition(SecondaryStatus from, SecondaryStatus to) {
  using S = SecondaryStatus;
  if (from == to || IsTerminal(from)) return false;
  // Endings open to every live status.
  if (to == S::kFailed || to == S::kStopped || to == S::kMaxRuntimeExceeded ||
      to == S::kMaxWaitTimeExceeded) {
    return true;
  }
  if (from == S::kStopping) return false;  // only the endings above
  if (to == S::kStopping) return true;
  if (from == S::kInterrupted || from == S::kRestarting) {
    return to == S::kStarting || to == S::kDownloading || to == S::kTraining ||
           to == S::kRestarting || to == S::kInterrupted;
  }
  // From a phase of the run.
  if (to == S::kInterrupted || to == S::kRestarting) return true;
  if (to == S::kCompleted) return from == S::kTraining || from == S::kUploading;
  return Phase(to) > Phase(from);
}

}  // namespace trainyard::core
