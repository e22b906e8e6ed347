// status.json: what `trainyard run` writes when a job ends is what `--resume` reads back.
#include "app/job_result_file.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

JobResult CompletedJob() {
  TimePoint created = system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000));
  core::JobStatusTracker status(created);
  EXPECT_TRUE(status.Transition(core::SecondaryStatus::kTraining, created).ok());
  EXPECT_TRUE(status
                  .Transition(core::SecondaryStatus::kCompleted, created + std::chrono::seconds(3),
                              "Training job completed")
                  .ok());
  JobResult result{"digits-002", {{"learning_rate", "0.1"}}};
  result.description =
      executor::JobDescription{"digits-002", status, {{"progress", 1.0}}, {{"loss", 0.25}}, 0};
  result.duration_seconds = 3;
  return result;
}

TEST(JobResultFileTest, AnEndedJobReadsBackAsItWasWritten) {
  testing::TempDir dir;
  JobResult written = CompletedJob();
  ASSERT_TRUE(WriteJobResultFile(dir.path(), written).ok());
  auto read = ReadJobResultFile(dir.path(), "digits-002");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(JobResultJson(*read), JobResultJson(written));
  ASSERT_TRUE(read->description.has_value());
  EXPECT_EQ(read->description->status.status(), core::JobStatus::kCompleted);
  EXPECT_EQ(read->description->metrics.at("loss"), 0.25);
  EXPECT_EQ(read->description->exit_code, 0);
  EXPECT_EQ(read->hyperparameters.at("learning_rate"), "0.1");
}

TEST(JobResultFileTest, AJobThatNeverStartedReadsBackWithoutADescription) {
  testing::TempDir dir;
  JobResult never{"digits-003", {{"learning_rate", "0.01"}}};
  ASSERT_TRUE(WriteJobResultFile(dir.path(), never).ok());
  auto read = ReadJobResultFile(dir.path(), "digits-003");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->description.has_value());
  EXPECT_EQ(JobResultJson(*read)["status"], "Stopped");
}

TEST(JobResultFileTest, MissingAndWrongFilesAreToldApart) {
  testing::TempDir dir;
  EXPECT_EQ(ReadJobResultFile(dir.path(), "none-001").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(WriteJobResultFile(dir.path(), CompletedJob()).ok());
  std::filesystem::create_directories(dir.path() / "other-001");
  std::filesystem::copy_file(dir.path() / "digits-002" / "status.json",
                             dir.path() / "other-001" / "status.json");
  Status wrong_job = ReadJobResultFile(dir.path(), "other-001").status();
  EXPECT_EQ(wrong_job.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_job.message().find("job 'digits-002'"), std::string::npos) << wrong_job.message();

  json broken = JobResultJson(CompletedJob());
  broken["final_metrics"] = "high";
  Status bad_field = JobResultFromJson(broken).status();
  EXPECT_EQ(bad_field.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_field.message().find("field 'final_metrics'"), std::string::npos)
      << bad_field.message();
}

}  // namespace
}  // namespace trainyard::app
