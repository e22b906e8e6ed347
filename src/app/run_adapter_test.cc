// What `trainyard run` reports of a job is what the scheduler recorded of it.
#include "app/run_adapter.h"

#include <gtest/gtest.h>

namespace trainyard::app {
namespace {

using core::SecondaryStatus;
using metadata::JobRecord;

TimePoint At(int seconds) {
  return TimePoint(std::chrono::seconds(1'800'000'000 + seconds));
}

TEST(JobResultOfRecordTest, AJobThatNeverLeftTheQueueHasNoDescription) {
  JobRecord record;
  record.name = "digits-002";
  record.hyperparameters = {{"lr", "0.1"}};
  record.status = core::JobStatus::kStopped;
  record.secondary_status = SecondaryStatus::kStopped;
  record.transitions = {{SecondaryStatus::kStarting, At(0), At(1), "Waiting in the queue"},
                        {SecondaryStatus::kStopped, At(1), At(1), "Stopped before it started"}};
  auto result = JobResultOfRecord(record);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->job_name, "digits-002");
  EXPECT_EQ(result->hyperparameters.at("lr"), "0.1");
  EXPECT_FALSE(result->description.has_value());
  EXPECT_EQ(result->duration_seconds, 0);
}

TEST(JobResultOfRecordTest, AnEndedJobCarriesItsStatusMetricsAndTimeFromItsStart) {
  JobRecord record;
  record.name = "digits-001";
  record.queued = false;
  record.status = core::JobStatus::kFailed;
  record.secondary_status = SecondaryStatus::kFailed;
  record.transitions = {{SecondaryStatus::kStarting, At(0), At(2), "Starting"},
                        {SecondaryStatus::kTraining, At(2), At(9), "Training"},
                        {SecondaryStatus::kFailed, At(9), At(9), "AlgorithmError: exit code: 4"}};
  record.failure_reason = "AlgorithmError: exit code: 4";
  record.exit_code = 4;
  record.metrics = {{"loss", 0.5}};
  record.progress = {{"progress", 0.75}};
  record.created_at = At(0);
  record.updated_at = At(9);
  record.started_at = At(1);
  record.ended_at = At(9);
  auto result = JobResultOfRecord(record);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE(result->description.has_value());
  const executor::JobDescription& description = *result->description;
  EXPECT_EQ(description.status.status(), core::JobStatus::kFailed);
  EXPECT_EQ(description.status.transitions(), record.transitions);
  EXPECT_EQ(description.status.failure_reason(), "AlgorithmError: exit code: 4");
  EXPECT_EQ(description.status.end_time(), At(9));
  EXPECT_EQ(description.exit_code, 4);
  EXPECT_EQ(description.metrics.at("loss"), 0.5);
  EXPECT_EQ(description.progress["progress"], 0.75);
  EXPECT_DOUBLE_EQ(result->duration_seconds, 8.0);
}

}  // namespace
}  // namespace trainyard::app
