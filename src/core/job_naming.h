// Names for the jobs of a sweep.
#pragma once

#include <cstddef>
#include <string>

namespace trainyard::core {

// A valid SageMaker job name for job `index` (0-based) of a sweep of `count` jobs:
// "<sweep>-<NNN>", the 1-based number zero-padded to 3 digits or to the width of `count` when
// wider, so that names sort in job order. The sweep name is sanitised (every character outside
// [a-zA-Z0-9-] becomes '-', runs of '-' collapse, '-' is stripped from both ends, and an empty
// result becomes "job") and cut so that the whole is at most 63 characters. Names are unique
// within a sweep; two sweeps whose names sanitise alike get the same names, so callers keep
// sweep names unique after sanitising.
std::string MakeJobName(const std::string& sweep_name, size_t index, size_t count);

// The sweep name as MakeJobName sanitises it, before any cut.
std::string SanitizeJobNamePrefix(const std::string& sweep_name);

}  // namespace trainyard::core
