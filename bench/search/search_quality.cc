// The searches of bench/search/quality.py in-process, for many seeds: trainyard's bayesian
// and random strategies through core::SuggestNext on Branin and Hartmann-6, one trial at a time,
// each trial's result the function's value (what objective_trainer.py reports last). The
// server's suggestions are these very ones (they are pure functions of the seed and the
// trials), so this gives the medians of quality.py with seeds enough to tell strategies apart.
//   bench_search_quality [SEEDS (200)] [TRIALS (30)]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/search.h"

namespace trainyard::core {
namespace {

double Coordinate(const HyperparameterMap& values, const std::string& name) {
  return std::stod(values.at(name));
}

// Minimum 0.397887; x1 in [-5, 10], x2 in [0, 15].
double Branin(const HyperparameterMap& values) {
  const double x1 = Coordinate(values, "x1");
  const double x2 = Coordinate(values, "x2");
  const double b = 5.1 / (4 * M_PI * M_PI);
  const double c = 5 / M_PI;
  const double t = 1 / (8 * M_PI);
  return std::pow(x2 - b * x1 * x1 + c * x1 - 6, 2) + 10 * (1 - t) * std::cos(x1) + 10;
}

// Minimum -3.32237; x1..x6 in [0, 1].
double Hartmann6(const HyperparameterMap& values) {
  static constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                      {0.05, 10, 17, 0.1, 8, 14},
                                      {3, 3.5, 1.7, 10, 17, 8},
                                      {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double kP[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                      {2329, 4135, 8307, 3736, 1004, 9991},
                                      {2348, 1451, 3522, 2883, 3047, 6650},
                                      {4047, 8828, 8732, 5743, 1091, 381}};
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      inner +=
          kA[i][j] * std::pow(Coordinate(values, "x" + std::to_string(j + 1)) - kP[i][j] * 1e-4, 2);
    }
    total -= kAlpha[i] * std::exp(-inner);
  }
  return total;
}

ParameterRange Continuous(const std::string& name, double min, double max) {
  return {name, ParameterType::kContinuous, min, max, ParameterScaling::kLinear, {}};
}

// The best value after `trials` trials of each seed, sorted.
std::vector<double> BestValues(SearchStrategy strategy, const std::vector<ParameterRange>& ranges,
                               const std::function<double(const HyperparameterMap&)>& function,
                               int seeds, int trials) {
  std::vector<double> bests;
  for (int seed = 0; seed < seeds; ++seed) {
    SearchSpec spec;
    spec.strategy = strategy;
    spec.ranges = ranges;
    spec.max_jobs = trials;
    spec.random_seed = static_cast<uint64_t>(seed);
    std::vector<Trial> done;
    double best = INFINITY;
    for (int i = 0; i < trials; ++i) {
      auto suggestion = SuggestNext(spec, {}, ObjectiveGoal::kMin, done);
      if (!suggestion.ok() || !suggestion->has_value()) {
        std::fprintf(stderr, "no suggestion for seed %d, trial %d\n", seed, i);
        std::exit(1);
      }
      const double value = function((*suggestion)->hyperparameters);
      best = std::min(best, value);
      done.push_back({(*suggestion)->hyperparameters, value, true});
    }
    bests.push_back(best);
  }
  std::sort(bests.begin(), bests.end());
  return bests;
}

// The median and quartiles of sorted values, as Python's statistics module (exclusive) gives.
double Quantile(const std::vector<double>& sorted, double q) {
  const double position = q * (static_cast<double>(sorted.size()) + 1) - 1;
  const size_t below = static_cast<size_t>(
      std::clamp(std::floor(position), 0.0, static_cast<double>(sorted.size() - 1)));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = std::clamp(position - std::floor(position), 0.0, 1.0);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

}  // namespace
}  // namespace trainyard::core

int main(int argc, char** argv) {
  using namespace trainyard::core;
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 200;
  const int trials = argc > 2 ? std::atoi(argv[2]) : 30;
  std::vector<ParameterRange> hartmann;
  for (int j = 1; j <= 6; ++j) hartmann.push_back(Continuous("x" + std::to_string(j), 0, 1));
  const struct {
    const char* name;
    std::vector<ParameterRange> ranges;
    double (*function)(const HyperparameterMap&);
  } functions[] = {{"branin", {Continuous("x1", -5, 10), Continuous("x2", 0, 15)}, Branin},
                   {"hartmann6", hartmann, Hartmann6}};
  std::printf("median (q1, q3) over %d seeds of the best value after %d trials, in-process\n",
              seeds, trials);
  for (const auto& function : functions) {
    for (auto [strategy, name] : {std::pair{SearchStrategy::kBayesian, "bayesian"},
                                  std::pair{SearchStrategy::kRandom, "random"}}) {
      const std::vector<double> bests =
          BestValues(strategy, function.ranges, function.function, seeds, trials);
      std::printf("%-10s trainyard %-21s %9.4f (%.4f, %.4f)\n", function.name, name,
                  Quantile(bests, 0.5), Quantile(bests, 0.25), Quantile(bests, 0.75));
    }
  }
  return 0;
}
