// Early stopping of a search's jobs (docs/search.md, "Early stopping"): the median stopping rule
// that SageMaker's EarlyStoppingType Auto applies (Golovin et al., "Google Vizier", KDD 2017),
// over the intermediate values of the objective's metric that the jobs report. A pure function
// of the curves, so that whichever process asks gets the same decision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/objective.h"

namespace trainyard::core {

// One intermediate value of a job's objective metric: the step it was reported at and the value.
struct CurvePoint {
  int64_t step = 0;
  double value = 0;
};

// What the rule knows of one job: its objective metric's points, in the order they were
// reported, and whether the job has ended (a job that ended counts at every later step, with
// every point it reported).
struct LearningCurve {
  std::string job;
  std::vector<CurvePoint> points;
  bool ended = false;
};

struct MedianRuleOptions {
  // A job is judged only against at least this many other jobs; with fewer it runs on.
  size_t min_other_jobs = 3;
};

// Why the rule stops a job: at `step` (the job's latest), the best value it reported so far,
// `best`, is worse than `median`, the median of the running averages up to `step` of the
// `compared` other jobs.
struct StopDecision {
  int64_t step = 0;
  double best = 0;
  double median = 0;
  size_t compared = 0;
};

// The median stopping rule. Let s be the latest step `job` reported. Each other job that reported
// a point at step s or later, or that has ended having reported any point, is compared: its
// running average at s is the mean of its values at steps <= s. `job` is stopped when at least
// options.min_other_jobs are compared and its best value at steps <= s is strictly worse (lower
// for max, higher for min) than the median of those running averages. nullopt: it runs on (no
// point yet, too few others, or not worse). Non-finite values are ignored.
std::optional<StopDecision> MedianStoppingRule(const LearningCurve& job,
                                               const std::vector<LearningCurve>& others,
                                               ObjectiveGoal goal,
                                               const MedianRuleOptions& options = {});

// The reason a stopped job shows, naming the rule, the step and the values compared:
// "Early stopping (median rule): at step 40 the best accuracy so far, 0.12, is below 0.81, the
// median of the running averages of 3 other jobs at step 40".
std::string DescribeStop(const StopDecision& decision, const Objective& objective);

}  // namespace trainyard::core
