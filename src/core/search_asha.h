// Hyperband as asynchronous successive halving (ASHA, Li et al., MLSys 2020, arXiv 1810.05934)
// with Hyperband's brackets (arXiv 1603.06560). Promotion-based: a job runs one rung, with the
// resource of that rung as its hyperparameter; when a slot frees, the best configuration in the
// top 1/eta of a rung that has not gone further is promoted (a new job with eta times the
// resource), the highest rung first; with nothing to promote, a new configuration starts at
// the first rung of the bracket furthest below its share of configurations (Hyperband's n per
// bracket). A configuration that is not promoted is stopped there: it never gets more
// resource. Once a finite space has no new configuration left, the top ceil(n / eta) of each
// complete rung goes on, so that every bracket's best reaches the top rung.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "core/objective.h"
#include "core/search.h"
#include "core/search_space.h"

namespace trainyard::core {

// Brackets 0..S, S the largest with min_resource * eta^S <= max_resource. Bracket s's rungs
// give min_resource * eta^(s + k) for k = 0..S - s, the last rung max_resource itself.
int HyperbandBracketCount(const HyperbandSettings& settings);
int64_t RungResource(const HyperbandSettings& settings, int bracket, int rung);

// The next job (hyperparameters without the fixed values; bracket, rung, promoted_from set).
// The trials are read back from their hyperparameters alone: a configuration is a trial's
// values without the resource, its first trial's resource names its bracket, and its later
// trials are its later rungs. nullopt when a finite space has no new configuration left and
// nothing is to be promoted.
std::optional<Suggestion> SuggestAsha(const HyperbandSettings& settings,
                                      const std::vector<ParameterRange>& ranges, ObjectiveGoal goal,
                                      const std::vector<Trial>& trials, std::mt19937_64& random);

}  // namespace trainyard::core
