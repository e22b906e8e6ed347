// SageMaker's training job statuses: TrainingJobStatus (primary) and SecondaryStatus, with the
// moves between them that trainyard allows.
#pragma once

#include <string_view>

#include "common/status.h"

namespace trainyard::core {

enum class JobStatus { kInProgress, kCompleted, kFailed, kStopping, kStopped };

// botocore's SecondaryStatus enum also lists LaunchingMLInstances, PreparingTrainingStack and
// DownloadingTrainingImage (documented as no longer used) and Updating (undocumented); trainyard
// never reports them.
enum class SecondaryStatus {
  kStarting,
  kDownloading,
  kTraining,
  kUploading,
  kStopping,
  kStopped,
  kMaxRuntimeExceeded,
  kCompleted,
  kFailed,
  kInterrupted,
  kMaxWaitTimeExceeded,
  kRestarting,
};

// The API's spelling: "InProgress", "MaxRuntimeExceeded", ...
const char* ToString(JobStatus status);
const char* ToString(SecondaryStatus status);
// The API's spelling, exactly (case matters, as it does to the API).
Result<JobStatus> ParseJobStatus(std::string_view text);
Result<SecondaryStatus> ParseSecondaryStatus(std::string_view text);

// Completed, Failed and Stopped: nothing changes after them.
bool IsTerminal(JobStatus status);
bool IsTerminal(SecondaryStatus status);

// The primary status that goes with a secondary one, as DescribeTrainingJob's documentation
// groups them: Starting, Downloading, Training, Uploading, Restarting and also Interrupted
// (a spot interruption, after which the job resumes) are InProgress; Stopping is Stopping;
// Stopped, MaxRuntimeExceeded and MaxWaitTimeExceeded are Stopped; Completed and Failed are
// themselves.
JobStatus PrimaryStatusOf(SecondaryStatus status);

// Whether a job may move from one secondary status to another:
// - Starting, Downloading, Training, Uploading only move forward (Downloading is optional, and
//   so is any phase a job has nothing to do in); Completed comes after Training or Uploading.
// - Any non-terminal status may end as Failed, be stopped (Stopping, or directly Stopped,
//   MaxRuntimeExceeded or MaxWaitTimeExceeded, when the stop is seen only once it is done).
// - An InProgress status may be Interrupted or Restarting; both resume at Starting,
//   Downloading or Training, and Interrupted may also go to Restarting.
// - Stopping ends as Stopped, MaxRuntimeExceeded, MaxWaitTimeExceeded or Failed.
// - Nothing leaves a terminal status, and no status moves to itself.
bool CanTransition(SecondaryStatus from, SecondaryStatus to);

}  // namespace trainyard::core
