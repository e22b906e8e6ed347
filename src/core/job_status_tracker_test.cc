#include "core/job_status_tracker.h"

#include <gtest/gtest.h>

#include <chrono>

namespace trainyard::core {
namespace {

using S = SecondaryStatus;
using std::chrono::seconds;

// 2026-11-27T18:32:33.120Z
const TimePoint kCreated = TimePoint(std::chrono::milliseconds(1795804353120));

TEST(JobStatusTrackerTest, StartsInProgressStarting) {
  JobStatusTracker tracker(kCreated, "Starting the training job");
  EXPECT_EQ(tracker.status(), JobStatus::kInProgress);
  EXPECT_EQ(tracker.secondary_status(), S::kStarting);
  ASSERT_EQ(tracker.transitions().size(), 1u);
  EXPECT_EQ(tracker.transitions()[0].start_time, kCreated);
  EXPECT_FALSE(tracker.transitions()[0].end_time);
  EXPECT_EQ(tracker.transitions()[0].message, "Starting the training job");
  EXPECT_FALSE(tracker.end_time());
  EXPECT_EQ(tracker.creation_time(), kCreated);
}

TEST(JobStatusTrackerTest, SuccessfulPath) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kDownloading, kCreated + seconds(10)).ok());
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(20), "Training").ok());
  EXPECT_EQ(tracker.status(), JobStatus::kInProgress);
  ASSERT_TRUE(tracker.Transition(S::kUploading, kCreated + seconds(80)).ok());
  ASSERT_TRUE(tracker.Transition(S::kCompleted, kCreated + seconds(90), "Done").ok());

  EXPECT_EQ(tracker.status(), JobStatus::kCompleted);
  EXPECT_EQ(tracker.secondary_status(), S::kCompleted);
  EXPECT_EQ(tracker.end_time(), kCreated + seconds(90));
  EXPECT_EQ(tracker.last_modified_time(), kCreated + seconds(90));
  EXPECT_TRUE(tracker.failure_reason().empty());
  const auto& transitions = tracker.transitions();
  ASSERT_EQ(transitions.size(), 5u);
  EXPECT_EQ(transitions[0].end_time, kCreated + seconds(10));
  EXPECT_EQ(transitions[1].start_time, kCreated + seconds(10));
  EXPECT_EQ(transitions[1].end_time, kCreated + seconds(20));
  EXPECT_EQ(transitions[3].end_time, kCreated + seconds(90));
  // The final status shows both times, equal.
  EXPECT_EQ(transitions[4].start_time, kCreated + seconds(90));
  EXPECT_EQ(transitions[4].end_time, kCreated + seconds(90));
  EXPECT_EQ(transitions[4].message, "Done");
}

TEST(JobStatusTrackerTest, FailureFromTraining) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(5)).ok());
  ASSERT_TRUE(tracker.Fail("AlgorithmError: division by zero", kCreated + seconds(9)).ok());
  EXPECT_EQ(tracker.status(), JobStatus::kFailed);
  EXPECT_EQ(tracker.secondary_status(), S::kFailed);
  EXPECT_EQ(tracker.failure_reason(), "AlgorithmError: division by zero");
  EXPECT_EQ(tracker.end_time(), kCreated + seconds(9));
  EXPECT_EQ(tracker.transitions().back().message, "AlgorithmError: division by zero");

  Status again = tracker.Fail("twice", kCreated + seconds(10));
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(), "cannot move from Failed to Failed: the job has ended");
  EXPECT_EQ(tracker.failure_reason(), "AlgorithmError: division by zero");
}

TEST(JobStatusTrackerTest, FailWhileStopping) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kStopping, kCreated + seconds(1)).ok());
  ASSERT_TRUE(tracker.Fail("upload failed", kCreated + seconds(2)).ok());
  EXPECT_EQ(tracker.status(), JobStatus::kFailed);
}

TEST(JobStatusTrackerTest, StopPath) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(5)).ok());
  ASSERT_TRUE(tracker.Transition(S::kStopping, kCreated + seconds(6)).ok());
  EXPECT_EQ(tracker.status(), JobStatus::kStopping);
  EXPECT_FALSE(tracker.end_time());
  ASSERT_TRUE(tracker.Transition(S::kStopped, kCreated + seconds(8)).ok());
  EXPECT_EQ(tracker.status(), JobStatus::kStopped);
  EXPECT_EQ(tracker.secondary_status(), S::kStopped);
  EXPECT_EQ(tracker.end_time(), kCreated + seconds(8));
}

