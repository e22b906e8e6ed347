// End-to-end tests of trainyard-example-trainer: a hand-made job.json in, files and exit status
// out, the way trainyard-wrap runs it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDigitsDir = EXAMPLE_DIGITS_DIR;
const char* const kTrainerPath = EXAMPLE_TRAINER_PATH;

std::string ReadFile(const fs::path& path) {
  std::ifstream input(path);
  std::stringstream content;
  content << input.rdbuf();
  return content.str();
}

std::vector<json> ReadJsonLines(const fs::path& path) {
  std::vector<json> lines;
  std::ifstream input(path);
  for (std::string line; std::getline(input, line);) lines.push_back(json::parse(line));
  return lines;
}

class TrainerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("trainyard-example-" + std::string(test->name()) + "-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  json Job(const json& hyperparameters, const json& channels) const {
    return {{"schema", "trainyard.job/v1"},
            {"job_name", "cli-test"},
            {"hyperparameters", hyperparameters},
            {"channels", channels},
            {"model_dir", (root_ / "model").string()},
            {"output_dir", (root_ / "output/data").string()},
            {"progress_file", (root_ / "output/progress.jsonl").string()},
            {"failure_file", (root_ / "output/failure").string()}};
  }

  static json DigitsChannel(const std::string& file) {
    return {{"dir", kDigitsDir.string()}, {"files", {file}}};
  }

  static json DigitsChannels(bool with_pretrained) {
    json channels = {{"training", DigitsChannel("train.csv")},
                     {"evaluation", DigitsChannel("eval.csv")}};
    if (with_pretrained) {
      channels["pretrained"] = {{"dir", (kDigitsDir / "pretrained").string()},
                                {"files", {"model.json"}}};
    }
    return channels;
  }

  // Starts the trainer with stdout/stderr captured under root_; returns its pid.
  pid_t Start(const json& job) {
    const auto job_path = root_ / "job.json";
    std::ofstream(job_path) << job.dump(2);
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(open((root_ / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
      dup2(open((root_ / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
      setenv("TRAINYARD_JOB_JSON", job_path.c_str(), 1);
      execl(kTrainerPath, kTrainerPath, static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }

  static int Wait(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  int Run(const json& job) { return Wait(Start(job)); }

  std::vector<json> Progress() const { return ReadJsonLines(root_ / "output/progress.jsonl"); }
  std::string Stdout() const { return ReadFile(root_ / "stdout"); }
  std::string Stderr() const { return ReadFile(root_ / "stderr"); }

  fs::path root_;
};

const json kDefaultRun = {{"learning_rate", 0.1}, {"batch_size", 32}, {"iterations", 200}};

TEST_F(TrainerCliTest, TrainsEvaluatesAndWritesModelPredictionsAndProgress) {
  ASSERT_EQ(Run(Job(kDefaultRun, DigitsChannels(false))), 0) << Stderr();

  const auto progress = Progress();
  ASSERT_GE(progress.size(), 3u);
  EXPECT_EQ(progress.front()["step"], 0);
  EXPECT_NEAR(progress.front()["metrics"]["loss"].get<double>(), std::log(10.0), 1e-5);
  EXPECT_EQ(progress.back()["step"], 200);
  EXPECT_EQ(progress.back()["progress"], 1.0);
  EXPECT_GT(progress.back()["metrics"]["eval_accuracy"].get<double>(), 0.75);
  EXPECT_LT(progress.back()["metrics"]["loss"].get<double>(), 1.0);
  EXPECT_NE(Stdout().find("step=200/200 loss="), std::string::npos) << Stdout();
  EXPECT_NE(Stdout().find("eval_accuracy="), std::string::npos) << Stdout();

  const json model = json::parse(ReadFile(root_ / "model/model.json"));
  EXPECT_EQ(model["format"], "trainyard.example.softmax/v1");
  EXPECT_EQ(model["weights"].size(), 10u);
  EXPECT_EQ(model["weights"][0].size(), 64u);
  EXPECT_EQ(model["trained_steps"], 200);

  std::ifstream predictions(root_ / "output/data/predictions.csv");
  std::string header;
  std::getline(predictions, header);
  EXPECT_EQ(header, "row,label,predicted,confidence");
  int rows = 0;
  for (std::string line; std::getline(predictions, line);) ++rows;
  EXPECT_EQ(rows, 397);
}

TEST_F(TrainerCliTest, FineTuningStartsBelowTheLossFromScratch) {
  ASSERT_EQ(Run(Job(kDefaultRun, DigitsChannels(false))), 0) << Stderr();
  const auto scratch = Progress();
  fs::remove(root_ / "output/progress.jsonl");
  ASSERT_EQ(Run(Job(kDefaultRun, DigitsChannels(true))), 0) << Stderr();
  const auto fine_tuned = Progress();

  EXPECT_LT(fine_tuned.front()["metrics"]["loss"].get<double>(),
            scratch.front()["metrics"]["loss"].get<double>());
  EXPECT_LT(fine_tuned.back()["metrics"]["loss"].get<double>(),
            scratch.back()["metrics"]["loss"].get<double>());
  const json model = json::parse(ReadFile(root_ / "model/model.json"));
  EXPECT_GT(model["trained_steps"].get<int>(), 200);  // counts the pretraining steps too
}

TEST_F(TrainerCliTest, SameSeedGivesTheSameModel) {
  ASSERT_EQ(Run(Job({{"iterations", 50}, {"seed", 3}}, DigitsChannels(false))), 0);
  const std::string first = ReadFile(root_ / "model/model.json");
  ASSERT_EQ(Run(Job({{"iterations", 50}, {"seed", 3}}, DigitsChannels(false))), 0);
  EXPECT_EQ(ReadFile(root_ / "model/model.json"), first);
}

TEST_F(TrainerCliTest, MissingTrainingChannelFailsNamingIt) {
  EXPECT_EQ(Run(Job(kDefaultRun, {{"evaluation", DigitsChannel("eval.csv")}})), 1);
  EXPECT_NE(Stderr().find("channel 'training'"), std::string::npos) << Stderr();
  EXPECT_NE(ReadFile(root_ / "output/failure").find("channel 'training'"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "model/model.json"));
}

TEST_F(TrainerCliTest, TrainingChannelWithoutCsvFailsNamingIt) {
  EXPECT_EQ(
      Run(Job(kDefaultRun, {{"training", {{"dir", root_.string()}, {"files", json::array()}}}})),
      1);
  EXPECT_NE(Stderr().find("channel 'training' has no .csv files"), std::string::npos) << Stderr();
}

TEST_F(TrainerCliTest, MalformedCsvLineFailsNamingFileAndLine) {
  fs::create_directories(root_ / "data");
  fs::copy_file(kDigitsDir / "eval.csv", root_ / "data/rows.csv");
  std::ofstream(root_ / "data/rows.csv", std::ios::app) << "1,2,3\n";
  const json channel = {{"dir", (root_ / "data").string()}, {"files", {"rows.csv"}}};
  EXPECT_EQ(Run(Job(kDefaultRun, {{"training", channel}})), 1);
  EXPECT_NE(Stderr().find("rows.csv:398:"), std::string::npos) << Stderr();
}

TEST_F(TrainerCliTest, BadHyperparameterFailsNamingIt) {
  EXPECT_EQ(Run(Job({{"batch_size", 0}}, DigitsChannels(false))), 1);
  EXPECT_NE(Stderr().find("'batch_size'"), std::string::npos) << Stderr();
}

TEST_F(TrainerCliTest, SigtermWritesTheModelSoFarAndExits143) {
  const pid_t pid = Start(Job({{"iterations", 100000000}}, DigitsChannels(false)));
  // The step-0 line is written just before the first update, so training is under way then.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(root_ / "output/progress.jsonl") || Progress().empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "trainer never reported step 0";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(pid, SIGTERM);
  EXPECT_EQ(Wait(pid), 143) << Stderr();

  const json model = json::parse(ReadFile(root_ / "model/model.json"));
  EXPECT_GT(model["trained_steps"].get<long long>(), 0);
  EXPECT_LT(model["trained_steps"].get<long long>(), 100000000);
  EXPECT_NE(Progress().back()["message"].get<std::string>().find("stopped by SIGTERM"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "output/data/predictions.csv"));
}

}  // namespace
