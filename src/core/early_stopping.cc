#include "core/early_stopping.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trainyard::core {
namespace {

bool Better(double a, double b, ObjectiveGoal goal) {
  return goal == ObjectiveGoal::kMax ? a > b : a < b;
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

}  // namespace

std::optional<StopDecision> MedianStoppingRule(const LearningCurve& job,
                                               const std::vector<LearningCurve>& others,
                                               ObjectiveGoal goal,
                                               const MedianRuleOptions& options) {
  std::optional<int64_t> latest;
  for (const CurvePoint& point : job.points) {
    if (std::isfinite(point.value)) latest = std::max(latest.value_or(point.step), point.step);
  }
  if (!latest) return std::nullopt;
  const int64_t step = *latest;
  std::optional<double> best;
  for (const CurvePoint& point : job.points) {
    if (!std::isfinite(point.value) || point.step > step) continue;
    if (!best || Better(point.value, *best, goal)) best = point.value;
  }

  std::vector<double> averages;
  for (const LearningCurve& other : others) {
    if (other.job == job.job) continue;
    double sum = 0;
    size_t count = 0;
    bool reached = false;
    for (const CurvePoint& point : other.points) {
      if (!std::isfinite(point.value)) continue;
      if (point.step >= step) reached = true;
      if (point.step <= step) {
        sum += point.value;
        ++count;
      }
    }
    // A running job that has not reached the step yet says nothing about it; one that ended
    // before it has shown its whole curve.
    if (count == 0 || !(reached || other.ended)) continue;
    averages.push_back(sum / static_cast<double>(count));
  }
  if (averages.empty() || averages.size() < options.min_other_jobs) return std::nullopt;
  std::sort(averages.begin(), averages.end());
  const size_t middle = averages.size() / 2;
  const double median =
      averages.size() % 2 == 1 ? averages[middle] : (averages[middle - 1] + averages[middle]) / 2;
  if (!Better(median, *best, goal)) return std::nullopt;
  return StopDecision{step, *best, median, averages.size()};
}

std::string DescribeStop(const StopDecision& decision, const Objective& objective) {
  const std::string step = std::to_string(decision.step);
  return "Early stopping (median rule): at step " + step + " the best " + objective.metric +
         " so far, " + Number(decision.best) + ", is " +
         (objective.goal == ObjectiveGoal::kMax ? "below " : "above ") + Number(decision.median) +
         ", the median of the running averages of " + std::to_string(decision.compared) +
         " other jobs at step " + step;
}

}  // namespace trainyard::core
