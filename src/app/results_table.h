// The end-of-sweep table: one row per job, best first by the objective.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/run_options.h"
#include "core/hyperparameters.h"
#include "executor/executor.h"

namespace trainyard::app {

struct JobResult {
  std::string job_name;
  core::HyperparameterMap hyperparameters;
  std::optional<executor::JobDescription> description;  // nullopt: never started
  double duration_seconds = 0;
};

// Orders results best first: jobs that have the objective metric, by it; then the rest, in
// submission order. Stable.
void SortBestFirst(std::vector<JobResult>& results,
                   const std::optional<core::Objective>& objective);

// A plain-text table (columns aligned with spaces) of job, status, the hyperparameters that vary
// across the sweep, every final metric (the objective's first) and duration.
std::string FormatResultsTable(const std::vector<JobResult>& results,
                               const std::optional<core::Objective>& objective);

}  // namespace trainyard::app
