// `trainyard server`'s SageMaker-compatible endpoint killed with SIGKILL at each named step of a
// training job's way (common/step_hook.h: the steps of the scheduler the endpoint runs its jobs
// on, scheduler.*, and of its local executor, executor.*; docs/architecture.md, "One job's
// way"), driven by Debian's awscli as a user's script would: after the
// restart every job ends Completed with its model in S3, its code ran exactly once, and nothing
// is left behind (no job process, no staged channel, no packed artifacts, no job root).
// Skips, saying why, where awscli is not installed. The creates, the bucket and the data go
// through awscli; the status is polled with requests signed as the SDKs sign them
// (sagemaker_test_client.h), since an awscli call costs about a second of CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "server/sagemaker/sagemaker_test_client.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using server::sagemaker::testing::JsonTestClient;
using server::sagemaker::testing::JsonTestResponse;
using testing::ProcessResult;
using testing::ServerProcess;
using testing::WaitFor;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kKeyId[] = "AKIDSAGEMAKERFAULTS";
constexpr char kSecret[] = "sagemaker-faults-secret";
constexpr char kRole[] = "arn:aws:iam::000000000000:role/trainyard-test";
const std::vector<std::string> kJobs = {"once-a", "once-b"};

class SageMakerKillAtStepTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!fs::exists(kAwsCli))
      GTEST_SKIP() << "Debian's awscli is not installed (" << kAwsCli << ")";
    s3_url_ = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    sagemaker_url_ = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    server_ = std::make_unique<ServerProcess>(
        dir_.path() / "data",
        std::vector<std::string>{"--s3-listen", s3_url_.substr(7), "--sagemaker-listen",
                                 sagemaker_url_.substr(7), "--max-running", "4"});
  }

  // The endpoints' keys, and where the server kills itself (none: "").
  void SetServerEnvironment(const std::string& kill_at) {
    std::map<std::string, std::string> environment = {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId},
                                                      {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}};
    if (!kill_at.empty()) environment["TRAINYARD_TEST_KILL_AT"] = kill_at;
    server_->set_extra_environment(environment);
  }

  // `aws ...` against the endpoint that serves the service; one attempt (a killed server must
  // show as a failed call, not as minutes of retries).
  ProcessResult Aws(std::vector<std::string> arguments) {
    const std::string& url = arguments[0] == "s3" ? s3_url_ : sagemaker_url_;
    std::vector<std::string> argv = {kAwsCli, "--endpoint-url", url, "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto environment = testing::AwsClientEnvironment(dir_.path() / "home", kKeyId, kSecret);
    environment["AWS_MAX_ATTEMPTS"] = "1";
    return testing::RunProcess(argv, environment, 60s);
  }

  // Each run of the job's code appends the job's name to runs.txt (one short O_APPEND write).
  ProcessResult CreateTrainingJob(const std::string& name) {
    std::string script = "cat \"$SM_CHANNEL_TRAINING/data.csv\"; echo \"$TRAINING_JOB_NAME\" >> '" +
                         runs().string() +
                         "'; sleep 0.5; echo weights > \"$SM_MODEL_DIR/model.bin\"; echo trained";
    json algorithm = {{"TrainingImage", "trainyard/example:test"},
                      {"TrainingInputMode", "File"},
                      {"ContainerEntrypoint", {"/bin/sh", "-c"}},
                      {"ContainerArguments", {script}}};
    // The seed's channel: a prefix without a trailing slash, the data one level down.
    json channels = json::array({{{"ChannelName", "training"},
                                  {"DataSource",
                                   {{"S3DataSource",
                                     {{"S3DataType", "S3Prefix"},
                                      {"S3Uri", "s3://faults/converts/7f3c"},
                                      {"S3DataDistributionType", "FullyReplicated"}}}}}}});
    return Aws({"sagemaker", "create-training-job", "--training-job-name", name,
                "--algorithm-specification", algorithm.dump(), "--role-arn", kRole,
                "--input-data-config", channels.dump(), "--output-data-config",
                json{{"S3OutputPath", "s3://faults/out"}}.dump(), "--resource-config",
                R"({"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10})",
                "--stopping-condition", R"({"MaxRuntimeInSeconds": 600})"});
  }

  // The job as DescribeTrainingJob answers; null when the endpoint does not know it (or is down).
  json Describe(const std::string& name) {
    JsonTestClient client(sagemaker_url_,
                          aws::Credentials{.access_key_id = kKeyId, .secret_access_key = kSecret});
    JsonTestResponse answer = client.SageMaker("DescribeTrainingJob", {{"TrainingJobName", name}});
    return answer.status == 200 ? answer.json : json();
  }

  fs::path runs() const { return dir_.path() / "runs.txt"; }

  std::map<std::string, int> RunsByJob() const {
    std::map<std::string, int> counts;
    std::ifstream file(runs());
    for (std::string line; std::getline(file, line);) counts[line] += 1;
    return counts;
  }

  // What must not remain once every job has ended: staged channels and packed artifacts in the
  // endpoint's work dir, the executor's job roots and half-written state files.
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> found;
    std::error_code error;
    const fs::path data = dir_.path() / "data";
    for (const auto& entry : fs::directory_iterator(data / "sagemaker-work", error)) {
      found.push_back(entry.path().string());
    }
    for (const auto& job : fs::directory_iterator(data / "sagemaker-jobs", error)) {
      for (const auto& entry : fs::directory_iterator(job.path(), error)) {
        std::string name = entry.path().filename().string();
        if (name == "ml" || name.find(".tmp.") != std::string::npos) {
          found.push_back(entry.path().string());
        }
      }
    }
    return found;
  }

  testing::TempDir dir_;
  std::string s3_url_, sagemaker_url_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_P(SageMakerKillAtStepTest, EveryTrainingJobCompletesAndItsCodeRunsOnce) {
  SetServerEnvironment(GetParam());
  server_->Start();
  fs::path data = dir_.path() / "data.csv";
  std::ofstream(data) << "x,y\n1,2\n";
  ProcessResult made = Aws({"s3", "mb", "s3://faults"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ProcessResult copied =
      Aws({"s3", "cp", data.string(), "s3://faults/converts/7f3c/7f3c/data.csv"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  // The server may die in the middle of a create, before it answers.
  for (const std::string& job : kJobs) CreateTrainingJob(job);

  std::string output = server_->WaitForExit(60s);
  ASSERT_NE(output.find(std::string("killed at ") + GetParam()), std::string::npos) << output;
  SetServerEnvironment("");
  server_->Start();
  for (const std::string& job : kJobs) {
    // A job the server never recorded is created again, as a client that lost the answer would.
    if (Describe(job).is_null()) {
      ProcessResult created = CreateTrainingJob(job);
      ASSERT_EQ(created.exit_code, 0) << created.output;
    }
  }

  const fs::path& data_dir = dir_.path() / "data";
  for (const std::string& job : kJobs) {
    json described;
    ASSERT_TRUE(WaitFor(
        [&] {
          described = Describe(job);
          std::string status = described.value("TrainingJobStatus", "");
          return status != "" && status != "InProgress" && status != "Stopping";
        },
        60s))
        << job << ": " << described.dump();
    EXPECT_EQ(described.value("TrainingJobStatus", ""), "Completed") << described.dump();
    ProcessResult model = Aws({"s3", "cp", "s3://faults/out/" + job + "/output/model.tar.gz",
                               (dir_.path() / (job + ".tar.gz")).string()});
    EXPECT_EQ(model.exit_code, 0) << job << ": " << model.output;
  }
  std::map<std::string, int> runs_by_job = RunsByJob();
  for (const std::string& job : kJobs) {
    EXPECT_EQ(runs_by_job[job], 1) << job << "'s code ran " << runs_by_job[job] << " times";
  }
  EXPECT_EQ(runs_by_job.size(), kJobs.size());
  EXPECT_TRUE(WaitFor([&] { return testing::JobProcesses(data_dir).empty(); }, 10s))
      << "job processes left: " << testing::JobProcesses(data_dir).size();
  EXPECT_TRUE(WaitFor([&] { return Leftovers().empty(); }, 10s))
      << "left behind: " << json(Leftovers()).dump();
}

INSTANTIATE_TEST_SUITE_P(Steps, SageMakerKillAtStepTest,
                         ::testing::Values("scheduler.claimed", "executor.recorded",
                                           "executor.staged", "executor.launched",
                                           "scheduler.submitted", "scheduler.running",
                                           "executor.packed", "scheduler.storing",
                                           "scheduler.stored"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

}  // namespace
}  // namespace trainyard
