// The cost of one suggestion of the bayesian strategy with 4 parameters (three numeric ranges in
// their scalings and a categorical one): TPE (SuggestTpe) with 100 and 1,000 finished trials,
// the GP (SuggestGp) with 30 and 64 (its limit, core/search_gp.h), on the trials' coordinates;
// and SuggestNext from the trials' hyperparameter strings as the scheduler gives them (reading
// the coordinates back included), which takes the GP up to 64 finished trials and TPE past
// them. Target: <= 1 ms with 1,000 finished trials.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/search.h"
#include "core/search_gp.h"
#include "core/search_tpe.h"

namespace trainyard::core {
namespace {

SearchSpec FourRanges(int64_t max_jobs) {
  SearchSpec spec;
  spec.strategy = SearchStrategy::kBayesian;
  spec.max_jobs = max_jobs;
  spec.random_seed = 42;
  ParameterRange lr{
      "learning_rate", ParameterType::kContinuous, 1e-5, 1e-1, ParameterScaling::kLogarithmic, {}};
  ParameterRange momentum{
      "momentum", ParameterType::kContinuous, 0.9, 0.999, ParameterScaling::kReverseLogarithmic,
      {}};
  ParameterRange layers{"layers", ParameterType::kInteger, 1, 8, ParameterScaling::kLinear, {}};
  ParameterRange optimizer{
      "optimizer", ParameterType::kCategorical, 0,
      0,           ParameterScaling::kAuto,     {"sgd", "adam", "rmsprop", "adagrad"}};
  spec.ranges = {lr, momentum, layers, optimizer};
  return spec;
}

// Finished random trials of a smooth objective.
std::vector<Trial> FinishedTrials(const SearchSpec& spec, int count) {
  std::vector<Trial> trials;
  std::mt19937_64 random = SuggestionRandom(1, 0);
  for (int i = 0; i < count; ++i) {
    Trial trial;
    trial.hyperparameters = SampleRandom(spec.ranges, random);
    const double lr = std::log10(std::stod(trial.hyperparameters.at("learning_rate")));
    trial.objective = (lr + 3) * (lr + 3) + std::stod(trial.hyperparameters.at("layers")) / 8;
    trial.ended = true;
    trials.push_back(std::move(trial));
  }
  return trials;
}

std::vector<SearchObservation> Observations(const SearchSpec& spec, int count) {
  std::vector<SearchObservation> observations;
  for (const Trial& trial : FinishedTrials(spec, count)) {
    SearchObservation observation;
    for (const ParameterRange& range : spec.ranges) {
      observation.coordinates.push_back(*CoordinateOf(range, trial.hyperparameters.at(range.name)));
    }
    observation.loss = *trial.objective;
    observations.push_back(std::move(observation));
  }
  return observations;
}

// Times one model's suggestion, suggest(ranges, observations, random), with the benchmark's
// argument as the number of finished trials.
template <typename Suggest>
void TimeModel(benchmark::State& state, const Suggest& suggest) {
  const SearchSpec spec = FourRanges(100000);
  const std::vector<SearchObservation> observations =
      Observations(spec, static_cast<int>(state.range(0)));
  uint64_t index = 0;
  for (auto _ : state) {
    std::mt19937_64 random = SuggestionRandom(42, index++);
    benchmark::DoNotOptimize(suggest(spec.ranges, observations, random));
  }
}

void BM_SuggestTpe(benchmark::State& state) {
  TimeModel(state, [](const auto& ranges, const auto& observations, auto& random) {
    return SuggestTpe(ranges, observations, random);
  });
}
BENCHMARK(BM_SuggestTpe)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_SuggestGp(benchmark::State& state) {
  TimeModel(state, [](const auto& ranges, const auto& observations, auto& random) {
    return SuggestGp(ranges, observations, {}, random);
  });
}
BENCHMARK(BM_SuggestGp)->Arg(30)->Arg(kGpMaxObservations)->Unit(benchmark::kMillisecond);

void BM_SuggestNextBayesian(benchmark::State& state) {
  const SearchSpec spec = FourRanges(100000);
  const std::vector<Trial> trials = FinishedTrials(spec, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(SuggestNext(spec, {{"epochs", "10"}}, ObjectiveGoal::kMin, trials));
  }
}
BENCHMARK(BM_SuggestNextBayesian)->Arg(30)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace trainyard::core

BENCHMARK_MAIN();
