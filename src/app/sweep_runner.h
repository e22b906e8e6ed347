// SweepRunner: runs every combination of a sweep as a job on an executor, at most `parallel` at
// a time in submission order (FIFO), shows progress, and writes each job's results.
#pragma once

#include <atomic>
#include <vector>

#include "app/progress_display.h"
#include "app/results_table.h"
#include "app/run_options.h"
#include "executor/executor.h"

namespace trainyard::app {

struct SweepOutcome {
  std::vector<JobResult> results;  // best first by the objective
  bool interrupted = false;
  bool all_completed = false;
};

// Runs the jobs. When `interrupted` becomes true, stops the running jobs (SIGTERM, grace),
// starts no more, and still writes every job's status.json. Writes into options.out_dir:
// <job>/{model.tar.gz, output.tar.gz, training.log, job.json, predictions*, metrics.jsonl,
// status.json} (by the executor and here) and sweep.json.
Result<SweepOutcome> RunSweep(const RunOptions& options,
                              const std::vector<core::HyperparameterMap>& combinations,
                              executor::Executor& executor, ProgressDisplay& display,
                              const std::atomic<bool>& interrupted);

}  // namespace trainyard::app
