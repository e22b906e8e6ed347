#include "executor/executor_conformance.h"

#include <stdlib.h>

#include <fstream>

#include "archive/archive.h"
#include "common/files.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::JobStatus;
using core::SecondaryStatus;
using namespace std::chrono_literals;

void ExecutorConformanceTest::SetUp() {
  if (GetParam().unavailable) {
    std::string reason = GetParam().unavailable();
    if (!reason.empty()) GTEST_SKIP() << GetParam().name << " executor unavailable: " << reason;
  }
  std::string pattern = (fs::temp_directory_path() / "trainyard-executor-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  dir_ = pattern;
  executor_ = GetParam().make(dir_ / "work");
}

void ExecutorConformanceTest::TearDown() {
  executor_.reset();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

JobSpec ExecutorConformanceTest::ShellJob(const std::string& name, const std::string& script) {
  fs::path data = dir_ / "data" / name;
  fs::create_directories(data);
  std::ofstream(data / "train.csv") << "1,2,3\n";
  JobSpec spec;
  spec.definition.job_name = name;
  spec.definition.hyperparameters = {{"learning_rate", "0.1"}};
  spec.definition.channels = {{"training"}};
  spec.channel_sources = {{"training", data / "train.csv"}};
  spec.command = {"sh", "-c", script};
  spec.artifact_dir = dir_ / "out" / name;
  spec.stop_grace_period = 2s;
  return spec;
}

JobDescription ExecutorConformanceTest::WaitForEnd(const std::string& name,
                                                   std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto description = executor_->Describe(name);
    EXPECT_TRUE(description.ok()) << description.status().ToString();
    if (core::IsTerminal(description->status.status()) ||
        std::chrono::steady_clock::now() > deadline) {
      return *description;
    }
    std::this_thread::sleep_for(50ms);
  }
}

void ExecutorConformanceTest::WaitForSecondary(const std::string& name, SecondaryStatus secondary,
                                               std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto description = executor_->Describe(name);
    if (description.ok() && (description->status.secondary_status() == secondary ||
                             core::IsTerminal(description->status.status()))) {
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
}

TEST_P(ExecutorConformanceTest, CompletedJobHasArtifactsAndTransitions) {
  JobSpec spec = ShellJob("ok-job", R"(
    test -f "$SM_CHANNEL_TRAINING/train.csv" || exit 9
    echo '{"progress": 1.0, "metrics": {"loss": 0.5}}' >> "$(dirname "$SM_OUTPUT_DATA_DIR")/progress.jsonl"
    echo weights > "$SM_MODEL_DIR/model.bin"
    echo 0,1 > "$SM_OUTPUT_DATA_DIR/predictions.csv"
    echo trained)");
  ASSERT_TRUE(executor_->Submit(spec).ok());
  JobDescription description = WaitForEnd("ok-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(description.status.secondary_status(), SecondaryStatus::kCompleted);
  EXPECT_EQ(description.exit_code, 0);
  EXPECT_DOUBLE_EQ(description.metrics["loss"], 0.5);
  std::vector<SecondaryStatus> seen;
  for (const auto& transition : description.status.transitions()) seen.push_back(transition.status);
  EXPECT_EQ(seen,
            (std::vector<SecondaryStatus>{SecondaryStatus::kStarting, SecondaryStatus::kDownloading,
                                          SecondaryStatus::kTraining, SecondaryStatus::kUploading,
                                          SecondaryStatus::kCompleted}));

  fs::path out = spec.artifact_dir;
  for (const char* name :
       {"model.tar.gz", "output.tar.gz", "training.log", "job.json", "predictions.csv"}) {
    if (GetParam().artifacts_not_returned.contains(name)) continue;
    EXPECT_TRUE(fs::exists(out / name)) << name;
  }
  fs::path unpacked = dir_ / "unpacked";
  fs::create_directories(unpacked);
  auto files = archive::Unpack(out / "model.tar.gz", unpacked);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, std::vector<std::string>{"model.bin"});
  EXPECT_NE(ReadFile(out / "training.log")->find("trained"), std::string::npos);
}

TEST_P(ExecutorConformanceTest, FailedJobCarriesTheFailureReason) {
  ASSERT_TRUE(executor_->Submit(ShellJob("bad-job", "echo 'out of memory' >&2; exit 3")).ok());
  JobDescription description = WaitForEnd("bad-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  EXPECT_EQ(description.exit_code, 3);
  const std::string& reason = description.status.failure_reason();
  EXPECT_EQ(reason.rfind("AlgorithmError: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("exit code: 3"), std::string::npos) << reason;
  EXPECT_NE(reason.find("out of memory"), std::string::npos) << reason;
}

TEST_P(ExecutorConformanceTest, StopEndsTheJobStopped) {
  JobSpec spec = ShellJob("stop-job", "echo kept > \"$SM_MODEL_DIR/partial\"; sleep 60");
  ASSERT_TRUE(executor_->Submit(spec).ok());
  WaitForSecondary("stop-job", SecondaryStatus::kTraining, 10s);
  std::this_thread::sleep_for(300ms);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(executor_->Stop("stop-job").ok());
  JobDescription description = WaitForEnd("stop-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kStopped);
  EXPECT_EQ(description.status.secondary_status(), SecondaryStatus::kStopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "model.tar.gz"));  // files before a stop are kept
  EXPECT_TRUE(executor_->Stop("stop-job").ok());                // stopping an ended job is a no-op
}

TEST_P(ExecutorConformanceTest, MaxRuntimeEndsStoppedWithMaxRuntimeExceeded) {
  JobSpec spec = ShellJob("slow-job", "trap '' TERM; sleep 60");  // ignores SIGTERM too
  spec.definition.max_runtime_seconds = 1;
  spec.stop_grace_period = 1s;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(executor_->Submit(spec).ok());
  JobDescription description = WaitForEnd("slow-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kStopped);
  EXPECT_EQ(description.status.secondary_status(), SecondaryStatus::kMaxRuntimeExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
}

TEST_P(ExecutorConformanceTest, RejectsBadAndDuplicateJobs) {
  ASSERT_TRUE(executor_->Submit(ShellJob("dup-job", "true")).ok());
  Status duplicate = executor_->Submit(ShellJob("dup-job", "true"));
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists);
  Status bad_name = executor_->Submit(ShellJob("bad_name!", "true"));
  EXPECT_EQ(bad_name.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.message().find("bad_name!"), std::string::npos);
  JobSpec long_value = ShellJob("long-value", "true");
  long_value.definition.hyperparameters["x"] = std::string(2501, 'a');
  EXPECT_EQ(executor_->Submit(long_value).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(executor_->Describe("no-such-job").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(executor_->Stop("no-such-job").code(), StatusCode::kNotFound);
  WaitForEnd("dup-job", 30s);
}

}  // namespace trainyard::executor
