// The search fields of POST /api/v1/sweeps (docs/search.md): strategy, ranges, max_jobs,
// random_seed, hyperband and early_stopping (every strategy), read into SweepRequest::search and
// written back. Used by sweep_request.cc only.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "control/sweep_request.h"

namespace trainyard::control {

// Reads the search fields of a body into request.search, after request.sweep.fixed was read.
// FieldError naming the field: an unknown strategy or scaling, a range that is not one
// (core::ValidateRange), a name both fixed and searched, a missing max_jobs, objective (bayesian
// and hyperband; early_stopping auto) or hyperband block, grid-only or search-only fields given to
// the other.
Status ParseSearchFields(const nlohmann::json& body, SweepRequest& request);

// The canonical search fields of a request with a strategy other than grid (nothing for grid).
void WriteSearchFields(const SweepRequest& request, nlohmann::json& body);

}  // namespace trainyard::control
