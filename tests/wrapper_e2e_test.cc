// trainyard-wrap end to end: the real binary on a temp /opt/ml root.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/files.h"
#include "contract/job_definition.h"
#include "support/http_test_server.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::BuildDir;
using testing::HttpTestServer;
using testing::Process;
using testing::RunProcess;
using testing::SourceDir;

class WrapperTest : public ::testing::Test {
 protected:
  WrapperTest() : root(dir.path() / "ml") {
    job.job_name = "wrap-test";
    job.hyperparameters = {{"learning_rate", "0.1"}, {"epochs", "3"}};
    job.channels = {{"training", "text/csv"}};
    EXPECT_TRUE(contract::WriteConfigFiles(root, job).ok());
    std::ofstream(root.channel_dir("training") / "train.csv") << "1,2\n";
  }

  void Rewrite() { ASSERT_TRUE(contract::WriteConfigFiles(root, job).ok()); }

  std::map<std::string, std::string> Environment(std::map<std::string, std::string> extra = {}) {
    extra["TRAINYARD_ML_ROOT"] = root.root().string();
    return extra;
  }

  std::vector<std::string> Wrap(std::vector<std::string> command) {
    std::vector<std::string> argv = {(BuildDir() / "apps" / "trainyard-wrap").string(), "train",
                                     "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

  std::string Failure() {
    auto text = ReadFile(root.failure_file());
    return text.ok() ? *text : "";
  }

  testing::TempDir dir;
  contract::MlRoot root;
  contract::JobDefinition job;
};

TEST_F(WrapperTest, SuccessWritesJobJsonEnvironmentAndLog) {
  auto result = RunProcess(
      Wrap(
          {"sh", "-c",
           "cat \"$TRAINYARD_JOB_JSON\" > \"$SM_MODEL_DIR/seen.json\"; env > \"$SM_MODEL_DIR/env\";"
           " echo to-stdout; echo to-stderr >&2"}),
      Environment({{"TRAINYARD_JOB_TOKEN", "secret-token"}}));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("to-stdout"), std::string::npos);  // still on our own output

  json seen = json::parse(*ReadFile(root.model_dir() / "seen.json"));
  EXPECT_EQ(seen["schema"], "trainyard.job/v1");
  EXPECT_EQ(seen["job_name"], "wrap-test");
  EXPECT_EQ(seen["hyperparameters"]["epochs"], 3);
  EXPECT_EQ(seen["channels"]["training"]["files"], json::array({"train.csv"}));
  EXPECT_EQ(seen["model_dir"], root.model_dir().string());

  std::string environment = *ReadFile(root.model_dir() / "env");
  EXPECT_NE(environment.find("SM_HP_EPOCHS=3\n"), std::string::npos);
  EXPECT_NE(environment.find("SM_CHANNEL_TRAINING=" + root.channel_dir("training").string()),
            std::string::npos);
  EXPECT_NE(environment.find("TRAINYARD_JOB_JSON=" + root.job_json_file().string()),
            std::string::npos);
  EXPECT_EQ(environment.find("secret-token"), std::string::npos);  // the token stays with us

  std::string log = *ReadFile(root.log_file());
  EXPECT_NE(log.find("to-stdout"), std::string::npos);
  EXPECT_NE(log.find("to-stderr"), std::string::npos);
  EXPECT_FALSE(fs::exists(root.failure_file()));
}

TEST_F(WrapperTest, FailureFileHasExitCodeAndStderrTail) {
  auto result =
      RunProcess(Wrap({"sh", "-c",
                       "i=0; while [ $i -lt 200 ]; do echo noise $i >&2; i=$((i+1)); done; "
                       "echo 'CUDA out of memory' >&2; exit 3"}),
                 Environment());
  EXPECT_EQ(result.exit_code, 3);
  std::string failure = Failure();
  EXPECT_EQ(failure.rfind("exit code: 3", 0), 0u) << failure;
  EXPECT_NE(failure.find("CUDA out of memory"), std::string::npos);  // the end is kept
  EXPECT_LE(failure.size(), 1024u);
}

TEST_F(WrapperTest, FailureFileWrittenByTheCodeIsKept) {
  auto result =
      RunProcess(Wrap({"sh", "-c", "echo 'my own reason' > \"$SM_OUTPUT_DIR/failure\"; exit 1"}),
                 Environment());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(Failure(), "my own reason\n");
}

TEST_F(WrapperTest, SignalDeathGives128PlusN) {
  auto result = RunProcess(Wrap({"sh", "-c", "kill -KILL $$"}), Environment());
  EXPECT_EQ(result.exit_code, 137);
  EXPECT_EQ(Failure().rfind("killed by signal SIGKILL", 0), 0u) << Failure();
}

TEST_F(WrapperTest, CommandNotFoundIs127WithAReason) {
  auto result = RunProcess(Wrap({"no-such-program-xyz"}), Environment());
  EXPECT_EQ(result.exit_code, 127);
  EXPECT_NE(Failure().find("no-such-program-xyz"), std::string::npos) << Failure();
}

TEST_F(WrapperTest, SigtermIsForwardedToTheCommand) {
  fs::path marker = dir.path() / "got-term";
  Process wrapper(Wrap({"sh", "-c",
                        "trap 'echo term > " + marker.string() +
                            "; exit 0' TERM; "
                            "echo ready; while true; do sleep 0.05; done"}),
                  Environment());
  std::this_thread::sleep_for(500ms);
  wrapper.Signal(SIGTERM);
  auto result = wrapper.Wait(10s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(fs::exists(marker));
}

TEST_F(WrapperTest, SigkillAfterTheGracePeriod) {
  Process wrapper(Wrap({"sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"}),
                  Environment({{"TRAINYARD_STOP_GRACE_SECONDS", "1"}}));
  std::this_thread::sleep_for(500ms);
  auto sent = std::chrono::steady_clock::now();
  wrapper.Signal(SIGTERM);
  auto result = wrapper.Wait(15s);
  auto took = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(result.exit_code, 137) << result.output;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
}

// The command leaves a grandchild behind that exits while the command still runs: the wrapper,
// as PID 1 in a container or as a subreaper here, must reap it, or it stays a zombie.
constexpr char kOrphanScript[] =
    "( sleep 0.1 & echo $! > \"$SM_MODEL_DIR/orphan\" ); sleep 1;"
    " pid=$(cat \"$SM_MODEL_DIR/orphan\");"
    " if grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; then echo zombie; exit 1; fi";

TEST_F(WrapperTest, ReapsOrphansOfTheCommand) {
  auto result = RunProcess(Wrap({"sh", "-c", kOrphanScript}), Environment());
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(WrapperTest, ReapsOrphansAsPidOne) {
  if (RunProcess({"unshare", "--pid", "--fork", "--mount-proc", "true"}).exit_code != 0) {
    GTEST_SKIP() << "cannot make a PID namespace here (unshare --pid needs CAP_SYS_ADMIN)";
  }
  std::vector<std::string> argv = {"unshare", "--pid", "--fork", "--mount-proc"};
  for (const std::string& argument : Wrap({"sh", "-c", kOrphanScript})) argv.push_back(argument);
  auto result = RunProcess(argv, Environment());
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(WrapperTest, PostsProgressMetricsAndLogWithTheToken) {
  HttpTestServer server;
  job.metric_definitions = {{"log_loss", "loss=([0-9.]+)"}};
  Rewrite();
  std::string progress = root.progress_file().string();
  auto result = RunProcess(
      Wrap({"sh", "-c",
            "echo '{\"progress\": 0.5, \"step\": 5, \"metrics\": {\"accuracy\": 0.75}}' >> " +
                progress + "; echo 'garbage {' >> " + progress +
                "; echo 'loss=0.125'; sleep 0.5;"
                " echo '{\"progress\": 1.0, \"step\": 10}' >> " +
                progress}),
      Environment({{"TRAINYARD_CALLBACK_URL", server.url("/api/v1/jobs/wrap-test/progress")},
                   {"TRAINYARD_JOB_TOKEN", "tok"},
                   {"TRAINYARD_PROGRESS_INTERVAL_SECONDS", "0.1"}}));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto requests = server.requests();
  ASSERT_FALSE(requests.empty());
  std::map<std::string, double> metrics;
  bool saw_log = false, saw_exit = false;
  double last_progress = -1;
  for (const auto& request : requests) {
    EXPECT_EQ(request.headers.at("authorization"), "Bearer tok");
    json body = json::parse(request.body);
    if (body.contains("progress")) last_progress = body["progress"]["progress"];
    for (const json& metric : body["metrics"]) metrics[metric["name"]] = metric["value"];
    for (const json& line : body["log"]) saw_log = saw_log || line["line"] == "loss=0.125";
    saw_exit = saw_exit || (body.contains("exit") && body["exit"]["code"] == 0);
  }
  EXPECT_DOUBLE_EQ(last_progress, 1.0);
  EXPECT_DOUBLE_EQ(metrics["accuracy"], 0.75);
  EXPECT_DOUBLE_EQ(metrics["log_loss"], 0.125);  // from the MetricDefinitions regex
  EXPECT_TRUE(saw_log);
  EXPECT_TRUE(saw_exit);
}

TEST_F(WrapperTest, CallbackServerDownOrHangingDoesNotDelayTheJob) {
  HttpTestServer hanging(HttpTestServer::Mode::kHang);
  for (std::string url :
       {"http://127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort()) + "/p",
        hanging.url("/p")}) {
    auto result = RunProcess(Wrap({"sh", "-c",
                                   "for i in 1 2 3 4 5; do echo '{\"progress\": 0.2}' >> " +
                                       root.progress_file().string() + "; sleep 0.2; done"}),
                             Environment({{"TRAINYARD_CALLBACK_URL", url},
                                          {"TRAINYARD_PROGRESS_INTERVAL_SECONDS", "0.1"}}));
    EXPECT_EQ(result.exit_code, 0) << url << result.output;
    // One second of work; the final report may hold the exit for at most 3 s. A job that
    // waited on the hanging request would take its 10 s timeout; 8 s leaves room for a busy
    // machine (5 s was missed by 55 ms under a full parallel `make test`).
    EXPECT_LT(result.elapsed, 8s) << url;
  }
}

TEST_F(WrapperTest, UnpacksZipChannelsAndListsTheFiles) {
  fs::path staging = dir.path() / "staging";
  fs::create_directories(staging / "data");
  std::ofstream(staging / "data" / "part1.csv") << "a\n";
  ASSERT_EQ(RunProcess({"sh", "-c",
                        "cd " + staging.string() + " && zip -qr " +
                            (root.channel_dir("training") / "4f2a.zip").string() + " data"})
                .exit_code,
            0);
  auto result = RunProcess(Wrap({"cat", root.job_json_file().string()}), Environment());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  json seen = json::parse(*ReadFile(root.job_json_file()));
  EXPECT_EQ(seen["channels"]["training"]["files"], json::array({"data/part1.csv", "train.csv"}));
  EXPECT_EQ(seen["channels"]["training"]["unpacked_archives"], json::array({"4f2a.zip"}));
  EXPECT_FALSE(fs::exists(root.channel_dir("training") / "4f2a.zip"));
}

TEST_F(WrapperTest, RefusedArchiveFailsTheJobNamingIt) {
  fs::path staging = dir.path() / "staging";
  fs::create_directories(staging / "inner");
  std::ofstream(staging / "evil.txt") << "x\n";
  // "../evil.txt" inside the zip: zip keeps the relative path as given.
  ASSERT_EQ(RunProcess({"sh", "-c",
                        "cd " + (staging / "inner").string() + " && zip -q " +
                            (root.channel_dir("training") / "slip.zip").string() + " ../evil.txt"})
                .exit_code,
            0);
  auto result = RunProcess(Wrap({"true"}), Environment());
  EXPECT_EQ(result.exit_code, 2);
  std::string failure = Failure();
  EXPECT_NE(failure.find("training/slip.zip"), std::string::npos) << failure;
  EXPECT_FALSE(fs::exists(root.channel_dir("evil.txt")));
  EXPECT_FALSE(fs::exists(root.input_data_dir() / "evil.txt"));
}

TEST_F(WrapperTest, JobJsonValidatesAgainstThePublishedSchema) {
  auto result = RunProcess(Wrap({"true"}), Environment());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto check =
      RunProcess({"/usr/bin/python3", (SourceDir() / "tests" / "validate_json.py").string(),
                  (SourceDir() / "docs" / "schemas" / "job-v1.schema.json").string(),
                  root.job_json_file().string()});
  if (check.exit_code == 77) GTEST_SKIP() << check.output;
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(WrapperTest, SageMakerScriptModeExampleRunsUnchanged) {
  fs::copy_file(SourceDir() / "examples" / "sagemaker-script-mode" / "train.py",
                root.code_dir() / "train.py");
  fs::remove(root.channel_dir("training") / "train.csv");
  fs::copy_file(SourceDir() / "examples" / "data" / "digits" / "train.csv",
                root.channel_dir("training") / "train.csv");
  job.hyperparameters = {{"sagemaker_program", "\"train.py\""},
                         {"learning_rate", "0.1"},
                         {"batch_size", "32"},
                         {"iterations", "20"}};
  Rewrite();
  std::vector<std::string> argv = {(BuildDir() / "apps" / "trainyard-wrap").string(), "train"};
  auto result = RunProcess(argv, Environment(), 120s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(fs::exists(root.model_dir() / "model.json"));
  EXPECT_NE(ReadFile(root.log_file())->find("loss="), std::string::npos);
}

}  // namespace
}  // namespace trainyard
