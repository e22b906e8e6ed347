// ListTrainingJobs over 25 ended jobs written to the store as an older server left them (their
// description.json), so that creation times and statuses are exactly known: filters, sorting,
// pagination. Importing them is also the upgrade path.
#include "server/sagemaker/sagemaker_api_fixture.h"
#include "server/sagemaker/training_job_document.h"

namespace trainyard::server {
namespace {
using core::SecondaryStatus;

const TimePoint kBase = TimePoint(std::chrono::seconds(1'800'000'000));

class SageMakerListTest : public SageMakerApiTest {
 protected:
  // job-00 .. job-24, created a minute apart; every third ends Completed, Failed, Stopped.
  // Jobs 5, 10 and 15 have "alpha" in their names.
  void SetUp() override {
    SageMakerApiTest::SetUp();
    for (int i = 0; i < 25; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, i % 5 == 0 && i > 0 ? "job-%02d-alpha" : "job-%02d", i);
      TimePoint created = kBase + std::chrono::minutes(i);
      sagemaker::TrainingJob job;
      job.name = name;
      job.request = sagemaker::EchoedRequest(JobRequest(name, "true"));
      // With SageMaker's status messages, as the older server wrote them.
      auto message = [](SecondaryStatus status) {
        return sagemaker::SageMakerStatusMessage(status);
      };
      job.status = core::JobStatusTracker(created, message(SecondaryStatus::kStarting));
      ASSERT_TRUE(job.status
                      .Transition(SecondaryStatus::kDownloading, created + 1s,
                                  message(SecondaryStatus::kDownloading))
                      .ok());
      ASSERT_TRUE(job.status
                      .Transition(SecondaryStatus::kTraining, created + 2s,
                                  message(SecondaryStatus::kTraining))
                      .ok());
      TimePoint end = created + 10s;
      if (i % 3 == 0) {
        ASSERT_TRUE(
            job.status
                .Transition(SecondaryStatus::kCompleted, end, message(SecondaryStatus::kCompleted))
                .ok());
      } else if (i % 3 == 1) {
        ASSERT_TRUE(job.status.Fail("AlgorithmError: boom", end).ok());
      } else {
        ASSERT_TRUE(
            job.status
                .Transition(SecondaryStatus::kStopped, end, message(SecondaryStatus::kStopped))
                .ok());
      }
      job.metrics["loss"] = {0.5, end};
      json document = sagemaker::DescribeDocument(job, {"us-east-1", "000000000000"});
      names_.push_back(name);
      PutStore("sagemaker/training-jobs/" + std::string(name) + "/description.json",
               document.dump());
    }
    StartServer();
  }

  std::vector<std::string> Names(const JsonTestResponse& response) {
    std::vector<std::string> names;
    for (const json& summary : response.json["TrainingJobSummaries"]) {
      names.push_back(summary["TrainingJobName"]);
    }
    return names;
  }

  std::vector<std::string> names_;  // in creation order
};

TEST_F(SageMakerListTest, PagesOfTenByCreationTimeUntilTheLast) {
  std::vector<std::string> seen;
  json request = json::object();
  int pages = 0;
  while (true) {
    JsonTestResponse page = Call("ListTrainingJobs", request);
    ASSERT_EQ(page.status, 200) << page.body;
    ++pages;
    std::vector<std::string> names = Names(page);
    EXPECT_LE(names.size(), 10u);
    seen.insert(seen.end(), names.begin(), names.end());
    if (!page.json.contains("NextToken")) break;
    request["NextToken"] = page.json["NextToken"];
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, names_);
  JsonTestResponse first = Call("ListTrainingJobs", {{"MaxResults", 1}});
  const json& summary = first.json["TrainingJobSummaries"][0];
  EXPECT_EQ(summary["TrainingJobArn"],
            "arn:aws:sagemaker:us-east-1:000000000000:training-job/job-00");
  EXPECT_DOUBLE_EQ(summary["CreationTime"].get<double>(), 1'800'000'000.0);
  EXPECT_DOUBLE_EQ(summary["TrainingEndTime"].get<double>(), 1'800'000'010.0);
  EXPECT_EQ(summary["TrainingJobStatus"], "Completed");
}

TEST_F(SageMakerListTest, SortsByNameStatusAndCreationTimeBothWays) {
  std::vector<std::string> descending(names_.rbegin(), names_.rend());
  EXPECT_EQ(Names(Call("ListTrainingJobs", {{"MaxResults", 100}, {"SortOrder", "Descending"}})),
            descending);
  std::vector<std::string> by_name = names_;
  std::sort(by_name.begin(), by_name.end());
  EXPECT_EQ(Names(Call("ListTrainingJobs", {{"MaxResults", 100}, {"SortBy", "Name"}})), by_name);
  JsonTestResponse by_status =
      Call("ListTrainingJobs", {{"MaxResults", 100}, {"SortBy", "Status"}});
  std::vector<std::string> statuses;
  for (const json& summary : by_status.json["TrainingJobSummaries"]) {
    statuses.push_back(summary["TrainingJobStatus"]);
  }
  EXPECT_TRUE(std::is_sorted(statuses.begin(), statuses.end()));
  EXPECT_EQ(Names(by_status)[0], "job-00");  // ties keep creation order
}

TEST_F(SageMakerListTest, FiltersCombine) {
  JsonTestResponse failed =
      Call("ListTrainingJobs", {{"StatusEquals", "Failed"}, {"MaxResults", 100}});
  EXPECT_EQ(failed.json["TrainingJobSummaries"].size(), 8u);  // 1, 4, ..., 22
  EXPECT_EQ(
      Names(Call("ListTrainingJobs", {{"NameContains", "ALPHA"}})),
      (std::vector<std::string>{"job-05-alpha", "job-10-alpha", "job-15-alpha", "job-20-alpha"}));
  double tenth = 1'800'000'000.0 + 10 * 60;
  // Strictly after and before: job-10 itself is excluded by both.
  JsonTestResponse after =
      Call("ListTrainingJobs", {{"CreationTimeAfter", tenth}, {"MaxResults", 100}});
  EXPECT_EQ(after.json["TrainingJobSummaries"].size(), 14u);
  JsonTestResponse before = Call("ListTrainingJobs", {{"CreationTimeBefore", tenth}});
  EXPECT_EQ(before.json["TrainingJobSummaries"].size(), 10u);
  EXPECT_FALSE(before.json.contains("NextToken"));
  JsonTestResponse modified = Call("ListTrainingJobs", {{"LastModifiedTimeAfter", tenth},
                                                        {"LastModifiedTimeBefore", tenth + 120},
                                                        {"StatusEquals", "Stopped"}});
  EXPECT_EQ(Names(modified), (std::vector<std::string>{"job-11"}));
  EXPECT_EQ(Call("ListTrainingJobs", {{"WarmPoolStatusEquals", "InUse"}})
                .json["TrainingJobSummaries"]
                .size(),
            0u);
}

TEST_F(SageMakerListTest, BadPagesAreValidationErrors) {
  JsonTestResponse token = Call("ListTrainingJobs", {{"NextToken", "not-a-token"}});
  EXPECT_EQ(token.status, 400);
  EXPECT_EQ(token.Type(), "ValidationException");
  JsonTestResponse zero = Call("ListTrainingJobs", {{"MaxResults", 0}});
  EXPECT_EQ(zero.Type(), "ValidationException");
  EXPECT_NE(zero.Message().find("maxResults"), std::string::npos) << zero.Message();
  JsonTestResponse sort = Call("ListTrainingJobs", {{"SortBy", "Size"}});
  EXPECT_EQ(sort.Type(), "ValidationException");
}

TEST_F(SageMakerListTest, ImportedJobsDescribeAsTheOlderServerWroteThem) {
  json job = Describe("job-04");
  EXPECT_EQ(job["TrainingJobStatus"], "Failed");
  EXPECT_EQ(job["FailureReason"], "AlgorithmError: boom");
  EXPECT_EQ(job["FinalMetricDataList"][0]["MetricName"], "loss");
  EXPECT_EQ(json::parse(StoreObject("sagemaker/training-jobs/job-04/description.json")), job);
  // Imported once: a restart finds them in its store, as they were.
  StopServer();
  StartServer();
  EXPECT_EQ(Describe("job-04"), job);
  EXPECT_EQ(Call("ListTrainingJobs", {{"MaxResults", 100}}).json["TrainingJobSummaries"].size(),
            25u);
}

TEST_F(SageMakerListTest, AnOlderServersUnendedJobIsImportedFailedSayingSo) {
  StopServer();
  sagemaker::TrainingJob job;
  job.name = "was-running";
  job.request = sagemaker::EchoedRequest(JobRequest("was-running", "true"));
  job.status = core::JobStatusTracker(kBase, "Preparing the instances for training");
  ASSERT_TRUE(job.status.Transition(SecondaryStatus::kTraining, kBase + 1s).ok());
  PutStore("sagemaker/training-jobs/was-running/description.json",
           sagemaker::DescribeDocument(job, {"us-east-1", "000000000000"}).dump());
  StartServer();
  json described = Describe("was-running");
  EXPECT_EQ(described["TrainingJobStatus"], "Failed");
  EXPECT_NE(described.value("FailureReason", "").find("upgraded while this training job ran"),
            std::string::npos)
      << described.dump(2);
}

}  // namespace
}  // namespace trainyard::server