TEST(JobStatusTrackerTest, MaxRuntimePaths) {
  JobStatusTracker direct(kCreated);
  ASSERT_TRUE(direct.Transition(S::kTraining, kCreated + seconds(5)).ok());
  ASSERT_TRUE(direct.Transition(S::kMaxRuntimeExceeded, kCreated + seconds(3600)).ok());
  EXPECT_EQ(direct.status(), JobStatus::kStopped);
  EXPECT_EQ(direct.secondary_status(), S::kMaxRuntimeExceeded);

  JobStatusTracker via_stopping(kCreated);
  ASSERT_TRUE(via_stopping.Transition(S::kTraining, kCreated + seconds(5)).ok());
  ASSERT_TRUE(via_stopping.Transition(S::kStopping, kCreated + seconds(3600)).ok());
  ASSERT_TRUE(via_stopping.Transition(S::kMaxRuntimeExceeded, kCreated + seconds(3700)).ok());
  EXPECT_EQ(via_stopping.status(), JobStatus::kStopped);
  EXPECT_EQ(via_stopping.secondary_status(), S::kMaxRuntimeExceeded);
}

TEST(JobStatusTrackerTest, RefusedMovesNameBothStatuses) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated).ok());
  Status backwards = tracker.Transition(S::kDownloading, kCreated + seconds(1));
  EXPECT_EQ(backwards.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(backwards.message(),
            "cannot move from Training to Downloading: not a move a job makes");
  EXPECT_EQ(tracker.transitions().size(), 2u);  // unchanged
  EXPECT_FALSE(tracker.transitions().back().end_time);

  ASSERT_TRUE(tracker.Transition(S::kCompleted, kCreated + seconds(2)).ok());
  Status after_end = tracker.Transition(S::kTraining, kCreated + seconds(3));
  EXPECT_EQ(after_end.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(after_end.message(), "cannot move from Completed to Training: the job has ended");
  EXPECT_EQ(tracker.SetStatusMessage("late", kCreated + seconds(3)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(tracker.transitions().size(), 3u);
}

TEST(JobStatusTrackerTest, StatusMessageChangesWithoutATransition) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated, "Downloading the training image").ok());
  ASSERT_TRUE(tracker
                  .SetStatusMessage("Training image download completed. Training in progress.",
                                    kCreated + seconds(4))
                  .ok());
  EXPECT_EQ(tracker.transitions().size(), 2u);
  EXPECT_EQ(tracker.transitions().back().message,
            "Training image download completed. Training in progress.");
  EXPECT_EQ(tracker.last_modified_time(), kCreated + seconds(4));
}

TEST(JobStatusTrackerTest, ClockSteppingBackNeverEndsBeforeTheStart) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(10)).ok());
  ASSERT_TRUE(tracker.Transition(S::kCompleted, kCreated + seconds(5)).ok());
  EXPECT_EQ(tracker.transitions()[1].end_time, kCreated + seconds(10));
  EXPECT_EQ(tracker.end_time(), kCreated + seconds(10));
}

TEST(JobStatusTrackerTest, InvalidUtf8InAReasonIsReplaced) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Fail("AlgorithmError: cut \xe4\xb8", kCreated).ok());
  EXPECT_EQ(tracker.failure_reason(), "AlgorithmError: cut \ufffd\ufffd");
  EXPECT_NO_THROW(tracker.ToJson().dump());
}

TEST(JobStatusTrackerTest, JsonWhileRunning) {
  JobStatusTracker tracker(kCreated, "Starting the training job");
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(2)).ok());
  EXPECT_EQ(tracker.ToJson(), nlohmann::json::parse(R"({
    "status": "InProgress",
    "secondary_status": "Training",
    "creation_time": "2026-11-27T18:32:33.120Z",
    "last_modified_time": "2026-11-27T18:32:35.120Z",
    "secondary_status_transitions": [
      {"status": "Starting", "start_time": "2026-11-27T18:32:33.120Z",
       "end_time": "2026-11-27T18:32:35.120Z", "status_message": "Starting the training job"},
      {"status": "Training", "start_time": "2026-11-27T18:32:35.120Z", "status_message": ""}
    ]
  })"));
}

