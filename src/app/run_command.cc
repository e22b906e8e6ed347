#include "app/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "app/kill_at_step.h"
#include "app/run_adapter.h"
#include "app/run_record.h"
#include "app/run_resume.h"
#include "common/environment.h"
#include "common/files.h"
#include "common/log.h"
#include "core/sagemaker_limits.h"

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

// The command's error line on stderr, and its exit code.
int RunFailure(const Status& status) {
  return ReportFailure("trainyard run", status);
}

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

void PrintResults(const RunOptions& options, const RunOutcome& outcome) {
  std::fputs("\n", stdout);
  std::fputs(FormatResultsTable(outcome.results, options.objective).c_str(), stdout);
  std::fprintf(stdout,
               "\nresults: %s (sweep.json, and a folder per job with model.tar.gz, "
               "output.tar.gz, training.log, job.json, status.json)\n",
               options.out_dir.c_str());
  if (options.objective && !outcome.results.empty() && outcome.results.front().description &&
      outcome.results.front().description->metrics.count(options.objective->metric)) {
    const JobResult& best = outcome.results.front();
    std::fprintf(stdout, "best by %s: %s (%s)\n", options.objective->metric.c_str(),
                 best.job_name.c_str(), (options.out_dir / best.job_name).c_str());
  }
}

// Runs the recorded jobs to their end through the adapter, prints the table and returns the
// exit code.
int RunToTheEnd(const RunOptions& options, std::unique_ptr<RunAdapter> adapter) {
  InstallInterruptHandlers();
  ProgressDisplay display(stdout, ::isatty(STDOUT_FILENO));
  Result<RunOutcome> outcome = adapter->Run(display, g_interrupted);
  adapter.reset();  // the scheduler, then the executor: every job has ended
  // After an error the work dir stays: the executor's records in it let --resume finish the
  // jobs whose end was not recorded.
  if (!outcome.ok()) return RunFailure(outcome.status());
  if (!options.keep_job_roots) {
    std::error_code error;
    fs::remove_all(RunWorkDir(options.out_dir), error);
    if (error) {
      Logger("run").error("path={} could not be removed: {}", RunWorkDir(options.out_dir).string(),
                          error.message());
    }
  }
  PrintResults(options, *outcome);
  if (outcome->interrupted) return 130;
  return outcome->all_completed ? 0 : 1;
}

}  // namespace

int RunCommand(RunOptions options) {
  if (Status status = ConfigureLogging(options.log); !status.ok()) return RunFailure(status);
  if (Status status = CheckInputs(options); !status.ok()) return RunFailure(status);
  auto combinations = core::ExpandSweep(options.sweep);
  if (!combinations.ok()) return RunFailure(combinations.status());
  if (Status status = PrepareOutDir(options); !status.ok()) return RunFailure(status);
  // Recorded before any job starts: a --resume after a kill at any later instant runs the same.
  RunRecord record = MakeRunRecord(options, *combinations);
  if (Status status = WriteRunRecord(record); !status.ok()) return RunFailure(status);
  auto lock = AcquireRunLock(record.options.out_dir);
  if (!lock.ok()) return RunFailure(lock.status());

  const RunOptions& recorded = record.options;
  std::fprintf(stdout, "trainyard run: sweep '%s', %zu job%s, %zu at a time, results in %s\n",
               recorded.sweep_name.c_str(), record.jobs.size(), record.jobs.size() == 1 ? "" : "s",
               recorded.parallel, recorded.out_dir.c_str());
  std::fflush(stdout);
  EnvironmentMap environment = ParseEnvironment(environ);
  auto adapter = RunAdapter::Open(record, environment, KillAtStep(environment, "trainyard run"));
  if (!adapter.ok()) return RunFailure(adapter.status());
  return RunToTheEnd(recorded, std::move(adapter).value());
}

int ResumeCommand(const fs::path& out_dir) {
  auto record = ReadRunRecord(fs::absolute(out_dir));
  if (!record.ok()) return RunFailure(record.status());
  auto lock = AcquireRunLock(record->options.out_dir);
  if (!lock.ok()) return RunFailure(lock.status());
  const RunOptions& options = record->options;

  // A run whose jobs were started without the store (by a trainyard before the scheduler ran
  // `trainyard run`) would have every job queued again, the ones that ran included.
  std::error_code error;
  if (!fs::exists(RunStoreDir(options.out_dir) / "metadata.db", error) &&
      fs::exists(RunWorkDir(options.out_dir), error)) {
    return RunFailure(FailedPrecondition(
        "'" + options.out_dir.string() +
        "' was run by an earlier trainyard (it has .work but no .trainyard/metadata.db): "
        "resume it with that version"));
  }
  // Before the adoption: adopted jobs pack their artifacts through temporary files of their own
  // at once, and those are not the killed process's leftovers.
  RemoveInterruptedWrites(*record);
  EnvironmentMap environment = ParseEnvironment(environ);
  auto adapter = RunAdapter::Open(*record, environment, KillAtStep(environment, "trainyard run"));
  if (!adapter.ok()) return RunFailure(adapter.status());
  auto standing = (*adapter)->Standing();
  if (!standing.ok()) return RunFailure(standing.status());
  if (standing->to_start > 0) {
    if (Status status = CheckInputs(options); !status.ok()) return RunFailure(status);
  }

  std::fprintf(stdout,
               "trainyard run: resuming sweep '%s' in %s: %zu ended, %zu running, %zu to start\n",
               options.sweep_name.c_str(), options.out_dir.c_str(), standing->ended,
               standing->running, standing->to_start);
  std::fflush(stdout);
  return RunToTheEnd(options, std::move(adapter).value());
}

}  // namespace trainyard::app
