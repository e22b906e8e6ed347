// The search strategies of a sweep (docs/search.md): random, bayesian (TPE) and hyperband
// (asynchronous successive halving with brackets). Pure functions of the search spec and the
// trials so far: the same seed and the same trials give the same suggestion, whichever process
// asks, so a search that is stopped and started again goes on as it would have.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "common/status.h"
#include "core/hyperparameters.h"
#include "core/objective.h"
#include "core/search_space.h"

namespace trainyard::core {

// One job of a search, as far as the search knows it.
struct Trial {
  HyperparameterMap hyperparameters;  // what the job got: the fixed values and the suggestion
  std::optional<double> objective;    // its final objective value, once it ended with one
  bool ended = false;                 // completed, failed or stopped
};

struct Suggestion {
  HyperparameterMap hyperparameters;  // the fixed values and the suggested ones
  // Hyperband: the bracket and rung the job runs in, and the trial (an index into the trials)
  // whose configuration it continues with more resource; 0, 0, nullopt for other strategies.
  int bracket = 0;
  int rung = 0;
  std::optional<size_t> promoted_from;
};

// The random generator of suggestion `index` of a search seeded with `seed`: every suggestion
// has its own stream, so that it depends on nothing but the seed, its index and the trials.
std::mt19937_64 SuggestionRandom(uint64_t seed, uint64_t index);
// A uniform number in [0, 1) from 53 bits of the generator (the same on every platform, which
// std::uniform_real_distribution does not promise).
double UniformUnit(std::mt19937_64& random);
// A standard normal number by Box-Muller on UniformUnit: the same draws on every platform
// (std::normal_distribution's algorithm is the library's choice).
double StandardNormal(std::mt19937_64& random);

// Random search: every range sampled uniformly in its scaling (integers each with an equal
// share of a linear range; categories each with an equal chance).
HyperparameterMap SampleRandom(const std::vector<ParameterRange>& ranges, std::mt19937_64& random);

// The next job of a search with strategy random, bayesian or hyperband, given the trials so
// far in the order they were suggested (trial i was suggestion i). nullopt when the search
// starts no more jobs (max_jobs trials suggested; hyperband: every configuration of a finite
// space tried and nothing to promote). InvalidArgument for the grid strategy, which
// ExpandSweep enumerates instead. `fixed` goes into every suggestion; `goal` says whether a
// lower or a higher objective is better.
Result<std::optional<Suggestion>> SuggestNext(const SearchSpec& spec,
                                              const HyperparameterMap& fixed, ObjectiveGoal goal,
                                              const std::vector<Trial>& trials);

}  // namespace trainyard::core
