#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

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

}  // namespace
}  // namespace trainyard::wrapper
