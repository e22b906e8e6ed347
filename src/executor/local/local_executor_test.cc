#include "executor/local/local_executor.h"

#include "common/environment.h"
#include "executor/executor_conformance.h"
#include "support/test_paths.h"

extern char** environ;

namespace trainyard::executor {
namespace {

ExecutorPtr MakeLocal(const std::filesystem::path& work_dir) {
  return std::make_unique<LocalExecutor>(
      LocalExecutorOptions{.work_dir = work_dir,
                           .wrapper_path = testing::BuildDir() / "apps" / "trainyard-wrap",
                           .environment = ParseEnvironment(environ)});
}

INSTANTIATE_TEST_SUITE_P(Local, ExecutorConformanceTest,
                         ::testing::Values(ExecutorFactory{"local", MakeLocal}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace trainyard::executor
