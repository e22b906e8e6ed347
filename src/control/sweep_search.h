// The jobs of a sweep as its strategy gives them (docs/search.md): a grid's or a list's every
// combination at once; a search's suggestions (core/search.h) from its seed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "control/sweep_request.h"
#include "core/hyperparameters.h"
#include "core/search.h"
#include "metadata/metadata_store.h"

namespace trainyard::control {

// A seed for a search that was given none, kept with the sweep so that its suggestions can be
// made again: 53 random bits (a JSON number every client reads exactly).
uint64_t NewRandomSeed();

// Whether the strategy's suggestions depend on the results of earlier jobs (bayesian,
// hyperband): such a search gets its jobs one free slot at a time, from the scheduler.
bool SuggestsFromResults(const core::SearchSpec& search);

// The jobs a sweep is created with: the grid or list (core::ExpandSweep); for strategy random,
// all max_jobs suggestions (each depends on the seed and its index alone); for a search that
// suggests from results, its first `slots` suggestions (at most max_jobs), the rest coming as
// jobs end. The request's random_seed must be set for a search.
Result<std::vector<core::HyperparameterMap>> InitialJobs(const SweepRequest& request, size_t slots);

// The next suggestion of the request's search after `trials` (the sweep's own jobs, by index):
// core::SuggestNext over the request's prior_trials followed by them, max_jobs counting the
// sweep's own jobs only.
Result<std::optional<core::Suggestion>> SuggestAfter(const SweepRequest& request,
                                                     const std::vector<core::Trial>& trials);

// The jobs of a search as its strategy sees them, in the order given (by index): each job's
// hyperparameters, whether it ended, and, for a Completed job that reported it, the final value
// of the objective's metric.
std::vector<core::Trial> TrialsOf(const std::vector<metadata::JobRecord>& jobs,
                                  const std::optional<core::Objective>& objective);

// The job a Hyperband job continues (docs/search.md, "Hyperband"): of the sweep's `jobs`, the
// Completed one with the same hyperparameters but the `resource` one, the largest resource below
// `job`'s, whose checkpoint the job starts from (executor::CheckpointSpec::restore_from), so that
// a promotion trains only the resource it adds. Empty: none (a job of a bracket's first rung).
std::string PromotionParent(const std::vector<metadata::JobRecord>& jobs,
                            const metadata::JobRecord& job, const std::string& resource);

}  // namespace trainyard::control
