#include "core/job_status.h"

#include <gtest/gtest.h>

#include <vector>

namespace trainyard::core {
namespace {

using S = SecondaryStatus;

const std::vector<S>& AllSecondary() {
  static const std::vector<S> all = {S::kStarting,
                                     S::kDownloading,
                                     S::kTraining,
                                     S::kUploading,
                                     S::kStopping,
                                     S::kStopped,
                                     S::kMaxRuntimeExceeded,
                                     S::kCompleted,
                                     S::kFailed,
                                     S::kInterrupted,
                                     S::kMaxWaitTimeExceeded,
                                     S::kRestarting};
  return all;
}

TEST(JobStatusTest, NamesRoundTrip) {
  for (JobStatus status : {JobStatus::kInProgress, JobStatus::kCompleted, JobStatus::kFailed,
                           JobStatus::kStopping, JobStatus::kStopped}) {
    EXPECT_EQ(*ParseJobStatus(ToString(status)), status);
  }
  for (S status : AllSecondary()) EXPECT_EQ(*ParseSecondaryStatus(ToString(status)), status);
  EXPECT_STREQ(ToString(JobStatus::kInProgress), "InProgress");
  EXPECT_STREQ(ToString(S::kMaxRuntimeExceeded), "MaxRuntimeExceeded");
  EXPECT_STREQ(ToString(S::kMaxWaitTimeExceeded), "MaxWaitTimeExceeded");
}

TEST(JobStatusTest, ParseRefusesOtherSpellings) {
  EXPECT_EQ(ParseJobStatus("inprogress").status().message(),
            "training job status 'inprogress': expected one of InProgress, Completed, Failed, "
            "Stopping, Stopped");
  EXPECT_EQ(ParseSecondaryStatus("LaunchingMLInstances").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseSecondaryStatus("").ok());
}

TEST(JobStatusTest, PrimaryStatusOfEachSecondary) {
  EXPECT_EQ(PrimaryStatusOf(S::kStarting), JobStatus::kInProgress);
  EXPECT_EQ(PrimaryStatusOf(S::kDownloading), JobStatus::kInProgress);
  EXPECT_EQ(PrimaryStatusOf(S::kTraining), JobStatus::kInProgress);
  EXPECT_EQ(PrimaryStatusOf(S::kUploading), JobStatus::kInProgress);
  EXPECT_EQ(PrimaryStatusOf(S::kRestarting), JobStatus::kInProgress);
  EXPECT_EQ(PrimaryStatusOf(S::kInterrupted), JobStatus::kInProgress);
  EXPECT_EQ(PrimaryStatusOf(S::kStopping), JobStatus::kStopping);
  EXPECT_EQ(PrimaryStatusOf(S::kStopped), JobStatus::kStopped);
  EXPECT_EQ(PrimaryStatusOf(S::kMaxRuntimeExceeded), JobStatus::kStopped);
  EXPECT_EQ(PrimaryStatusOf(S::kMaxWaitTimeExceeded), JobStatus::kStopped);
  EXPECT_EQ(PrimaryStatusOf(S::kCompleted), JobStatus::kCompleted);
  EXPECT_EQ(PrimaryStatusOf(S::kFailed), JobStatus::kFailed);
}

TEST(JobStatusTest, Terminal) {
  EXPECT_FALSE(IsTerminal(JobStatus::kInProgress));
  EXPECT_FALSE(IsTerminal(JobStatus::kStopping));
  EXPECT_TRUE(IsTerminal(JobStatus::kCompleted));
  EXPECT_TRUE(IsTerminal(JobStatus::kFailed));
  EXPECT_TRUE(IsTerminal(JobStatus::kStopped));
}

TEST(JobStatusTest, NothingLeavesATerminalStatusOrMovesToItself) {
  for (S from : AllSecondary()) {
    EXPECT_FALSE(CanTransition(from, from)) << ToString(from);
    if (!IsTerminal(from)) continue;
    for (S to : AllSecondary()) {
      EXPECT_FALSE(CanTransition(from, to)) << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST(JobStatusTest, EveryLiveStatusCanFailOrBeStopped) {
  for (S from : AllSecondary()) {
    if (IsTerminal(from)) continue;
    for (S to : {S::kFailed, S::kStopped, S::kMaxRuntimeExceeded, S::kMaxWaitTimeExceeded}) {
      EXPECT_TRUE(CanTransition(from, to)) << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST(JobStatusTest, PhasesOnlyMoveForward) {
  EXPECT_TRUE(CanTransition(S::kStarting, S::kDownloading));
  EXPECT_TRUE(CanTransition(S::kStarting, S::kTraining));  // no input to download
  EXPECT_TRUE(CanTransition(S::kDownloading, S::kTraining));
  EXPECT_TRUE(CanTransition(S::kTraining, S::kUploading));
  EXPECT_TRUE(CanTransition(S::kUploading, S::kCompleted));
  EXPECT_TRUE(CanTransition(S::kTraining, S::kCompleted));
  EXPECT_FALSE(CanTransition(S::kTraining, S::kDownloading));
  EXPECT_FALSE(CanTransition(S::kUploading, S::kTraining));
  EXPECT_FALSE(CanTransition(S::kStarting, S::kCompleted));
  EXPECT_FALSE(CanTransition(S::kDownloading, S::kCompleted));
}

TEST(JobStatusTest, StoppingOnlyEnds) {
  EXPECT_TRUE(CanTransition(S::kTraining, S::kStopping));
  EXPECT_TRUE(CanTransition(S::kStarting, S::kStopping));
  EXPECT_FALSE(CanTransition(S::kStopping, S::kTraining));
  EXPECT_FALSE(CanTransition(S::kStopping, S::kUploading));
  EXPECT_FALSE(CanTransition(S::kStopping, S::kCompleted));
  EXPECT_FALSE(CanTransition(S::kStopping, S::kInterrupted));
  EXPECT_TRUE(CanTransition(S::kStopping, S::kMaxRuntimeExceeded));
}

TEST(JobStatusTest, InterruptionsResume) {
  EXPECT_TRUE(CanTransition(S::kTraining, S::kInterrupted));
  EXPECT_TRUE(CanTransition(S::kInterrupted, S::kRestarting));
  EXPECT_TRUE(CanTransition(S::kInterrupted, S::kTraining));
  EXPECT_TRUE(CanTransition(S::kRestarting, S::kStarting));
  EXPECT_TRUE(CanTransition(S::kTraining, S::kRestarting));
  EXPECT_FALSE(CanTransition(S::kInterrupted, S::kCompleted));
  EXPECT_FALSE(CanTransition(S::kRestarting, S::kUploading));
}

}  // namespace
}  // namespace trainyard::core
