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

// The trials read back into brackets and rungs.
struct Ladder {
  std::map<HyperparameterMap, std::vector<Placed>> chains;  // each configuration, rung by rung
  std::vector<Placed> placed;
  std::vector<int64_t> started;  // new configurations per bracket
};

std::optional<int64_t> ParseResource(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Ladder ReadTrials(const HyperbandSettings& settings, const std::vector<ParameterRange>& ranges,
                  const std::vector<Trial>& trials) {
  const int brackets = HyperbandBracketCount(settings);
  Ladder ladder;
  ladder.started.assign(static_cast<size_t>(brackets), 0);
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
    std::vector<Placed>& chain = ladder.chains[configuration];
    Placed place{i, configuration, 0, 0};
    if (chain.empty()) {
      int bracket = 0;
      while (bracket < brackets && RungResource(settings, bracket, 0) != *resource) ++bracket;
      if (bracket == brackets) continue;  // not a first rung of this search
      place.bracket = bracket;
      ++ladder.started[static_cast<size_t>(bracket)];
    } else {
      place.bracket = chain.front().bracket;
      place.rung = static_cast<int>(chain.size());
    }
    chain.push_back(place);
    ladder.placed.push_back(place);
  }
  return ladder;
}

// The bracket of the next new configuration: the one furthest below its share, the shares
// being Hyperband's numbers of configurations per bracket, n = ceil((S + 1) / (s + 1) * eta^s)
// for the bracket that halves s times (Li et al., JMLR 2018, Algorithm 1). Every bracket then
// spends about the same resource, as in Hyperband; taking brackets in turn instead would spend
// most of it in the brackets that start near the top. The order is smooth weighted round-robin:
// over a whole cycle of sum(n) configurations, bracket s gets exactly n of them.
int NextBracket(const HyperbandSettings& settings, const std::vector<int64_t>& started) {
  const int brackets = static_cast<int>(started.size());
  std::vector<double> shares(started.size());
  double total = 0;
  for (int bracket = 0; bracket < brackets; ++bracket) {
    const int halvings = brackets - 1 - bracket;
    shares[static_cast<size_t>(bracket)] =
        std::ceil(brackets / (halvings + 1.0) * std::pow(settings.eta, halvings));
    total += shares[static_cast<size_t>(bracket)];
  }
  int64_t configurations = 0;
  for (int64_t count : started) configurations += count;
  int next = 0;
  double furthest = -INFINITY;
  for (int bracket = 0; bracket < brackets; ++bracket) {
    const size_t b = static_cast<size_t>(bracket);
    const double below = shares[b] / total * static_cast<double>(configurations + 1) -
                         static_cast<double>(started[b]);
    if (below > furthest) {
      furthest = below;
      next = bracket;
    }
  }
  return next;
}

class Promoter {
 public:
  Promoter(const HyperbandSettings& settings, ObjectiveGoal goal, const std::vector<Trial>& trials,
           Ladder& ladder)
      : settings_(settings), goal_(goal), trials_(trials), ladder_(ladder) {}

  // ASHA's rule, from the highest rung down: the best of the top floor(n / eta) of a rung's n
  // results that has not gone on yet.
  std::optional<Suggestion> TopOfAnyRung() {
    const int brackets = HyperbandBracketCount(settings_);
    for (int rung = brackets - 2; rung >= 0; --rung) {
      for (int bracket = 0; bracket + rung < brackets - 1; ++bracket) {
        auto promoted = FromRung(bracket, rung, /*round_up=*/false);
        if (promoted) return promoted;
      }
    }
    return std::nullopt;
  }

  // Once no new configuration is left (a finite space, every configuration tried), a rung gets
  // no more results: the top ceil(n / eta) of a rung whose bracket runs nothing at or below it
  // is promoted, the lowest rungs first, as Hyperband's synchronous brackets round. Without
  // this a small space ends with its best configurations short of the top rung (a rung of fewer
  // than eta results promotes none), its budget unspent.
  std::optional<Suggestion> TopOfCompleteRungs() {
    const int brackets = HyperbandBracketCount(settings_);
    for (int bracket = 0; bracket < brackets - 1; ++bracket) {
      for (int rung = 0; bracket + rung < brackets - 1; ++rung) {
        if (Runs(bracket, rung)) break;
        auto promoted = FromRung(bracket, rung, /*round_up=*/true);
        if (promoted) return promoted;
      }
    }
    return std::nullopt;
  }

 private:
  double Loss(size_t trial) const {
    return goal_ == ObjectiveGoal::kMin ? *trials_[trial].objective : -*trials_[trial].objective;
  }

  // Whether a trial of the bracket at this rung or below has not ended.
  bool Runs(int bracket, int rung) const {
    return std::any_of(ladder_.placed.begin(), ladder_.placed.end(), [&](const Placed& place) {
      return place.bracket == bracket && place.rung <= rung && !trials_[place.trial].ended;
    });
  }

  std::optional<Suggestion> FromRung(int bracket, int rung, bool round_up) {
    std::vector<const Placed*> results;
    for (const Placed& place : ladder_.placed) {
      const Trial& trial = trials_[place.trial];
      if (place.bracket == bracket && place.rung == rung && trial.ended && trial.objective &&
          std::isfinite(*trial.objective)) {
        results.push_back(&place);
      }
    }
    const size_t eta = static_cast<size_t>(settings_.eta);
    const size_t promotable = round_up ? (results.size() + eta - 1) / eta : results.size() / eta;
    std::stable_sort(results.begin(), results.end(), [&](const Placed* a, const Placed* b) {
      return Loss(a->trial) < Loss(b->trial);
    });
    for (size_t k = 0; k < promotable; ++k) {
      const HyperparameterMap& configuration = results[k]->configuration;
      if (ladder_.chains[configuration].size() > static_cast<size_t>(rung + 1)) continue;
      Suggestion suggestion;
      suggestion.bracket = bracket;
      suggestion.rung = rung + 1;
      suggestion.promoted_from = results[k]->trial;
      suggestion.hyperparameters = configuration;
      suggestion.hyperparameters[settings_.resource] =
          std::to_string(RungResource(settings_, bracket, rung + 1));
      return suggestion;
    }
    return std::nullopt;
  }

  const HyperbandSettings& settings_;
  ObjectiveGoal goal_;
  const std::vector<Trial>& trials_;
  Ladder& ladder_;
};

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
  Ladder ladder = ReadTrials(settings, ranges, trials);
  Promoter promoter(settings, goal, trials, ladder);
  if (auto promoted = promoter.TopOfAnyRung()) return promoted;

  // A new configuration; one already tried is drawn again.
  Suggestion suggestion;
  suggestion.bracket = NextBracket(settings, ladder.started);
  for (int attempt = 0; attempt < kNewConfigurationAttempts; ++attempt) {
    HyperparameterMap configuration = SampleRandom(ranges, random);
    if (ladder.chains.count(configuration)) continue;
    suggestion.hyperparameters = std::move(configuration);
    suggestion.hyperparameters[settings.resource] =
        std::to_string(RungResource(settings, suggestion.bracket, 0));
    return suggestion;
  }
  return promoter.TopOfCompleteRungs();
}

}  // namespace trainyard::core
