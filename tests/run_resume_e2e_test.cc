// `trainyard run` killed with SIGKILL at each named step (common/step_hook.h) and at an instant
// of the test's choosing, then `trainyard run --resume`: every job ends Completed with its
// results, its code ran exactly once, no job process and no half-written file is left, and a
// second --resume changes nothing. Also what --resume refuses.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "common/files.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::BuildDir;
using testing::JobProcesses;
using testing::Process;
using testing::RunProcess;
using testing::WaitFor;

constexpr int kJobs = 4;

class RunResumeTest : public ::testing::Test {
 protected:
  // A 4-job sweep, 2 at a time, whose code appends its job's name to `runs_` (one short
  // O_APPEND write: whole lines), works for `seconds`, and writes a model.
  std::vector<std::string> Run(const std::string& seconds) {
    std::string script = "echo \"$TRAINING_JOB_NAME\" >> '" + runs_.string() + "'; sleep " +
                         seconds + "; echo weights > \"$SM_MODEL_DIR/model.bin\"; echo trained";
    return {Trainyard(),  "run", "--name",       "once", "--param", "n=1,2,3,4",
            "--parallel", "2",   "--stop-grace", "2",    "--out",   out_.string(),
            "--",         "sh",  "-c",           script};
  }
  std::vector<std::string> Resume() { return {Trainyard(), "run", "--resume", out_.string()}; }
  static std::string Trainyard() { return (BuildDir() / "apps" / "trainyard").string(); }

  std::map<std::string, int> RunsByJob() {
    std::map<std::string, int> counts;
    std::ifstream file(runs_);
    for (std::string line; std::getline(file, line);) counts[line] += 1;
    return counts;
  }

  static std::string Text(const fs::path& path) {
    auto text = ReadFile(path);
    return text.ok() ? *text : std::string();
  }
  json ReadJson(const fs::path& path) {
    auto text = ReadFile(path);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? json::parse(*text, nullptr, false) : json();
  }

  // Every file under out_ (but .work) with its content and modification time.
  std::map<std::string, std::pair<std::string, fs::file_time_type>> Snapshot() {
    std::map<std::string, std::pair<std::string, fs::file_time_type>> files;
    for (const auto& entry : fs::recursive_directory_iterator(out_)) {
      if (!entry.is_regular_file()) continue;
      files[fs::relative(entry.path(), out_).string()] = {Text(entry.path()),
                                                          entry.last_write_time()};
    }
    return files;
  }

  void ExpectEveryJobCompletedOnce() {
    std::map<std::string, int> runs = RunsByJob();
    EXPECT_EQ(runs.size(), static_cast<size_t>(kJobs));  // no run under another name
    for (int i = 1; i <= kJobs; ++i) {
      std::string name = "once-00" + std::to_string(i);
      EXPECT_EQ(runs[name], 1) << name << "'s code ran " << runs[name] << " times";
      fs::path job = out_ / name;
      json status = ReadJson(job / "status.json");
      EXPECT_EQ(status["status"], "Completed") << status.dump();
      EXPECT_EQ(status["hyperparameters"]["n"], std::to_string(i));
      EXPECT_NE(Text(job / "training.log").find("trained"), std::string::npos) << name;
      fs::path unpacked = dir_.path() / "unpacked" / name;
      fs::create_directories(unpacked);
      auto model = archive::Unpack(job / "model.tar.gz", unpacked);
      ASSERT_TRUE(model.ok()) << name << ": " << model.status().ToString();
      EXPECT_EQ(Text(unpacked / "model.bin"), "weights\n") << name;
      EXPECT_TRUE(fs::exists(job / "output.tar.gz")) << name;
    }
    json sweep = ReadJson(out_ / "sweep.json");
    ASSERT_EQ(sweep["jobs"].size(), static_cast<size_t>(kJobs)) << sweep.dump();
    for (const json& job : sweep["jobs"]) EXPECT_EQ(job["status"], "Completed");
    EXPECT_TRUE(WaitFor([&] { return JobProcesses(out_).empty(); }, 10s))
        << "job processes left: " << JobProcesses(out_).size();
    EXPECT_FALSE(fs::exists(out_ / ".work"));
    for (const auto& entry : fs::recursive_directory_iterator(out_)) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos)
          << "half-written: " << entry.path();
    }
  }

  void ExpectASecondResumeChangesNothing() {
    auto before = Snapshot();
    auto again = RunProcess(Resume(), {}, 30s);
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("4 ended, 0 running, 0 to start"), std::string::npos)
        << again.output;
    EXPECT_TRUE(before == Snapshot()) << "a resume of a finished run changed its files";
    EXPECT_EQ(RunsByJob().size(), static_cast<size_t>(kJobs));
  }

  testing::TempDir dir_;
  fs::path out_ = dir_.path() / "out";
  fs::path runs_ = dir_.path() / "runs.txt";
};

