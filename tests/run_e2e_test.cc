// `trainyard run` end to end: the real binaries, the example trainer, the sample data.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "archive/archive.h"
#include "common/files.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::BuildDir;
using testing::Process;
using testing::RunProcess;
using testing::SourceDir;

class RunTest : public ::testing::Test {
 protected:
  std::vector<std::string> Run(std::vector<std::string> arguments, bool with_trainer = true) {
    std::vector<std::string> argv = {(BuildDir() / "apps" / "trainyard").string(), "run"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    if (with_trainer) {
      argv.push_back("--");
      argv.push_back((BuildDir() / "examples" / "trainer" / "trainyard-example-trainer").string());
    }
    return argv;
  }
  std::string Data(const std::string& name) {
    return (SourceDir() / "examples" / "data" / "digits" / name).string();
  }
  json ReadJson(const fs::path& path) {
    auto text = ReadFile(path);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? json::parse(*text) : json::object();
  }
  // The loss points of a job, in order.
  std::vector<double> Losses(const fs::path& job_dir) {
    std::vector<double> losses;
    std::ifstream in(job_dir / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      json point = json::parse(line);
      if (point["name"] == "loss") losses.push_back(point["value"]);
    }
    return losses;
  }

  testing::TempDir dir;
  fs::path out = dir.path() / "out";
};

TEST_F(RunTest, TwoByTwoSweepCompletesWithEveryArtifact) {
  auto result = RunProcess(Run({"--name",       "digits",
                                "--train",      Data("train.csv"),
                                "--eval",       Data("eval.csv"),
                                "--pretrained", Data("pretrained"),
                                "--param",      "learning_rate=0.1,0.02",
                                "--param",      "batch_size=16,64",
                                "--hp",         "iterations=100",
                                "--objective",  "eval_accuracy:max",
                                "--parallel",   "2",
                                "--out",        out.string()}),
                           {}, 120s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("JOB"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("best by eval_accuracy"), std::string::npos);

  json sweep = ReadJson(out / "sweep.json");
  ASSERT_EQ(sweep["jobs"].size(), 4u);
  double previous = 2.0;
  for (const json& job : sweep["jobs"]) {  // best first
    double accuracy = job["final_metrics"]["eval_accuracy"];
    EXPECT_LE(accuracy, previous);
    previous = accuracy;
  }
  for (const char* name : {"digits-001", "digits-002", "digits-003", "digits-004"}) {
    fs::path job_dir = out / name;
    for (const char* file : {"model.tar.gz", "output.tar.gz", "training.log", "job.json",
                             "predictions.csv", "status.json", "metrics.jsonl"}) {
      EXPECT_TRUE(fs::exists(job_dir / file)) << name << "/" << file;
    }
    json status = ReadJson(job_dir / "status.json");
    EXPECT_EQ(status["status"], "Completed");
    EXPECT_EQ(status["secondary_status_transitions"].back()["status"], "Completed");
    EXPECT_GT(status["final_metrics"]["eval_accuracy"].get<double>(), 0.7);
    std::vector<double> losses = Losses(job_dir);
    ASSERT_GE(losses.size(), 3u);
    EXPECT_LT(losses.back(), losses.front()) << name << ": the loss must fall";

    fs::path unpacked = dir.path() / "unpacked" / name;
    fs::create_directories(unpacked);
    auto files = archive::Unpack(job_dir / "model.tar.gz", unpacked);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    json model = ReadJson(unpacked / "model.json");
    EXPECT_EQ(model["classes"], 10);
    std::ifstream predictions(job_dir / "predictions.csv");
    size_t lines = 0;
    for (std::string line; std::getline(predictions, line);) ++lines;
    EXPECT_EQ(lines, 398u);  // header + one per evaluation row
  }
  json first = ReadJson(out / "digits-001" / "status.json");
  EXPECT_EQ(first["hyperparameters"]["learning_rate"], "0.1");
  EXPECT_EQ(first["hyperparameters"]["batch_size"], "16");
}

TEST_F(RunTest, FineTuningStartsBetterThanFromScratch) {
  std::vector<std::string> common = {"--train", Data("train.csv"), "--hp", "iterations=50"};
  auto with = common, without = common;
  with.insert(with.end(), {"--pretrained", Data("pretrained"), "--name", "tuned", "--out",
                           (out / "tuned").string()});
  without.insert(without.end(), {"--name", "scratch", "--out", (out / "scratch").string()});
  ASSERT_EQ(RunProcess(Run(with), {}, 60s).exit_code, 0);
  ASSERT_EQ(RunProcess(Run(without), {}, 60s).exit_code, 0);
  std::vector<double> tuned = Losses(out / "tuned" / "tuned-001");
  std::vector<double> scratch = Losses(out / "scratch" / "scratch-001");
  ASSERT_FALSE(tuned.empty());
  ASSERT_FALSE(scratch.empty());
  EXPECT_LT(tuned.front(), scratch.front());
  EXPECT_LT(tuned.back(), scratch.back());
}

TEST_F(RunTest, FailedJobMakesTheRunFailWithItsReason) {
  auto argv = Run({"--name", "broken", "--out", out.string()}, false);
  argv.insert(argv.end(), {"--", "sh", "-c", "echo 'bad data' >&2; exit 4"});
  auto result = RunProcess(argv, {}, 60s);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  json status = ReadJson(out / "broken-001" / "status.json");
  EXPECT_EQ(status["status"], "Failed");
  std::string reason = status["failure_reason"];
  EXPECT_EQ(reason.rfind("AlgorithmError: exit code: 4", 0), 0u) << reason;
  EXPECT_NE(reason.find("bad data"), std::string::npos);
}

// The jobs get the allowlisted part of the user's environment and --env (docs/security.md): a
// credential in the shell that runs `trainyard run` never reaches them.
TEST_F(RunTest, JobsGetTheAllowlistAndNoCredentialOfTheShell) {
  auto argv =
      Run({"--name", "printenv", "--env", "JOB_OWN=job-own-value", "--out", out.string()}, false);
  argv.insert(argv.end(), {"--", "sh", "-c", "env | sort"});
  auto result = RunProcess(argv,
                           {{"AWS_ACCESS_KEY_ID", "AKIDRUNENVTEST"},
                            {"AWS_SECRET_ACCESS_KEY", "run-aws-secret-0123456789"},
                            {"AWS_SESSION_TOKEN", "run-aws-session-0123456789"},
                            {"TRAINYARD_TOKEN", "run-admin-token-0123456789"},
                            {"TRAINYARD_URL", "http://127.0.0.1:1"},
                            {"GITHUB_TOKEN", "ghp_run0123456789"},
                            {"SHELL_ONLY_SETTING", "not-for-jobs"},
                            {"TZ", "UTC"}},
                           60s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto log = ReadFile(out / "printenv-001" / "training.log");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_NE(log->find("JOB_OWN=job-own-value"), std::string::npos) << *log;
  EXPECT_NE(log->find("SM_MODEL_DIR="), std::string::npos) << *log;
  EXPECT_NE(log->find("\nPATH="), std::string::npos) << *log;
  EXPECT_NE(log->find("TZ=UTC"), std::string::npos) << *log;
  for (const char* absent :
       {"AWS_", "TRAINYARD_TOKEN", "TRAINYARD_URL", "GITHUB_TOKEN", "SHELL_ONLY_SETTING",
        "run-aws-secret", "run-admin-token", "TRAINYARD_BUILD_DIR"}) {
    EXPECT_EQ(log->find(absent), std::string::npos) << absent << " in:\n" << *log;
  }
}

TEST_F(RunTest, OutMustBeNewOrEmptyUnlessOverwrite) {
  fs::create_directories(out);
  std::ofstream(out / "precious.txt") << "keep me\n";
  auto argv = Run({"--train", Data("train.csv"), "--hp", "iterations=5", "--out", out.string()});
  auto refused = RunProcess(argv, {}, 60s);
  EXPECT_EQ(refused.exit_code, 4) << refused.output;
  EXPECT_NE(refused.output.find("--overwrite"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "precious.txt"));
  argv.insert(argv.begin() + 2, "--overwrite");
  EXPECT_EQ(RunProcess(argv, {}, 60s).exit_code, 0);
  EXPECT_FALSE(fs::exists(out / "precious.txt"));
}

TEST_F(RunTest, MaxRuntimeEndsStoppedWithMaxRuntimeExceeded) {
  auto argv = Run(
      {"--name", "slow", "--max-runtime", "1", "--stop-grace", "1", "--out", out.string()}, false);
  argv.insert(argv.end(), {"--", "sleep", "30"});
  auto result = RunProcess(argv, {}, 60s);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_LT(result.elapsed, 15s);
  json status = ReadJson(out / "slow-001" / "status.json");
  EXPECT_EQ(status["status"], "Stopped");
  EXPECT_EQ(status["secondary_status"], "MaxRuntimeExceeded");
}

TEST_F(RunTest, CtrlCStopsEveryJobAndStillWritesStatus) {
  auto argv = Run(
      {"--name", "interrupted", "--param", "seed=1,2", "--stop-grace", "2", "--out", out.string()},
      false);
  argv.insert(argv.end(), {"--", "sleep", "30"});
  Process run(argv);
  std::this_thread::sleep_for(1500ms);
  run.Signal(SIGINT);
  auto result = run.Wait(20s);
  EXPECT_EQ(result.exit_code, 130) << result.output;
  EXPECT_EQ(ReadJson(out / "interrupted-001" / "status.json")["status"], "Stopped");
  EXPECT_EQ(ReadJson(out / "interrupted-002" / "status.json")["status"], "Stopped");
}

TEST_F(RunTest, GridFileCombinationsReachTheCodeTyped) {
  fs::path grid = dir.path() / "grid.json";
  std::ofstream(grid) << R"({"fixed": {"epochs": 2},
                             "combinations": [{"lr": 0.1, "layers": [64, 32]}, {"lr": "auto"}]})";
  auto argv = Run({"--name", "grid", "--grid", grid.string(), "--out", out.string()}, false);
  argv.insert(argv.end(), {"--", "true"});  // job.json is handed back with every job
  auto result = RunProcess(argv, {}, 60s);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  json first = ReadJson(out / "grid-001" / "job.json");
  EXPECT_EQ(first["hyperparameters"]["lr"], 0.1);
  EXPECT_EQ(first["hyperparameters"]["layers"], json::array({64, 32}));
  EXPECT_EQ(first["hyperparameters"]["epochs"], 2);
  EXPECT_EQ(first["hyperparameters_raw"]["layers"], "[64,32]");
  json second = ReadJson(out / "grid-002" / "job.json");
  EXPECT_EQ(second["hyperparameters"]["lr"], "auto");
  EXPECT_FALSE(second["hyperparameters"].contains("layers"));
}

TEST_F(RunTest, BadInputIsRefusedBeforeAnythingRuns) {
  auto result = RunProcess(Run({"--param", "learning_rate=", "--out", out.string()}));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("learning_rate"), std::string::npos) << result.output;
  auto missing = RunProcess(Run({"--train", "/no/such/file.csv", "--out", out.string()}));
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find("/no/such/file.csv"), std::string::npos);
  auto bad_env = RunProcess(Run({"--env", "1BAD=x", "--out", out.string()}));
  EXPECT_EQ(bad_env.exit_code, 2) << bad_env.output;
  EXPECT_NE(bad_env.output.find("1BAD"), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace trainyard
