#include "core/search.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/search_asha.h"
#include "core/search_tpe.h"

namespace trainyard::core {
namespace {

// SplitMix64 (Steele, Lea and Flood 2014): spreads a seed and an index over 64 bits, so that
// neighbouring indices give unrelated streams.
uint64_t SplitMix(uint64_t value) {
  value += 0x9E3779B97F4A7C15ull;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

HyperparameterMap WithFixed(const HyperparameterMap& fixed, HyperparameterMap suggested) {
  for (const auto& [key, value] : fixed) suggested.emplace(key, value);
  return suggested;
}

Suggestion Bayesian(const SearchSpec& spec, const HyperparameterMap& fixed, ObjectiveGoal goal,
                    const std::vector<Trial>& trials, std::mt19937_64& random) {
  std::vector<TpeObservation> observations;
  observations.reserve(trials.size());
  for (const Trial& trial : trials) {
    if (!trial.ended || !trial.objective || !std::isfinite(*trial.objective)) continue;
    TpeObservation observation;
    observation.coordinates.reserve(spec.ranges.size());
    for (const ParameterRange& range : spec.ranges) {
      auto value = trial.hyperparameters.find(range.name);
      if (value == trial.hyperparameters.end()) break;
      Result<double> coordinate = CoordinateOf(range, value->second);
      if (!coordinate.ok()) break;
      observation.coordinates.push_back(*coordinate);
    }
    // A trial whose values are not of the ranges (none the search made) teaches nothing.
    if (observation.coordinates.size() != spec.ranges.size()) continue;
    observation.loss = goal == ObjectiveGoal::kMin ? *trial.objective : -*trial.objective;
    observations.push_back(std::move(observation));
  }
  const std::vector<double> coordinates = SuggestTpe(spec.ranges, observations, random);
  HyperparameterMap suggested;
  for (size_t i = 0; i < spec.ranges.size(); ++i) {
    suggested[spec.ranges[i].name] = EncodeCoordinate(spec.ranges[i], coordinates[i]);
  }
  Suggestion suggestion;
  suggestion.hyperparameters = WithFixed(fixed, std::move(suggested));
  return suggestion;
}

}  // namespace

std::mt19937_64 SuggestionRandom(uint64_t seed, uint64_t index) {
  return std::mt19937_64(SplitMix(SplitMix(seed) ^ index));
}

double UniformUnit(std::mt19937_64& random) {
  return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

HyperparameterMap SampleRandom(const std::vector<ParameterRange>& ranges, std::mt19937_64& random) {
  HyperparameterMap values;
  for (const ParameterRange& range : ranges) {
    const double unit = UniformUnit(random);
    const double coordinate = range.type == ParameterType::kCategorical
                                  ? std::floor(unit * static_cast<double>(range.values.size()))
                                  : unit;
    values[range.name] = EncodeCoordinate(range, coordinate);
  }
  return values;
}

Result<std::optional<Suggestion>> SuggestNext(const SearchSpec& spec,
                                              const HyperparameterMap& fixed, ObjectiveGoal goal,
                                              const std::vector<Trial>& trials) {
  if (spec.strategy == SearchStrategy::kGrid) {
    return InvalidArgument("a grid is enumerated (ExpandSweep), not suggested");
  }
  if (spec.max_jobs <= 0 || trials.size() >= static_cast<size_t>(spec.max_jobs)) {
    return std::optional<Suggestion>();
  }
  std::mt19937_64 random = SuggestionRandom(spec.random_seed.value_or(0), trials.size());
  switch (spec.strategy) {
    case SearchStrategy::kRandom: {
      Suggestion suggestion;
      suggestion.hyperparameters = WithFixed(fixed, SampleRandom(spec.ranges, random));
      return std::optional<Suggestion>(std::move(suggestion));
    }
    case SearchStrategy::kBayesian:
      return std::optional<Suggestion>(Bayesian(spec, fixed, goal, trials, random));
    case SearchStrategy::kHyperband: {
      if (!spec.hyperband) return InvalidArgument("hyperband needs its settings");
      std::optional<Suggestion> suggestion =
          SuggestAsha(*spec.hyperband, spec.ranges, goal, trials, random);
      if (suggestion) {
        suggestion->hyperparameters = WithFixed(fixed, std::move(suggestion->hyperparameters));
      }
      return suggestion;
    }
    case SearchStrategy::kGrid: break;
  }
  return InvalidArgument("unknown strategy");
}

}  // namespace trainyard::core
