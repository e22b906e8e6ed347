#include "control/sweep_search.h"

#include <algorithm>

#include "control/job_tokens.h"
#include "core/job_status.h"
#include "core/search.h"
#include "core/sweep.h"

namespace trainyard::control {

uint64_t NewRandomSeed() {
  return std::stoull(RandomHex(16), nullptr, 16) & ((uint64_t{1} << 53) - 1);
}

bool SuggestsFromResults(const core::SearchSpec& search) {
  return search.strategy == core::SearchStrategy::kBayesian ||
         search.strategy == core::SearchStrategy::kHyperband;
}

Result<std::vector<core::HyperparameterMap>> InitialJobs(const SweepRequest& request,
                                                         size_t slots) {
  const core::SearchSpec& search = request.search;
  if (search.strategy == core::SearchStrategy::kGrid) return core::ExpandSweep(request.sweep);
  if (!search.random_seed) {
    return Internal("the search of sweep '" + request.name + "' has no seed");
  }
  const size_t count = SuggestsFromResults(search) ? std::min(std::max<size_t>(slots, 1),
                                                              static_cast<size_t>(search.max_jobs))
                                                   : static_cast<size_t>(search.max_jobs);
  std::vector<core::Trial> trials;
  std::vector<core::HyperparameterMap> jobs;
  while (jobs.size() < count) {
    TY_ASSIGN_OR_RETURN(std::optional<core::Suggestion> suggestion, SuggestAfter(request, trials));
    if (!suggestion) break;
    trials.push_back({suggestion->hyperparameters, std::nullopt, false});
    jobs.push_back(std::move(suggestion->hyperparameters));
  }
  return jobs;
}

Result<std::optional<core::Suggestion>> SuggestAfter(const SweepRequest& request,
                                                     const std::vector<core::Trial>& trials) {
  const core::ObjectiveGoal goal =
      request.objective ? request.objective->goal : core::ObjectiveGoal::kMax;
  if (request.prior_trials.empty()) {
    return core::SuggestNext(request.search, request.sweep.fixed, goal, trials);
  }
  core::SearchSpec search = request.search;
  search.max_jobs += static_cast<int64_t>(request.prior_trials.size());
  std::vector<core::Trial> all = request.prior_trials;
  all.insert(all.end(), trials.begin(), trials.end());
  TY_ASSIGN_OR_RETURN(std::optional<core::Suggestion> suggestion,
                      core::SuggestNext(search, request.sweep.fixed, goal, all));
  // Hyperband's promotion names a trial: one of the sweep's own, or none for a prior's.
  if (suggestion && suggestion->promoted_from) {
    suggestion->promoted_from =
        *suggestion->promoted_from >= request.prior_trials.size()
            ? std::optional<size_t>(*suggestion->promoted_from - request.prior_trials.size())
            : std::nullopt;
  }
  return suggestion;
}

std::vector<core::Trial> TrialsOf(const std::vector<metadata::JobRecord>& jobs,
                                  const std::optional<core::Objective>& objective) {
  std::vector<core::Trial> trials;
  trials.reserve(jobs.size());
  for (const metadata::JobRecord& job : jobs) {
    core::Trial trial;
    trial.hyperparameters = job.hyperparameters;
    trial.ended = core::IsTerminal(job.status);
    if (objective && job.status == core::JobStatus::kCompleted) {
      auto value = job.metrics.find(objective->metric);
      if (value != job.metrics.end()) trial.objective = value->second;
    }
    trials.push_back(std::move(trial));
  }
  return trials;
}

}  // namespace trainyard::control
