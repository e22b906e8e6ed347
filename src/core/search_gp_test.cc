#include "core/search_gp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/search.h"
#include "core/search_tpe.h"

namespace trainyard::core {
namespace {

ParameterRange Unit(const std::string& name) {
  ParameterRange range;
  range.name = name;
  range.type = ParameterType::kContinuous;
  range.min = 0;
  range.max = 1;
  range.scaling = ParameterScaling::kLinear;
  return range;
}

double Distance(const std::vector<double>& a, const std::vector<double>& b) {
  double squared = 0;
  for (size_t k = 0; k < a.size(); ++k) squared += (a[k] - b[k]) * (a[k] - b[k]);
  return std::sqrt(squared);
}

TEST(GaussianProcessSearchTest, SuggestsNearTheMinimumOfASmoothFunction) {
  // Eleven evenly spaced results of (x - 0.37)^2: the expected improvement is largest between
  // the two best, at the parabola's minimum.
  std::vector<SearchObservation> observations;
  for (int i = 0; i <= 10; ++i) {
    const double x = i / 10.0;
    observations.push_back({{x}, (x - 0.37) * (x - 0.37)});
  }
  for (uint64_t seed = 0; seed < 5; ++seed) {
    std::mt19937_64 random = SuggestionRandom(seed, 11);
    const std::optional<std::vector<double>> next =
        SuggestGp({Unit("x")}, observations, {}, random);
    ASSERT_TRUE(next.has_value());
    EXPECT_NEAR((*next)[0], 0.37, 0.03) << "seed " << seed;
  }
}

TEST(GaussianProcessSearchTest, TrialsRunningAtOnceAreSentToDifferentPoints) {
  // Twelve results, then four suggestions before any of them finishes (four free slots): each
  // sees the ones before it as pending, and none repeats another.
  const std::vector<ParameterRange> ranges = {Unit("x"), Unit("y")};
  std::mt19937_64 draws(7);
  std::vector<SearchObservation> observations;
  for (int i = 0; i < 12; ++i) {
    const double x = UniformUnit(draws);
    const double y = UniformUnit(draws);
    observations.push_back({{x, y}, std::pow(x - 0.6, 2) + std::pow(y - 0.3, 2)});
  }
  std::vector<std::vector<double>> pending;
  for (uint64_t index = 12; index < 16; ++index) {
    std::mt19937_64 random = SuggestionRandom(1, index);
    std::optional<std::vector<double>> next = SuggestGp(ranges, observations, pending, random);
    ASSERT_TRUE(next.has_value());
    for (const std::vector<double>& earlier : pending) {
      EXPECT_GT(Distance(*next, earlier), 0.02) << "suggestion " << index;
    }
    pending.push_back(*next);
  }
}

TEST(GaussianProcessSearchTest, IsNotFittedWithoutTwoResultsOrWithAllResultsEqual) {
  std::mt19937_64 random(1);
  EXPECT_FALSE(SuggestGp({Unit("x")}, {{{0.5}, 1.0}}, {}, random).has_value());
  std::vector<SearchObservation> equal;
  for (int i = 0; i < 12; ++i) equal.push_back({{i / 12.0}, 1.0});
  EXPECT_FALSE(SuggestGp({Unit("x")}, equal, {}, random).has_value());
  // The search goes on all the same (with TPE).
  SearchSpec spec;
  spec.strategy = SearchStrategy::kBayesian;
  spec.ranges = {Unit("x")};
  spec.max_jobs = 20;
  spec.random_seed = 1;
  std::vector<Trial> trials;
  for (const SearchObservation& observation : equal) {
    trials.push_back({{{"x", EncodeCoordinate(spec.ranges[0], observation.coordinates[0])}},
                      observation.loss,
                      true});
  }
  auto suggestion = SuggestNext(spec, {}, ObjectiveGoal::kMin, trials);
  ASSERT_TRUE(suggestion.ok() && suggestion->has_value());
  EXPECT_TRUE((*suggestion)->hyperparameters.contains("x"));
}

// A smooth function of four parameters whose minimum, 0, is at (0.2, 0.7, 0.4, 0.9), the
// parameters interacting: a rotated, stretched bowl.
double Bowl(const HyperparameterMap& values) {
  const double a = std::stod(values.at("a")) - 0.2;
  const double b = std::stod(values.at("b")) - 0.7;
  const double c = std::stod(values.at("c")) - 0.4;
  const double d = std::stod(values.at("d")) - 0.9;
  return std::pow(a + b, 2) + 4 * std::pow(a - b, 2) + std::pow(c - d, 2) + 3 * std::pow(c, 2) +
         d * d;
}

double BestOf(SearchStrategy strategy, uint64_t seed, int trials_wanted) {
  SearchSpec spec;
  spec.strategy = strategy;
  spec.ranges = {Unit("a"), Unit("b"), Unit("c"), Unit("d")};
  spec.max_jobs = trials_wanted;
  spec.random_seed = seed;
  std::vector<Trial> trials;
  double best = INFINITY;
  for (int i = 0; i < trials_wanted; ++i) {
    auto suggestion = SuggestNext(spec, {}, ObjectiveGoal::kMin, trials);
    EXPECT_TRUE(suggestion.ok() && suggestion->has_value());
    const double value = Bowl((*suggestion)->hyperparameters);
    best = std::min(best, value);
    trials.push_back({(*suggestion)->hyperparameters, value, true});
  }
  return best;
}

TEST(GaussianProcessSearchTest, FindsBetterValuesThanRandomSearchInFourDimensions) {
  // The median over 15 seeds of the best value after 25 trials (10 random, then 15 by the GP).
  std::vector<double> bayesian;
  std::vector<double> random;
  for (uint64_t seed = 0; seed < 15; ++seed) {
    bayesian.push_back(BestOf(SearchStrategy::kBayesian, seed, 25));
    random.push_back(BestOf(SearchStrategy::kRandom, seed, 25));
  }
  std::sort(bayesian.begin(), bayesian.end());
  std::sort(random.begin(), random.end());
  std::printf("median best after 25 trials: bayesian %.4f, random %.4f\n", bayesian[7], random[7]);
  EXPECT_LT(bayesian[7], 0.2 * random[7]);
}

TEST(GaussianProcessSearchTest, PastItsLimitTheSearchGoesOnWithTpe) {
  SearchSpec spec;
  spec.strategy = SearchStrategy::kBayesian;
  spec.ranges = {Unit("a"), Unit("b"), Unit("c"), Unit("d")};
  spec.max_jobs = 1000;
  spec.random_seed = 4;
  std::mt19937_64 draws(4);
  std::vector<Trial> trials;
  std::vector<SearchObservation> observations;
  for (size_t i = 0; i <= kGpMaxObservations; ++i) {
    SearchObservation observation;
    HyperparameterMap values;
    for (const ParameterRange& range : spec.ranges) {
      observation.coordinates.push_back(UniformUnit(draws));
      values[range.name] = EncodeCoordinate(range, observation.coordinates.back());
      observation.coordinates.back() = *CoordinateOf(range, values[range.name]);
    }
    observation.loss = Bowl(values);
    observations.push_back(observation);
    trials.push_back({values, observation.loss, true});
  }
  auto suggestion = SuggestNext(spec, {}, ObjectiveGoal::kMin, trials);
  ASSERT_TRUE(suggestion.ok() && suggestion->has_value());
  std::mt19937_64 random = SuggestionRandom(4, trials.size());
  const std::vector<double> tpe = SuggestTpe(spec.ranges, observations, random);
  for (size_t k = 0; k < spec.ranges.size(); ++k) {
    EXPECT_EQ((*suggestion)->hyperparameters.at(spec.ranges[k].name),
              EncodeCoordinate(spec.ranges[k], tpe[k]));
  }
}

}  // namespace
}  // namespace trainyard::core
