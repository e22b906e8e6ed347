#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archive/test_archives.h"
#include "common/files.h"
#include "contract/job_definition.h"
#include "support/test_paths.h"
#include "wrapper/supervisor.h"
#include "wrapper/wrapper.h"

namespace trainyard::wrapper {
namespace {
namespace fs = std::filesystem;

// A SIGTERM that arrives while the job is being prepared ends it before the command runs. The
// wrapper runs in a forked child, which makes the signal pending before RunWrapper starts.
TEST(RunWrapperTest, AStopBeforeTheCommandStartsEndsTheJobWithoutRunningIt) {
  testing::TempDir dir;
  contract::MlRoot root(dir.path() / "ml");
  contract::JobDefinition job;
  job.job_name = "early-stop";
  ASSERT_TRUE(contract::WriteConfigFiles(root, job).ok());
  fs::path marker = dir.path() / "ran";

  pid_t child = ::fork();
  if (child == 0) {
    BlockSupervisedSignals();
    ::raise(SIGTERM);  // pending: blocked until the supervisor would take it
    WrapperOptions options;
    options.ml_root = root.root();
    options.command = {"touch", marker.string()};
    const char* path = std::getenv("PATH");
    ::_exit(RunWrapper(options, {{"PATH", path ? path : "/usr/bin:/bin"}}));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_FALSE(fs::exists(marker));
  auto log = ReadFile(root.log_file());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("stopped (SIGTERM) before the command started"), std::string::npos) << *log;
}

// Runs RunWrapper in a forked child (it blocks signals and becomes a subreaper) and returns its
// exit status.
int RunInChild(const contract::MlRoot& root, std::vector<std::string> command) {
  pid_t child = ::fork();
  if (child == 0) {
    WrapperOptions options;
    options.ml_root = root.root();
    options.command = std::move(command);
    const char* path = std::getenv("PATH");
    ::_exit(RunWrapper(options, {{"PATH", path ? path : "/usr/bin:/bin"}}));
  }
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

nlohmann::json ExitFile(const contract::MlRoot& root) {
  auto text = ReadFile(root.exit_file());
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
}

TEST(RunWrapperTest, TheExitFileRecordsTheExitCode) {
  testing::TempDir dir;
  contract::MlRoot root(dir.path() / "ml");
  contract::JobDefinition job;
  job.job_name = "exit-file";
  ASSERT_TRUE(contract::WriteConfigFiles(root, job).ok());
  EXPECT_EQ(RunInChild(root, {"sh", "-c", "exit 3"}), 3);
  nlohmann::json result = ExitFile(root);
  EXPECT_EQ(result["exit_code"], 3) << result.dump();
  EXPECT_FALSE(result.contains("signal"));
  EXPECT_FALSE(result.contains("failure_type")) << "the command's own failure";
  ASSERT_TRUE(result["ended_at"].is_string());
  EXPECT_EQ(result["ended_at"].get<std::string>().back(), 'Z');
}

TEST(RunWrapperTest, TheExitFileNamesTheSignalThatKilledTheCommand) {
  testing::TempDir dir;
  contract::MlRoot root(dir.path() / "ml");
  contract::JobDefinition job;
  job.job_name = "exit-file-signal";
  ASSERT_TRUE(contract::WriteConfigFiles(root, job).ok());
  EXPECT_EQ(RunInChild(root, {"sh", "-c", "kill -KILL $$"}), 137);
  nlohmann::json result = ExitFile(root);
  EXPECT_EQ(result["exit_code"], 137) << result.dump();
  EXPECT_EQ(result["signal"], "SIGKILL");
}

TEST(RunWrapperTest, TheExitFileIsWrittenWhenSetupFails) {
  testing::TempDir dir;
  contract::MlRoot root(dir.path() / "ml");
  contract::JobDefinition job;
  job.job_name = "exit-file-missing";
  ASSERT_TRUE(contract::WriteConfigFiles(root, job).ok());
  EXPECT_EQ(RunInChild(root, {"no-such-program-xyz"}), kExitCommandNotFound);
  EXPECT_EQ(ExitFile(root)["exit_code"], kExitCommandNotFound);
  EXPECT_EQ(ExitFile(root)["failure_type"], "ClientError");
}

TEST(RunWrapperTest, ARefusedArchiveIsTheJobsInputNotTheAlgorithm) {
  testing::TempDir dir;
  contract::MlRoot root(dir.path() / "ml");
  contract::JobDefinition job;
  job.job_name = "exit-file-archive";
  job.channels = {{.name = "training"}};
  ASSERT_TRUE(contract::WriteConfigFiles(root, job).ok());
  archive::testing::WriteTestArchive(root.channel_dir("training") / "slip.zip",
                                     archive::testing::Format::kZip,
                                     {archive::testing::File("../evil.txt", "x")});
  fs::path marker = dir.path() / "ran";
  EXPECT_EQ(RunInChild(root, {"touch", marker.string()}), kExitSetupFailed);
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_EQ(ExitFile(root)["failure_type"], "ClientError");
  auto failure = ReadFile(root.failure_file());
  ASSERT_TRUE(failure.ok());
  EXPECT_NE(failure->find("'training/slip.zip'"), std::string::npos) << *failure;
}

}  // namespace
}  // namespace trainyard::wrapper
