// The hostile suite's jobs and archives: what a job's input, settings or code can do to the
// machine that runs it, each against the real `trainyard run` and trainyard-wrap. Each test names
// the finding of the review (issue 14) it guards.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archive/test_archives.h"
#include "common/files.h"
#include "server_fixture.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::BuildDir;
using testing::RunProcess;

class HostileJobsTest : public ::testing::Test {
 protected:
  // `trainyard run` with `arguments`, then `-- command...`.
  std::vector<std::string> Run(const std::vector<std::string>& arguments,
                               const std::vector<std::string>& command) {
    std::vector<std::string> argv = {(BuildDir() / "apps" / "trainyard").string(), "run", "--out",
                                     out.string()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
  json Status(const std::string& job) {
    auto text = ReadFile(out / job / "status.json");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? json::parse(*text) : json::object();
  }
  std::string Log(const std::string& job) {
    auto text = ReadFile(out / job / "training.log");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : "";
  }

  testing::TempDir dir;
  fs::path out = dir.path() / "out";
};

// Medium, "zip bombs are unpacked in full": 50 MiB of zeros in a 50 KB zip (1000:1) stops at the
// expansion limit (100:1 past 16 MiB) before the command runs, as the job's input's fault
// (ClientError) naming the archive and the limit, and leaves nothing unpacked behind.
TEST_F(HostileJobsTest, AZipBombStopsAtTheExpansionLimitAsAClientError) {
  fs::path bomb = dir.path() / "bomb.zip";
  archive::testing::WriteTestArchive(
      bomb, archive::testing::Format::kZip,
      {archive::testing::File("zeros.bin", std::string(50 << 20, '\0'))});
  ASSERT_LT(fs::file_size(bomb), 200'000u);
  fs::path ran = dir.path() / "ran";
  auto result = RunProcess(
      Run({"--name", "bomb", "--train", bomb.string(), "--keep-work"}, {"touch", ran.string()}), {},
      120s);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_FALSE(fs::exists(ran)) << "the command ran over a refused archive";
  json status = Status("bomb-001");
  EXPECT_EQ(status["status"], "Failed");
  std::string reason = status.value("failure_reason", "");
  EXPECT_EQ(reason.rfind("ClientError: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("'training/bomb.zip'"), std::string::npos) << reason;
  EXPECT_NE(reason.find("unpacks to more than 16777216 bytes"), std::string::npos) << reason;
  EXPECT_NE(reason.find("TRAINYARD_UNPACK_MAX_RATIO"), std::string::npos) << reason;
  // Nothing of the archive's contents stayed in the channel: the unpack stopped and cleaned up.
  fs::path channel = out / ".work" / "bomb-001" / "ml" / "input" / "data" / "training";
  ASSERT_TRUE(fs::is_directory(channel)) << channel;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(channel)) {
    EXPECT_EQ(entry.path().filename(), "bomb.zip") << entry.path();
  }
}

// Low, "archive rejections are ClientError": through `trainyard server` too, a dataset that
// is a zip-slip archive fails its job before the command runs, labelled as the input's fault,
// naming the archive and the reason, never AlgorithmError.
TEST(HostileServerJobsTest, ARefusedArchiveFailsTheJobAsAClientError) {
  testing::TempDir temp;
  testing::ServerProcess server(temp.path() / "data");
  server.Start();
  fs::path slip = temp.path() / "slip.zip";
  archive::testing::WriteTestArchive(slip, archive::testing::Format::kZip,
                                     {archive::testing::File("../../evil.txt", "owned")});
  auto upload =
      server.Cli({"dataset", "upload", slip.string(), "--kind", "training", "--output", "json"});
  ASSERT_EQ(upload.exit_code, 0) << upload.output;
  std::string dataset = json::parse(upload.output.substr(upload.output.find('{')))["id"];
  fs::path ran = temp.path() / "ran";
  json body = {{"name", "slip"},
               {"trainer", {{"command", {"touch", ran.string()}}}},
               {"channels", {{"training", dataset}}}};
  auto created = server.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server.WaitForSweepEnd(sweep_id, 1, 60s);
  ASSERT_EQ(sweep["counts"].value("Failed", 0), 1) << sweep.dump();
  json job = server.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"][0];
  std::string reason = job.value("failure_reason", "");
  EXPECT_EQ(reason.rfind("ClientError: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("slip.zip"), std::string::npos) << reason;
  EXPECT_NE(reason.find("escapes the destination"), std::string::npos) << reason;
  EXPECT_FALSE(fs::exists(ran));
}

// Medium, "a metric regex can stall the job", at the server's doors: a regex the wrapper's
// engine (RE2) cannot run is refused when the sweep or training job is created, naming the
// field, by the REST API (400) and by the SageMaker endpoint (ValidationException, through
// Debian's awscli when it is installed); SageMaker's documented regexes are accepted.
TEST(HostileServerJobsTest, MetricRegexesTheWrapperCannotRunAreRefusedAtSubmit) {
  testing::TempDir temp;
  constexpr char kKeyId[] = "AKIDHOSTILEREGEX";
  constexpr char kSecret[] = "hostile-regex-secret";
  std::string sagemaker = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  testing::ServerProcess server(
      temp.path() / "data", {"--sagemaker-listen", sagemaker},
      {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId}, {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
  server.Start();
  json body = {{"name", "backref"},
               {"trainer", {{"command", {"true"}}}},
               {"metric_definitions",
                {{{"name", "loss"}, {"regex", "loss: ([0-9\\.]+)"}},
                 {{"name", "twice"}, {"regex", "(a)\\1"}}}}};
  auto refused = server.Post("/api/v1/sweeps", body);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("metric_definitions[1].regex"), std::string::npos) << refused.body;
  body["metric_definitions"].erase(1);
  body["metric_definitions"].push_back({{"name", "err"}, {"regex", "Train_error=(.*?);"}});
  auto accepted = server.Post("/api/v1/sweeps", body);
  EXPECT_EQ(accepted.status, 201) << accepted.body;

  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
  auto created = testing::RunProcess(
      {"/usr/bin/aws", "--endpoint-url", "http://" + sagemaker, "--no-cli-pager", "sagemaker",
       "create-training-job", "--training-job-name", "backref-1", "--algorithm-specification",
       json{{"TrainingImage", "unused:1"},
            {"TrainingInputMode", "File"},
            {"ContainerEntrypoint", {"true"}},
            {"MetricDefinitions", {{{"Name", "twice"}, {"Regex", "(a)\\1"}}}}}
           .dump(),
       "--role-arn", "arn:aws:iam::000000000000:role/test", "--output-data-config",
       "S3OutputPath=s3://out/x/", "--resource-config",
       "InstanceType=ml.m5.large,InstanceCount=1,VolumeSizeInGB=1", "--stopping-condition",
       "MaxRuntimeInSeconds=60"},
      testing::AwsClientEnvironment(temp.path() / "home", kKeyId, kSecret), 120s);
  EXPECT_NE(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("ValidationException"), std::string::npos) << created.output;
  EXPECT_NE(created.output.find("MetricDefinitions.1.Regex ('twice') is not a valid regex"),
            std::string::npos)
      << created.output;
}

// The limit is the job's to raise: the same archive unpacks with TRAINYARD_UNPACK_MAX_RATIO=0.
TEST_F(HostileJobsTest, TheJobsEnvironmentMayLiftTheExpansionLimit) {
  fs::path zeros = dir.path() / "zeros.zip";
  archive::testing::WriteTestArchive(
      zeros, archive::testing::Format::kZip,
      {archive::testing::File("zeros.bin", std::string(20 << 20, '\0'))});
  auto result = RunProcess(
      Run({"--name", "lifted", "--train", zeros.string(), "--env", "TRAINYARD_UNPACK_MAX_RATIO=0"},
          {"sh", "-c", "wc -c < \"$SM_CHANNEL_TRAINING/zeros.bin\""}),
      {}, 120s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(Log("lifted-001").find(std::to_string(20 << 20)), std::string::npos)
      << Log("lifted-001");
}

// Medium, "a metric regex can stall the job": with std::regex, `m=(a*)*b` on a line of `a`s
// backtracked exponentially, pinning trainyard-wrap and holding back every later line of the
// log. Matched in linear time, the job ends at once, its later output is in the log, and the
// other metric is still read.
TEST_F(HostileJobsTest, ANestedQuantifierRegexDoesNotStallTheJobOrItsLog) {
  std::string line = "m=" + std::string(40, 'a');
  auto result = RunProcess(
      Run({"--name", "stall", "--metric", "m=m=(a*)*b", "--metric", "loss=loss=([0-9.]+)"},
          {"sh", "-c", "echo " + line + "; echo loss=0.25; echo after-the-hostile-line"}),
      {}, 60s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_LT(result.elapsed, 30s);
  std::string log = Log("stall-001");
  EXPECT_NE(log.find("after-the-hostile-line"), std::string::npos) << log;
  auto metrics = ReadFile(out / "stall-001" / "metrics.jsonl");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_NE(metrics->find("\"loss\""), std::string::npos) << *metrics;
}

// A regex the wrapper's engine (RE2) cannot run is refused when the run is given, naming the
// flag, rather than silently giving no metric in every job.
TEST_F(HostileJobsTest, AMetricRegexTheWrapperCannotRunIsRefusedAtSubmit) {
  fs::path ran = dir.path() / "ran";
  auto result = RunProcess(
      Run({"--name", "backref", "--metric", "twice=(a)\\1"}, {"touch", ran.string()}), {}, 60s);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("--metric 'twice': regex is not a valid regex"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(ran));
}

// Medium, "hyperparameters that SageMaker accepts fail the job": 100 of 2,500 characters made
// SM_HPS, SM_USER_ARGS and SM_TRAINING_ENV each longer than the 128 KiB Linux passes in one
// variable, and the command could not start ("AlgorithmError: cannot run 'sh': Argument list
// too long"). The job runs: every hyperparameter reaches it as an argument and as SM_HP_<KEY>,
// and the log says which composite variables were left out and where their data is.
TEST_F(HostileJobsTest, SageMakersLargestHyperparametersReachTheCommand) {
  std::vector<std::string> arguments = {"--name", "bighp", "--env",
                                        "TRAINYARD_HYPERPARAMETERS_AS_ARGS=1"};
  for (int i = 0; i < 100; ++i) {
    arguments.push_back("--hp");
    arguments.push_back("k" + std::to_string(i) + "=" + std::string(2500, 'v'));
  }
  auto result = RunProcess(
      Run(arguments, {"sh", "-c", "echo arguments=$#; echo k99=${#SM_HP_K99}", "sh"}), {}, 120s);
  ASSERT_EQ(result.exit_code, 0) << result.output.substr(0, 2000);
  std::string log = Log("bighp-001");
  EXPECT_NE(log.find("arguments=200"), std::string::npos) << log.substr(0, 2000);
  EXPECT_NE(log.find("k99=2500"), std::string::npos) << log.substr(0, 2000);
  EXPECT_NE(log.find("SM_HPS is left out of the command's environment"), std::string::npos)
      << log.substr(0, 2000);
}

// Medium, "the container executor loses the command's output": an image run with a
// ContainerEntrypoint that is not trainyard-wrap printed, yet the job's log and GetLogEvents
// were empty; and its command's exit 127 read as "podman could not run the container". As
// SageMaker does, the container's stdout and stderr are the job's log whatever runs inside, and
// the exit code of a container that started is the command's (AlgorithmError). Real podman and
// Debian's awscli against `trainyard server`'s SageMaker endpoint; skips, saying why, without.
TEST(HostileContainerJobsTest, AnEntrypointWithoutTheWrapperHasItsOutputAsTheLog) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
  constexpr char kImage[] = "localhost/trainyard-example-trainer:test";
  static const std::string unavailable = testing::BuildPodmanTestImage(kImage);
  if (!unavailable.empty()) GTEST_SKIP() << "podman unavailable: " << unavailable;
  constexpr char kKeyId[] = "AKIDHOSTILEJOBS";
  constexpr char kSecret[] = "hostile-jobs-secret";
  testing::TempDir temp;
  std::string s3 = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  std::string sagemaker = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  testing::ServerProcess server(
      temp.path() / "data",
      {"--container-runtime", "podman", "--s3-listen", s3, "--sagemaker-listen", sagemaker,
       "--sagemaker-endpoint-executor", "container"},
      {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId}, {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
  server.Start();
  auto aws = [&](const std::string& endpoint, std::vector<std::string> arguments) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", "http://" + endpoint,
                                     "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return testing::RunProcess(
        argv, testing::AwsClientEnvironment(temp.path() / "home", kKeyId, kSecret), 120s);
  };
  ASSERT_EQ(aws(s3, {"s3", "mb", "s3://plain"}).exit_code, 0);
  auto created =
      aws(sagemaker, {"sagemaker", "create-training-job", "--training-job-name",
                      "plain-entrypoint-1", "--algorithm-specification",
                      json{{"TrainingImage", kImage},
                           {"TrainingInputMode", "File"},
                           {"ContainerEntrypoint",
                            {"/bin/dash", "-c",
                             "echo printed-by-the-container; echo written-to-stderr >&2; "
                             "while [ ! -e /opt/ml/model/release ]; do sleep 0.1; done; "
                             "no-such-command"}}}
                          .dump(),
                      "--role-arn", "arn:aws:iam::000000000000:role/test", "--output-data-config",
                      "S3OutputPath=s3://plain/out/", "--resource-config",
                      "InstanceType=ml.m5.large,InstanceCount=1,VolumeSizeInGB=1",
                      "--stopping-condition", "MaxRuntimeInSeconds=600"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto log_events = [&] {
    auto streams = aws(sagemaker, {"logs", "describe-log-streams", "--log-group-name",
                                   "/aws/sagemaker/TrainingJobs", "--log-stream-name-prefix",
                                   "plain-entrypoint-1/"});
    json stream_list = json::parse(streams.output, nullptr, false);
    if (!stream_list.is_object() || stream_list["logStreams"].size() != 1) return streams;
    return aws(sagemaker, {"logs", "get-log-events", "--log-group-name",
                           "/aws/sagemaker/TrainingJobs", "--log-stream-name",
                           stream_list["logStreams"][0]["logStreamName"], "--start-from-head"});
  };
  // Live, while the command waits for the test (a file in its model dir, which the host's job
  // root holds): the container's output is followed into the log.
  testing::ProcessResult live;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        live = log_events();
        return live.output.find("printed-by-the-container") != std::string::npos;
      },
      60s))
      << live.output;
  auto still_running = aws(sagemaker, {"sagemaker", "describe-training-job", "--training-job-name",
                                       "plain-entrypoint-1"});
  EXPECT_NE(still_running.output.find("\"TrainingJobStatus\": \"InProgress\""), std::string::npos)
      << "the output was seen only after the job ended: " << still_running.output;
  const fs::path model_dir =
      temp.path() / "data" / "sagemaker-jobs" / "plain-entrypoint-1" / "ml" / "model";
  ASSERT_TRUE(fs::is_directory(model_dir)) << model_dir;
  std::ofstream(model_dir / "release") << "go\n";
  testing::ProcessResult described;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        described = aws(sagemaker, {"sagemaker", "describe-training-job", "--training-job-name",
                                    "plain-entrypoint-1"});
        return described.output.find("\"TrainingJobStatus\": \"Failed\"") != std::string::npos ||
               described.output.find("\"TrainingJobStatus\": \"Completed\"") != std::string::npos;
      },
      120s))
      << described.output;
  json job = json::parse(described.output);
  EXPECT_EQ(job["TrainingJobStatus"], "Failed");
  std::string reason = job.value("FailureReason", "");
  EXPECT_EQ(reason.rfind("AlgorithmError: ", 0), 0u) << reason;
  EXPECT_EQ(reason.find("could not run the container"), std::string::npos) << reason;

  // Once ended, the whole output, stdout and stderr.
  auto events = log_events();
  ASSERT_EQ(events.exit_code, 0) << events.output;
  EXPECT_NE(events.output.find("printed-by-the-container"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find("written-to-stderr"), std::string::npos) << events.output;
}

}  // namespace
}  // namespace trainyard
