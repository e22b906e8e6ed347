// A job's status.json in `trainyard run`'s output directory: what the job ended as, written
// atomically once it ended, and read back by `trainyard run --resume` for the jobs that had.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/results_table.h"
#include "common/status.h"

namespace trainyard::app {

// {"job_name", the status tracker's fields (status, secondary_status, transitions, ...),
//  "final_metrics", "progress", "exit_code" (when known), "hyperparameters",
//  "duration_seconds"}. A job that never started reads Stopped, with no transitions.
nlohmann::json JobResultJson(const JobResult& result);

// The inverse of JobResultJson. InvalidArgument naming the field for anything it would not write.
Result<JobResult> JobResultFromJson(const nlohmann::json& status);

// <out_dir>/<job>/status.json, written atomically (not synced: the caller syncs the whole
// directory once, at the end). Errors: the directory or file cannot be written.
Status WriteJobResultFile(const std::filesystem::path& out_dir, const JobResult& result);

// Reads <out_dir>/<job_name>/status.json. NotFound when there is none (the job has not ended, or
// its end was not recorded yet); InvalidArgument naming the file when it is not one that
// WriteJobResultFile writes.
Result<JobResult> ReadJobResultFile(const std::filesystem::path& out_dir,
                                    const std::string& job_name);

}  // namespace trainyard::app
