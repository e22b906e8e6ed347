// The conformance suite every Executor passes: include this in a test file and instantiate it
// with a factory for the backend:
//   INSTANTIATE_TEST_SUITE_P(Local, ExecutorConformanceTest, ::testing::Values(MakeLocal));
// Jobs run `sh -c` scripts, so a backend must be able to run a plain command.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <thread>

#include "executor/executor.h"

namespace trainyard::executor {

struct ExecutorFactory {
  std::string name;
  // Makes an executor whose job roots live under `work_dir`.
  std::function<ExecutorPtr(const std::filesystem::path& work_dir)> make;
  // Optional: why this backend cannot run here (no container runtime...); non-empty skips every
  // test with that reason printed.
  std::function<std::string()> unavailable;
  // Artifacts this backend cannot hand back, each with why (SageMaker returns only what its
  // model.tar.gz and output.tar.gz hold: no job.json).
  std::map<std::string, std::string> artifacts_not_returned;
};

// Test names and failure messages show the backend's name, not the struct's bytes.
inline void PrintTo(const ExecutorFactory& factory, std::ostream* out) {
  *out << factory.name;
}

class ExecutorConformanceTest : public ::testing::TestWithParam<ExecutorFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;
  JobSpec ShellJob(const std::string& name, const std::string& script);
  // Polls Describe until the job is terminal or `timeout` passes.
  JobDescription WaitForEnd(const std::string& name, std::chrono::seconds timeout);
  // Polls until the job reports `secondary` (or ends).
  void WaitForSecondary(const std::string& name, core::SecondaryStatus secondary,
                        std::chrono::seconds timeout);

  std::filesystem::path dir_;
  ExecutorPtr executor_;
};

}  // namespace trainyard::executor
