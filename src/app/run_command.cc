#include "app/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "app/kill_at_step.h"
#include "app/run_record.h"
#include "app/run_resume.h"
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

fs::path WorkDir(const RunOptions& options) {
  return options.out_dir / ".work";
}

// Detached: each job's wrapper runs in its own session with its state in the work dir, so that
// a `trainyard run` killed outright leaves its jobs running for --resume to adopt. Stopping
// them on Ctrl-C is the sweep runner's (the executor's destructor leaves detached jobs alone).
// The jobs get the allowlisted part of the user's environment only (docs/security.md), and
// --env; a credential the user has in the shell (AWS_*, TRAINYARD_TOKEN) stays there.
std::unique_ptr<executor::LocalExecutor> MakeExecutor(const RunOptions& options,
                                                      const EnvironmentMap& environment,
                                                      const StepHook& on_step) {
  return std::make_unique<executor::LocalExecutor>(
      executor::LocalExecutorOptions{.work_dir = WorkDir(options),
                                     .wrapper_path = options.wrapper_path,
                                     .environment = JobHostEnvironment(environment),
                                     .keep_job_roots = options.keep_job_roots,
                                     .detach_jobs = true,
                                     .on_step = on_step});
}

void PrintResults(const RunOptions& options, const SweepOutcome& outcome) {
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

// Runs the planned jobs to their end, prints the table and returns the exit code.
int RunPlannedSweep(const RunOptions& options, std::vector<PlannedJob> plan,
                    std::unique_ptr<executor::LocalExecutor> executor, const StepHook& on_step) {
  InstallInterruptHandlers();
  ProgressDisplay display(stdout, ::isatty(STDOUT_FILENO));
  Result<SweepOutcome> outcome =
      RunSweep(options, std::move(plan), *executor, display, g_interrupted, on_step);
  executor.reset();  // every job has ended: its threads are done
  // After an error the work dir stays: the executor's records in it let --resume finish the
  // jobs whose end was not recorded.
  if (!outcome.ok()) return Fail(outcome.status());
  if (!options.keep_job_roots) {
    std::error_code error;
    fs::remove_all(WorkDir(options), error);
    if (error) {
      Logger("run").error("path={} could not be removed: {}", WorkDir(options).string(),
                          error.message());
    }
  }
  PrintResults(options, *outcome);
  if (outcome->interrupted) return 130;
  return outcome->all_completed ? 0 : 1;
}

size_t CountStarts(const std::vector<PlannedJob>& plan, JobStart start) {
  return static_cast<size_t>(std::count_if(
      plan.begin(), plan.end(), [start](const auto& job) { return job.start == start; }));
}

}  // namespace

int RunCommand(RunOptions options) {
  if (Status status = ConfigureLogging(options.log); !status.ok()) return Fail(status);
  if (Status status = CheckInputs(options); !status.ok()) return Fail(status);
  auto combinations = core::ExpandSweep(options.sweep);
  if (!combinations.ok()) return Fail(combinations.status());
  if (Status status = PrepareOutDir(options); !status.ok()) return Fail(status);
  // Recorded before any job starts: a --resume after a kill at any later instant runs the same.
  RunRecord record = MakeRunRecord(options, *combinations);
  if (Status status = WriteRunRecord(record); !status.ok()) return Fail(status);
  auto lock = AcquireRunLock(record.options.out_dir);
  if (!lock.ok()) return Fail(lock.status());

  const RunOptions& recorded = record.options;
  std::fprintf(stdout, "trainyard run: sweep '%s', %zu job%s, %zu at a time, results in %s\n",
               recorded.sweep_name.c_str(), record.jobs.size(), record.jobs.size() == 1 ? "" : "s",
               recorded.parallel, recorded.out_dir.c_str());
  std::fflush(stdout);
  std::vector<PlannedJob> plan;
  for (const RecordedJob& job : record.jobs) {
    plan.push_back({{job.name, job.hyperparameters}, JobStart::kSubmit});
  }
  EnvironmentMap environment = ParseEnvironment(environ);
  StepHook on_step = KillAtStep(environment, "trainyard run");
  return RunPlannedSweep(recorded, std::move(plan), MakeExecutor(recorded, environment, on_step),
                         on_step);
}

int ResumeCommand(const fs::path& out_dir) {
  auto record = ReadRunRecord(fs::absolute(out_dir));
  if (!record.ok()) return Fail(record.status());
  auto lock = AcquireRunLock(record->options.out_dir);
  if (!lock.ok()) return Fail(lock.status());
  const RunOptions& options = record->options;

  // Before the adoption: adopted jobs pack their artifacts through temporary files of their own
  // at once, and those are not the killed process's leftovers.
  RemoveInterruptedWrites(*record);
  EnvironmentMap environment = ParseEnvironment(environ);
  StepHook on_step = KillAtStep(environment, "trainyard run");
  std::unique_ptr<executor::LocalExecutor> executor = MakeExecutor(options, environment, on_step);
  if (Status adopted = executor->AdoptRunningJobs(); !adopted.ok()) return Fail(adopted);
  auto plan = PlanResume(*record, *executor);
  if (!plan.ok()) return Fail(plan.status());
  size_t to_start = CountStarts(*plan, JobStart::kSubmit);
  if (to_start > 0) {
    if (Status status = CheckInputs(options); !status.ok()) return Fail(status);
  }

  std::fprintf(
      stdout, "trainyard run: resuming sweep '%s' in %s: %zu ended, %zu running, %zu to start\n",
      options.sweep_name.c_str(), options.out_dir.c_str(), CountStarts(*plan, JobStart::kEnded),
      CountStarts(*plan, JobStart::kFollow), to_start);
  std::fflush(stdout);
  return RunPlannedSweep(options, std::move(plan).value(), std::move(executor), on_step);
}

}  // namespace trainyard::app