class KillAtStepTest : public RunResumeTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(KillAtStepTest, ResumeCompletesEveryJobAndRunsItsCodeOnce) {
  auto killed = RunProcess(Run("0.3"), {{"TRAINYARD_TEST_KILL_AT", GetParam()}}, 60s);
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
  ASSERT_NE(killed.output.find(std::string("killed at ") + GetParam()), std::string::npos)
      << killed.output;

  auto resumed = RunProcess(Resume(), {}, 60s);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming sweep 'once'"), std::string::npos) << resumed.output;
  ExpectEveryJobCompletedOnce();
  ExpectASecondResumeChangesNothing();
}

INSTANTIATE_TEST_SUITE_P(Steps, KillAtStepTest,
                         ::testing::Values("executor.recorded", "executor.staged",
                                           "executor.launched", "executor.packed", "run.recorded",
                                           "run.summarizing"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

TEST_F(RunResumeTest, KilledWhileJobsRunTheyAreAdoptedAndFinished) {
  Process run(Run("2"));
  ASSERT_TRUE(WaitFor([&] { return RunsByJob().size() == 2; }, 30s));
  // While the first process lives, a resume would run its jobs a second time: refused.
  auto refused = RunProcess(Resume(), {}, 30s);
  EXPECT_EQ(refused.exit_code, 5) << refused.output;
  EXPECT_NE(refused.output.find("another `trainyard run`"), std::string::npos) << refused.output;

  run.Signal(SIGKILL);
  EXPECT_EQ(run.Wait(10s).exit_code, 128 + SIGKILL);
  EXPECT_EQ(JobProcesses(out_).size() > 0, true) << "the jobs outlive a killed `trainyard run`";
  auto resumed = RunProcess(Resume(), {}, 60s);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("0 ended, 2 running, 2 to start"), std::string::npos)
      << resumed.output;
  ExpectEveryJobCompletedOnce();
}

TEST_F(RunResumeTest, CtrlCStillStopsEveryJob) {
  Process run(Run("30"));
  ASSERT_TRUE(WaitFor([&] { return RunsByJob().size() == 2; }, 30s));
  run.Signal(SIGINT);
  auto result = run.Wait(30s);
  EXPECT_EQ(result.exit_code, 130) << result.output;
  EXPECT_TRUE(WaitFor([&] { return JobProcesses(out_).empty(); }, 10s))
      << "job processes left after Ctrl-C: " << JobProcesses(out_).size();
  for (const char* name : {"once-001", "once-002", "once-003", "once-004"}) {
    EXPECT_EQ(ReadJson(out_ / name / "status.json")["status"], "Stopped") << name;
  }
}

TEST_F(RunResumeTest, ResumeRefusesADirectoryWithoutARunAndOtherOptions) {
  fs::create_directories(out_);
  auto no_run = RunProcess(Resume(), {}, 30s);
  EXPECT_EQ(no_run.exit_code, 3) << no_run.output;
  EXPECT_NE(no_run.output.find("holds no run to resume"), std::string::npos) << no_run.output;

  auto with_option = RunProcess({Trainyard(), "run", "--resume", out_.string(), "--parallel", "4"});
  EXPECT_EQ(with_option.exit_code, 2) << with_option.output;
  EXPECT_NE(with_option.output.find("--parallel cannot be given with it"), std::string::npos)
      << with_option.output;
  auto with_command = RunProcess({Trainyard(), "run", "--resume", out_.string(), "--", "true"});
  EXPECT_EQ(with_command.exit_code, 2) << with_command.output;
  EXPECT_NE(with_command.output.find("COMMAND"), std::string::npos) << with_command.output;
}

// A run that an earlier trainyard started has job records of that version only: the store
// would queue every job again, those that ran included. Refused, saying why.
TEST_F(RunResumeTest, ARunStartedWithoutTheStoreIsRefused) {
  auto killed = RunProcess(Run("0.1"), {{"TRAINYARD_TEST_KILL_AT", "executor.launched"}}, 60s);
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
  ASSERT_TRUE(WaitFor([&] { return JobProcesses(out_).empty(); }, 10s));
  fs::remove_all(out_ / ".trainyard");
  const std::map<std::string, int> runs = RunsByJob();
  auto refused = RunProcess(Resume(), {}, 30s);
  EXPECT_EQ(refused.exit_code, 5) << refused.output;
  EXPECT_NE(refused.output.find("earlier trainyard"), std::string::npos) << refused.output;
  EXPECT_EQ(RunsByJob(), runs);  // nothing ran again
}

}  // namespace
}  // namespace trainyard
