// Bayesian optimisation with the Tree-structured Parzen Estimator (Bergstra et al., NeurIPS
// 2011), univariate, as Hyperopt and Optuna's TPESampler run it by default: the bayesian
// strategy's model once a search has more results than its Gaussian process takes
// (core/search_gp.h). Its cost grows as n log n in the trials (a GP's as n^3), it needs no
// kernel hyperparameters of its own, and it takes continuous, integer and categorical ranges
// alike, which is what SageMaker's ranges are (docs/search.md).
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "core/search_observation.h"
#include "core/search_space.h"

namespace trainyard::core {

struct TpeOptions {
  size_t startup_trials = 10;  // below this many observations, sample at random
  size_t candidates = 24;      // drawn from l(x) per range; the best l(x)/g(x) wins
};

// The coordinates of the next trial, one per range. The observations are split into the best
// gamma(n) = min(ceil(n / 10), 25) ("below", density l) and the rest ("above", density g);
// each numeric range's density is a mixture of Gaussians truncated to [0, 1], one at each
// observation with a bandwidth from its neighbours (clipped to [1 / min(100, n + 1), 1]) plus a
// prior N(0.5, 1); a categorical range's is the counts plus one for every value.
std::vector<double> SuggestTpe(const std::vector<ParameterRange>& ranges,
                               const std::vector<SearchObservation>& observations,
                               std::mt19937_64& random, const TpeOptions& options = {});

}  // namespace trainyard::core
