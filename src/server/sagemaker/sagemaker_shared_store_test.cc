// Two endpoints on one metadata store and one object store, as two replicas of `trainyard
// server` share them (docs/scale-out.md): the second, under another owner id and with an
// executor and work dirs of its own, answers for a job the first runs. Its log while it runs
// comes from the lines the first records in the store (with the times it first saw them), as
// the live log file is on the first's disk only. tests/sagemaker_replicas_e2e_test.cc does the
// same with two server processes on PostgreSQL.
#include "server/sagemaker/sagemaker_api_fixture.h"

namespace trainyard::server {
namespace {

constexpr char kLogGroup[] = "/aws/sagemaker/TrainingJobs";

class SageMakerSharedStoreTest : public SageMakerApiTest {
 protected:
  void TearDown() override {
    if (other_server_) other_server_->Stop();
    if (other_api_) other_api_->Stop();
    other_api_.reset();
    other_executor_.reset();
    SageMakerApiTest::TearDown();
  }

  // The second endpoint, "other", on the fixture's metadata and object stores.
  void StartOther() {
    executor::LocalExecutorOptions local;
    local.work_dir = temp_.path() / "other-work";
    local.wrapper_path = trainyard::testing::BuildDir() / "apps" / "trainyard-wrap";
    local.environment = ParseEnvironment(environ);
    other_executor_ = std::make_unique<executor::LocalExecutor>(local);
    SageMakerApiOptions options;
    options.objects = store_.get();
    options.executor = other_executor_.get();
    options.metadata = metadata_.get();
    options.work_dir = temp_.path() / "other-staging";
    options.executor_work_dir = local.work_dir;
    options.secret_by_access_key_id = {{kKeyId, kSecret}};
    options.poll_interval = 50ms;
    options.owner_id = "other";
    options.spread_claims = true;
    other_api_ = std::make_unique<SageMakerApi>(options);
    Status started = other_api_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    auto server = HttpServer::Start(
        HttpServerOptions{},
        [this](const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
          other_api_->Handle(request, body, response);
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    other_server_ = std::move(server).value();
    other_client_ = std::make_unique<JsonTestClient>(
        "http://127.0.0.1:" + std::to_string(other_server_->port()),
        aws::Credentials{kKeyId, kSecret, ""});
  }

  // The events of the job's stream as `client` serves them ("" when it has no stream yet).
  static std::vector<std::string> Messages(JsonTestClient& client, const std::string& job) {
    JsonTestResponse streams = client.Logs(
        "DescribeLogStreams", {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", job + "/"}});
    if (streams.status != 200 || streams.json["logStreams"].empty()) return {};
    JsonTestResponse events = client.Logs(
        "GetLogEvents", {{"logGroupName", kLogGroup},
                         {"logStreamName", streams.json["logStreams"][0]["logStreamName"]},
                         {"startFromHead", true}});
    std::vector<std::string> messages;
    for (const json& event : events.json["events"]) {
      std::string message = event["message"];
      if (message.rfind("tick ", 0) == 0) messages.push_back(message);
    }
    return messages;
  }

  std::unique_ptr<executor::LocalExecutor> other_executor_;
  std::unique_ptr<SageMakerApi> other_api_;
  std::unique_ptr<HttpServer> other_server_;
  std::unique_ptr<JsonTestClient> other_client_;
};

TEST_F(SageMakerSharedStoreTest, AnotherEndpointOnTheStoreServesARunningJobsLogAndStopsIt) {
  secret_mask_ = SecretMask({"hidden-secret-value"});
  StartServer();
  ASSERT_EQ(
      Call("CreateTrainingJob", JobRequest("shared-1",
                                           "i=1; while [ $i -le 400 ]; do echo \"tick $i "
                                           "hidden-secret-value\"; i=$((i+1)); sleep 0.05; done"))
          .status,
      200);
  WaitForSecondary("shared-1", "Training");
  StartOther();
  // The job is the first's (it was claimed there): the other describes it...
  JsonTestResponse described =
      other_client_->SageMaker("DescribeTrainingJob", {{"TrainingJobName", "shared-1"}});
  ASSERT_EQ(described.status, 200) << described.body;
  EXPECT_EQ(described.json["TrainingJobStatus"], "InProgress");
  // ...and serves its log from the store while it runs, masked as the first masks it.
  std::vector<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((seen = Messages(*other_client_, "shared-1")).size() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_GE(seen.size(), 5u) << "the other endpoint served no log";
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], "tick " + std::to_string(i + 1) + " ****") << i;
  }
  EXPECT_FALSE(std::filesystem::exists(temp_.path() / "other-work" / "shared-1"));

  // A stop asked of the other is delivered by the first, which runs the job.
  JsonTestResponse stopped =
      other_client_->SageMaker("StopTrainingJob", {{"TrainingJobName", "shared-1"}});
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  json ended = WaitForEnd("shared-1");
  EXPECT_EQ(ended["TrainingJobStatus"], "Stopped") << ended.dump();
  // Ended, its whole log (from the object store) begins with the lines served while it ran.
  std::vector<std::string> all = Messages(*other_client_, "shared-1");
  ASSERT_GE(all.size(), seen.size());
  EXPECT_LT(all.size(), 400u);
  EXPECT_EQ(std::vector<std::string>(all.begin(), all.begin() + seen.size()), seen);
  EXPECT_EQ(all, Messages(*client_, "shared-1"));
  // The lines the first recorded: one per line of the live log, masked.
  auto lines = metadata_->ListLogLines("shared-1", 0, 10'000);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_GE(lines->size(), seen.size());
  for (const metadata::LogLine& line : *lines) {
    EXPECT_EQ(line.line.find("hidden-secret-value"), std::string::npos) << line.line;
  }
}

}  // namespace
}  // namespace trainyard::server
