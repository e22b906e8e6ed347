#include "control/sweep_search.h"

#include <algorithm>
#include <cstdlib>
#include <map>

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

std::string PromotionParent(const std::vector<metadata::JobRecord>& jobs,
                            const metadata::JobRecord& job, const std::string& resource) {
  auto resource_of = [&](const metadata::JobRecord& record) -> std::optional<double> {
    auto found = record.hyperparameters.find(resource);
    if (found == record.hyperparameters.end()) return std::nullopt;
    char* end = nullptr;
    double value = std::strtod(found->second.c_str(), &end);
    if (end == found->second.c_str() || *end != '\0') return std::nullopt;
    return value;
  };
  auto others_of = [&](const metadata::JobRecord& record) {
    std::map<std::string, std::string> others = record.hyperparameters;
    others.erase(resource);
    return others;
  };
  const std::optional<double> own = resource_of(job);
  if (!own) return "";
  const std::map<std::string, std::string> configuration = others_of(job);
  std::string parent;
  double parent_resource = 0;
  for (const metadata::JobRecord& candidate : jobs) {
    std::optional<double> given = resource_of(candidate);
    if (candidate.name == job.name || candidate.status != core::JobStatus::kCompleted || !given ||
        *given >= *own || (!parent.empty() && *given <= parent_resource) ||
        others_of(candidate) != configuration) {
      continue;
    }
    parent = candidate.name;
    parent_resource = *given;
  }
  return parent;
}

}  // namespace trainyard::control
