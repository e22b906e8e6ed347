// Bayesian optimisation with a Gaussian process and expected improvement (Jones, Schonlau and
// Welch 1998; Snoek, Larochelle and Adams, NeurIPS 2012), the bayesian strategy's model while a
// search has few results (docs/search.md): with tens of trials a GP models how the parameters
// act together, where a univariate TPE sees each one alone; its cost grows as n^3, so past
// kGpMaxObservations results the strategy goes on with TPE (core/search_tpe.h).
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <vector>

#include "core/search_observation.h"
#include "core/search_space.h"

namespace trainyard::core {

// The most finished trials the GP is fitted to: at this many, with 4 parameters, one
// suggestion costs about 17 ms CPU (docs/benchmarks.md); a search with more goes on with TPE.
inline constexpr size_t kGpMaxObservations = 64;

// The coordinates of the next trial, one per range: the point of largest expected improvement
// over the best loss so far, under a GP fitted to the observations (a Matern 5/2 kernel with a
// length scale per range, fitted by maximum a posteriori with gamma priors). `pending` holds
// the coordinates of trials suggested but not yet finished: they count as if they had given
// the GP's mean there, so that trials running at once are not all sent to the same point.
// nullopt when the GP cannot be fitted (no observations, a matrix that is not numerically
// positive definite): the caller suggests otherwise.
std::optional<std::vector<double>> SuggestGp(const std::vector<ParameterRange>& ranges,
                                             const std::vector<SearchObservation>& observations,
                                             const std::vector<std::vector<double>>& pending,
                                             std::mt19937_64& random);

}  // namespace trainyard::core
