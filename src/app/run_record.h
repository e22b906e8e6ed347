// RunRecord: everything `trainyard run` needs to run a sweep's jobs, resolved (every job named,
// every path absolute), kept in the output directory as run.json before any job starts, so that
// `trainyard run --resume DIR` runs the very same jobs after the first process was killed.
// AcquireRunLock: which process is running the sweep of an output directory now.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/run_options.h"
#include "common/file_lock.h"
#include "common/status.h"
#include "core/hyperparameters.h"

namespace trainyard::app {

struct RecordedJob {
  std::string name;
  core::HyperparameterMap hyperparameters;

  bool operator==(const RecordedJob&) const = default;
};

struct RunRecord {
  // Everything that shapes the jobs and the results; out_dir and overwrite are not kept (the
  // record lives in out_dir, and nothing is overwritten on resume), nor the sweep spec, which
  // `jobs` holds expanded.
  RunOptions options;
  std::vector<RecordedJob> jobs;  // in submission order
};

// The record of `options` (with absolute paths) whose sweep expanded to `combinations`: names
// each job as core::MakeJobName does.
RunRecord MakeRunRecord(const RunOptions& options,
                        const std::vector<core::HyperparameterMap>& combinations);

// run.json's content: {"version": 1, "sweep_name", "jobs": [{"name", "hyperparameters"}],
// "channels", "command", "environment", "metric_definitions": [{"name", "regex"}], "parallel",
// "max_runtime_seconds", "stop_grace_period_ms", "objective": {"metric", "goal"} (when set),
// "keep_work", "wrapper"}.
nlohmann::json RunRecordJson(const RunRecord& record);
// The inverse of RunRecordJson, with options.out_dir set to `out_dir`. InvalidArgument naming
// the field for anything RunRecordJson would not write, or another version.
Result<RunRecord> RunRecordFromJson(const nlohmann::json& json,
                                    const std::filesystem::path& out_dir);

// Writes <out_dir>/run.json atomically and durably.
Status WriteRunRecord(const RunRecord& record);
// Reads <out_dir>/run.json. NotFound, saying that the directory holds no `trainyard run`, when it
// is missing; InvalidArgument naming the file and field when it cannot be read.
Result<RunRecord> ReadRunRecord(const std::filesystem::path& out_dir);

// An exclusive lock on <out_dir>/run.json, held while this process runs the sweep: a second
// `trainyard run --resume` on the same directory, or one while the first process still lives,
// would run jobs twice. FailedPrecondition when another process holds it; NotFound without
// run.json.
Result<FileLock> AcquireRunLock(const std::filesystem::path& out_dir);

}  // namespace trainyard::app
