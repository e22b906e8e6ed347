// The jobs of a sweep as its strategy gives them (docs/search.md): a grid's or a list's every
// combination at once; a search's suggestions (core/search.h) from its seed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "control/sweep_request.h"
#include "core/hyperparameters.h"

namespace trainyard::control {

// A seed for a search that was given none, kept with the sweep so that its suggestions can be
// made again: 53 random bits (a JSON number every client reads exactly).
uint64_t NewRandomSeed();

// The jobs a sweep is created with: the grid or list (core::ExpandSweep); for strategy random,
// all max_jobs suggestions (each depends on the seed and its index alone). The request's
// random_seed must be set for a search. FailedPrecondition for a strategy that suggests as
// results come in (bayesian, hyperband), which this server does not run yet.
Result<std::vector<core::HyperparameterMap>> InitialJobs(const SweepRequest& request);

}  // namespace trainyard::control
