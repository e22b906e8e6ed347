// SweepRunner: runs every combination of a sweep as a job on an executor, at most `parallel` at
// a time in submission order (FIFO), shows progress, and writes each job's results. It also
// finishes a sweep that an earlier process left half done (`trainyard run --resume`): each job
// is taken up where it stood.
#pragma once

#include <atomic>
#include <vector>

#include "app/progress_display.h"
#include "app/results_table.h"
#include "app/run_options.h"
#include "common/step_hook.h"
#include "executor/executor.h"

namespace trainyard::app {

// Where a job stands when the runner takes it up.
enum class JobStart {
  kSubmit,  // never started: submitted in its turn
  kFollow,  // known to the executor (running, or ended and not recorded yet): followed to its end
  kEnded,   // ended, and its status.json written: kept as it is
};

struct PlannedJob {
  JobResult result;  // the job's name and hyperparameters; with kEnded, how it ended
  JobStart start = JobStart::kSubmit;
};

struct SweepOutcome {
  std::vector<JobResult> results;  // best first by the objective
  bool interrupted = false;
  bool all_completed = false;
};

// Runs the jobs. When `interrupted` becomes true, stops the running jobs (SIGTERM, grace),
// starts no more, and still writes every job's status.json. Writes into options.out_dir:
// <job>/{model.tar.gz, output.tar.gz, training.log, job.json, predictions*, metrics.jsonl,
// status.json} (by the executor and here) and sweep.json (unless it already says the same).
// On an error (a job refused, a file not written) stops every job it started or followed and
// waits for them to end before returning it.
//
// Steps (common/step_hook.h), for the fault-injection tests: "run.recorded" (a job's
// status.json written), "run.summarizing" (every job ended, sweep.json not written yet; the
// job name is the sweep's).
Result<SweepOutcome> RunSweep(const RunOptions& options, std::vector<PlannedJob> jobs,
                              executor::Executor& executor, ProgressDisplay& display,
                              const std::atomic<bool>& interrupted, const StepHook& on_step = {});

}  // namespace trainyard::app
