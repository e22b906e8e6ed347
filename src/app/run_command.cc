#include "app/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "app/sweep_runner.h"
#include "common/environment.h"
#include "common/files.h"
#include "common/log.h"
#include "core/sagemaker_limits.h"
#include "executor/local/local_executor.h"

extern char** environ;

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) {
  g_interrupted = true;
}

void InstallInterruptHandlers() {
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Results are never replaced silently: --out must be new or empty unless --overwrite.
Status PrepareOutDir(const RunOptions& options) {
  std::error_code error;
  if (fs::exists(options.out_dir, error)) {
    if (!fs::is_directory(options.out_dir, error)) {
      return InvalidArgument("--out '" + options.out_dir.string() + "' is not a directory");
    }
    if (!fs::is_empty(options.out_dir, error)) {
      if (!options.overwrite) {
        return AlreadyExists("--out '" + options.out_dir.string() +
                             "' is not empty: choose a new directory, or pass --overwrite to "
                             "replace its contents");
      }
      for (const fs::directory_entry& entry : fs::directory_iterator(options.out_dir)) {
        fs::remove_all(entry.path(), error);
        if (error)
          return Internal("cannot clear '" + entry.path().string() + "': " + error.message());
      }
    }
  }
  return MakeDirectories(options.out_dir);
}

Status CheckInputs(const RunOptions& options) {
  for (const auto& [channel, path] : options.channels) {
    if (!fs::exists(path)) {
      return NotFound("channel '" + channel + "': '" + path.string() + "' does not exist");
    }
  }
  if (options.parallel < 1) return InvalidArgument("--parallel must be at least 1");
  TY_RETURN_IF_ERROR(
      core::ValidateMaxRuntimeSeconds(options.max_runtime_seconds).WithContext("--max-runtime"));
  TY_RETURN_IF_ERROR(core::ValidateEnvironment(options.environment).WithContext("--env"));
  if (!fs::exists(options.wrapper_path)) {
    return NotFound("trainyard-wrap not found at '" + options.wrapper_path.string() +
                    "' (pass --wrapper PATH)");
  }
  return Status::Ok();
}

int Fail(const Status& status) {
  std::fprintf(stderr, "trainyard run: %s\n", status.message().c_str());
  return ToExitCode(status);
}

}  // namespace

int RunCommand(RunOptions options) {
  if (Status status = ConfigureLogging(options.log); !status.ok()) return Fail(status);
  if (Status status = CheckInputs(options); !status.ok()) return Fail(status);
  auto combinations = core::ExpandSweep(options.sweep);
  if (!combinations.ok()) return Fail(combinations.status());
  if (Status status = PrepareOutDir(options); !status.ok()) return Fail(status);
  options.out_dir = fs::absolute(options.out_dir);

  fs::path work_dir = options.out_dir / ".work";
  bool interactive = ::isatty(STDOUT_FILENO);
  std::fprintf(stdout, "trainyard run: sweep '%s', %zu job%s, %zu at a time, results in %s\n",
               options.sweep_name.c_str(), combinations->size(),
               combinations->size() == 1 ? "" : "s", options.parallel, options.out_dir.c_str());
  std::fflush(stdout);

  InstallInterruptHandlers();
  ProgressDisplay display(stdout, interactive);
  Result<SweepOutcome> outcome = Internal("sweep did not run");
  {
    executor::LocalExecutor executor({.work_dir = work_dir,
                                      .wrapper_path = options.wrapper_path,
                                      .environment = ParseEnvironment(environ),
                                      .keep_job_roots = options.keep_job_roots});
    outcome = RunSweep(options, *combinations, executor, display, g_interrupted);
  }
  if (!options.keep_job_roots) {
    std::error_code ignored;
    fs::remove_all(work_dir, ignored);
  }
  if (!outcome.ok()) return Fail(outcome.status());

  std::fputs("\n", stdout);
  std::fputs(FormatResultsTable(outcome->results, options.objective).c_str(), stdout);
  std::fprintf(stdout,
               "\nresults: %s (sweep.json, and a folder per job with model.tar.gz, "
               "output.tar.gz, training.log, job.json, status.json)\n",
               options.out_dir.c_str());
  if (options.objective && !outcome->results.empty() && outcome->results.front().description &&
      outcome->results.front().description->metrics.count(options.objective->metric)) {
    const JobResult& best = outcome->results.front();
    std::fprintf(stdout, "best by %s: %s (%s)\n", options.objective->metric.c_str(),
                 best.job_name.c_str(), (options.out_dir / best.job_name).c_str());
  }
  if (outcome->interrupted) return 130;
  return outcome->all_completed ? 0 : 1;
}

}  // namespace trainyard::app
