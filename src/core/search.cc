#include "core/search.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/search_asha.h"
#include "core/search_gp.h"
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

// The trial's coordinates in the ranges; nullopt for values that are not of the ranges (none
// the search made), which teach nothing.
std::optional<std::vector<double>> CoordinatesOf(const SearchSpec& spec, const Trial& trial) {
  std::vector<double> coordinates;
  coordinates.reserve(spec.ranges.size());
  for (const ParameterRange& range : spec.ranges) {
    auto value = trial.hyperparameters.find(range.name);
    if (value == trial.hyperparameters.end()) return std::nullopt;
    Result<double> coordinate = CoordinateOf(range, value->second);
    if (!coordinate.ok()) return std::nullopt;
    coordinates.push_back(*coordinate);
  }
  return coordinates;
}

// The GP while the results are few, TPE past them (docs/search.md); both start with
// TpeOptions::startup_trials random trials.
Suggestion Bayesian(const SearchSpec& spec, const HyperparameterMap& fixed, ObjectiveGoal goal,
                    const std::vector<Trial>& trials, std::mt19937_64& random) {
  std::vector<SearchObservation> observations;
  std::vector<std::vector<double>> pending;
  observations.reserve(trials.size());
  for (const Trial& trial : trials) {
    std::optional<std::vector<double>> coordinates = CoordinatesOf(spec, trial);
    if (!coordinates) continue;
    if (!trial.ended) {
      pending.push_back(std::move(*coordinates));
      continue;
    }
    if (!trial.objective || !std::isfinite(*trial.objective)) continue;
    const double loss = goal == ObjectiveGoal::kMin ? *trial.objective : -*trial.objective;
    observations.push_back({std::move(*coordinates), loss});
  }
  std::optional<std::vector<double>> coordinates;
  if (observations.size() >= TpeOptions{}.startup_trials &&
      observations.size() <= kGpMaxObservations) {
    coordinates = SuggestGp(spec.ranges, observations, pending, random);
  }
  if (!coordinates) coordinates = SuggestTpe(spec.ranges, observations, random);
  HyperparameterMap suggested;
  for (size_t i = 0; i < spec.ranges.size(); ++i) {
    suggested[spec.ranges[i].name] = EncodeCoordinate(spec.ranges[i], (*coordinates)[i]);
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

double StandardNormal(std::mt19937_64& random) {
  const double radius = std::sqrt(-2.0 * std::log(1.0 - UniformUnit(random)));
  return radius * std::cos(2.0 * M_PI * UniformUnit(random));
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
