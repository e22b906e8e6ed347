#include "core/search_asha.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string>

namespace trainyard::core {
namespace {

constexpr int kNewConfigurationAttempts = 100;

struct Placed {
  size_t trial = 0;
  HyperparameterMap configuration;  // the trial's values without the resource
  int bracket = 0;
  int rung = 0;
};

std::optional<int64_t> ParseResource(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

int HyperbandBracketCount(const HyperbandSettings& settings) {
  int brackets = 1;
  int64_t resource = settings.min_resource;
  while (resource <= settings.max_resource / settings.eta) {
    resource *= settings.eta;
    ++brackets;
  }
  return brackets;
}

int64_t RungResource(const HyperbandSettings& settings, int bracket, int rung) {
  const int top = HyperbandBracketCount(settings) - 1;
  if (bracket + rung >= top) return settings.max_resource;
  int64_t resource = settings.min_resource;
  for (int i = 0; i < bracket + rung; ++i) resource *= settings.eta;
  return resource;
}

std::optional<Suggestion> SuggestAsha(const HyperbandSettings& settings,
                                      const std::vector<ParameterRange>& ranges, ObjectiveGoal goal,
                                      const std::vector<Trial>& trials, std::mt19937_64& random) {
  const int brackets = HyperbandBracketCount(settings);
  // Each configuration's chain of trials, rung by rung.
  std::map<HyperparameterMap, std::vector<Placed>> chains;
  std::vector<Placed> placed;
  int new_configurations = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    HyperparameterMap configuration;
    for (const ParameterRange& range : ranges) {
      auto value = trials[i].hyperparameters.find(range.name);
      if (value != trials[i].hyperparameters.end()) configuration[range.name] = value->second;
    }
    auto resource_text = trials[i].hyperparameters.find(settings.resource);
    if (resource_text == trials[i].hyperparameters.end()) continue;
    const std::optional<int64_t> resource = ParseResource(resource_text->second);
    if (!resource) continue;
    std::vector<Placed>& chain = chains[configuration];
    Placed place{i, configuration, 0, 0};
    if (chain.empty()) {
      ++new_configurations;
      int bracket = 0;
      while (bracket < brackets && RungResource(settings, bracket, 0) != *resource) ++bracket;
      if (bracket == brackets) continue;  // not a first rung of this search
      place.bracket = bracket;
    } else {
      place.bracket = chain.front().bracket;
      place.rung = static_cast<int>(chain.size());
    }
    chain.push_back(place);
    placed.push_back(place);
  }

  const auto loss = [&](size_t trial) {
    return goal == ObjectiveGoal::kMin ? *trials[trial].objective : -*trials[trial].objective;
  };
  // Promotions first, from the highest rung down: the top 1/eta of the results of a rung that
  // has not gone on yet.
  for (int rung = brackets - 2; rung >= 0; --rung) {
    for (int bracket = 0; bracket + rung < brackets - 1; ++bracket) {
      std::vector<const Placed*> results;
      for (const Placed& place : placed) {
        const Trial& trial = trials[place.trial];
        if (place.bracket == bracket && place.rung == rung && trial.ended && trial.objective &&
            std::isfinite(*trial.objective)) {
          results.push_back(&place);
        }
      }
      const size_t promotable = results.size() / static_cast<size_t>(settings.eta);
      if (promotable == 0) continue;
      std::stable_sort(results.begin(), results.end(), [&](const Placed* a, const Placed* b) {
        return loss(a->trial) < loss(b->trial);
      });
      for (size_t k = 0; k < promotable; ++k) {
        const HyperparameterMap& configuration = results[k]->configuration;
        if (chains[configuration].size() > static_cast<size_t>(rung + 1)) continue;
        Suggestion suggestion;
        suggestion.bracket = bracket;
        suggestion.rung = rung + 1;
        suggestion.promoted_from = results[k]->trial;
        suggestion.hyperparameters = configuration;
        suggestion.hyperparameters[settings.resource] =
            std::to_string(RungResource(settings, bracket, rung + 1));
        return suggestion;
      }
    }
  }

  // A new configuration, in the next bracket in turn; one already tried is drawn again.
  Suggestion suggestion;
  suggestion.bracket = new_configurations % brackets;
  for (int attempt = 0; attempt < kNewConfigurationAttempts; ++attempt) {
    HyperparameterMap configuration = SampleRandom(ranges, random);
    if (chains.count(configuration)) continue;
    suggestion.hyperparameters = std::move(configuration);
    suggestion.hyperparameters[settings.resource] =
        std::to_string(RungResource(settings, suggestion.bracket, 0));
    return suggestion;
  }
  return std::nullopt;
}

}  // namespace trainyard::core