TEST(JobStatusTrackerTest, JsonAfterFailure) {
  JobStatusTracker tracker(kCreated);
  ASSERT_TRUE(tracker.Fail("AlgorithmError: boom", kCreated + seconds(1)).ok());
  EXPECT_EQ(tracker.ToJson(), nlohmann::json::parse(R"({
    "status": "Failed",
    "secondary_status": "Failed",
    "failure_reason": "AlgorithmError: boom",
    "creation_time": "2026-11-27T18:32:33.120Z",
    "last_modified_time": "2026-11-27T18:32:34.120Z",
    "end_time": "2026-11-27T18:32:34.120Z",
    "secondary_status_transitions": [
      {"status": "Starting", "start_time": "2026-11-27T18:32:33.120Z",
       "end_time": "2026-11-27T18:32:34.120Z", "status_message": ""},
      {"status": "Failed", "start_time": "2026-11-27T18:32:34.120Z",
       "end_time": "2026-11-27T18:32:34.120Z", "status_message": "AlgorithmError: boom"}
    ]
  })"));
}

TEST(JobStatusTrackerTest, FromJsonRestoresWhatToJsonWrote) {
  JobStatusTracker tracker(kCreated, "Starting");
  ASSERT_TRUE(tracker.Transition(S::kDownloading, kCreated + seconds(1)).ok());
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(2), "Training").ok());
  auto restored = JobStatusTracker::FromJson(tracker.ToJson());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->ToJson(), tracker.ToJson());
  EXPECT_EQ(restored->secondary_status(), S::kTraining);
  EXPECT_EQ(restored->creation_time(), kCreated);
  EXPECT_EQ(restored->transitions()[1].end_time, kCreated + seconds(2));
  EXPECT_FALSE(restored->transitions()[2].end_time);
  // A restored tracker moves on as the original would.
  ASSERT_TRUE(restored->Fail("AlgorithmError: boom", kCreated + seconds(3)).ok());
  EXPECT_EQ(restored->failure_reason(), "AlgorithmError: boom");
  EXPECT_EQ(JobStatusTracker::FromJson(restored->ToJson())->ToJson(), restored->ToJson());
}

TEST(JobStatusTrackerTest, FromJsonRefusesWhatToJsonNeverWrites) {
  nlohmann::json good = JobStatusTracker(kCreated).ToJson();
  EXPECT_TRUE(JobStatusTracker::FromJson(good).ok());
  nlohmann::json bad = good;
  bad["secondary_status_transitions"] = nlohmann::json::array();
  EXPECT_EQ(JobStatusTracker::FromJson(bad).status().code(), StatusCode::kInvalidArgument);
  bad = good;
  bad["creation_time"] = "yesterday";
  EXPECT_NE(JobStatusTracker::FromJson(bad).status().message().find("creation_time"),
            std::string::npos);
  bad = good;
  bad["secondary_status_transitions"][0]["status"] = "Sleeping";
  EXPECT_FALSE(JobStatusTracker::FromJson(bad).ok());
  EXPECT_FALSE(JobStatusTracker::FromJson(nlohmann::json::array()).ok());
}

TEST(JobStatusTrackerTest, TransitionsReadBackAsWritten) {
  JobStatusTracker tracker(kCreated, "Starting");
  ASSERT_TRUE(tracker.Transition(S::kTraining, kCreated + seconds(1), "Training").ok());
  nlohmann::json written = TransitionsToJson(tracker.transitions());
  EXPECT_EQ(written, tracker.ToJson()["secondary_status_transitions"]);
  auto read = TransitionsFromJson(written);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, tracker.transitions());
  EXPECT_TRUE(TransitionsFromJson(nlohmann::json::array())->empty());
  EXPECT_EQ(TransitionsToJson({}), nlohmann::json::array());
}

TEST(JobStatusTrackerTest, TransitionsFromJsonNamesTheBadField) {
  nlohmann::json good = TransitionsToJson(JobStatusTracker(kCreated).transitions());
  nlohmann::json bad = good;
  bad[0]["end_time"] = "soon";
  auto read = TransitionsFromJson(bad);
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("transitions[0].end_time"), std::string::npos)
      << read.status().message();
  EXPECT_FALSE(TransitionsFromJson(nlohmann::json::object()).ok());
  bad = good;
  bad[0]["status"] = 3;
  EXPECT_FALSE(TransitionsFromJson(bad).ok());
}

}  // namespace
}  // namespace trainyard::core
