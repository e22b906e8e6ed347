#include "control/sweep_search.h"

#include "control/job_tokens.h"
#include "core/search.h"
#include "core/sweep.h"

namespace trainyard::control {

uint64_t NewRandomSeed() {
  return std::stoull(RandomHex(16), nullptr, 16) & ((uint64_t{1} << 53) - 1);
}

Result<std::vector<core::HyperparameterMap>> InitialJobs(const SweepRequest& request) {
  const core::SearchSpec& search = request.search;
  if (search.strategy == core::SearchStrategy::kGrid) return core::ExpandSweep(request.sweep);
  if (!search.random_seed)
    return Internal("the search of sweep '" + request.name + "' has no seed");
  if (search.strategy != core::SearchStrategy::kRandom) {
    return FailedPrecondition(
        "field 'strategy': " + std::string(core::SearchStrategyName(search.strategy)) +
        " is not run by this server yet (grid and random are)");
  }
  std::vector<core::Trial> trials;
  std::vector<core::HyperparameterMap> jobs;
  const core::ObjectiveGoal goal =
      request.objective ? request.objective->goal : core::ObjectiveGoal::kMax;
  while (true) {
    TY_ASSIGN_OR_RETURN(std::optional<core::Suggestion> suggestion,
                        core::SuggestNext(search, request.sweep.fixed, goal, trials));
    if (!suggestion) break;
    trials.push_back({suggestion->hyperparameters, std::nullopt, false});
    jobs.push_back(std::move(suggestion->hyperparameters));
  }
  return jobs;
}

}  // namespace trainyard::control
