// A sweep: several parameter combinations submitted at once, one training job each.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "core/hyperparameters.h"

namespace trainyard::core {

inline constexpr size_t kDefaultMaxSweepJobs = 10000;

// What to run. Give a grid or a list of combinations, not both; with neither, the sweep is
// the one job of the fixed values.
struct SweepSpec {
  // In every job.
  HyperparameterMap fixed;
  // The cartesian product of these, in this order: the first parameter varies slowest.
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  // Each one job, as listed (entries may name different keys).
  std::vector<HyperparameterMap> combinations;
};

// One HyperparameterMap per job: the fixed values plus the job's combination, in the order of
// nested loops over the grid (first parameter outermost) or of the list. Refused
// (InvalidArgument): a grid and combinations both; a key both fixed and swept; a parameter
// swept twice; an empty value list; a value repeated in one dimension; two identical
// combinations; more than max_jobs jobs (counted before anything is built, so a huge grid
// costs nothing); anything ValidateHyperparameters refuses.
Result<std::vector<HyperparameterMap>> ExpandSweep(const SweepSpec& spec,
                                                   size_t max_jobs = kDefaultMaxSweepJobs);

// The names whose values differ between jobs (a name missing from some jobs counts), in key
// order: the columns worth showing in a table of results.
std::vector<std::string> VaryingKeys(const std::vector<HyperparameterMap>& jobs);

}  // namespace trainyard::core
