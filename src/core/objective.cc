#include "core/objective.h"

#include <algorithm>
#include <cctype>

namespace trainyard::core {

const char* ObjectiveGoalName(ObjectiveGoal goal) {
  return goal == ObjectiveGoal::kMin ? "min" : "max";
}

Result<ObjectiveGoal> ParseObjectiveGoal(std::string_view text) {
  if (text == "min") return ObjectiveGoal::kMin;
  if (text == "max") return ObjectiveGoal::kMax;
  return InvalidArgument("goal '" + std::string(text) + "': must be min or max");
}

Result<ObjectiveGoal> DefaultObjectiveGoal(std::string_view metric) {
  std::string lower(metric);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.find("loss") != std::string::npos || lower.find("error") != std::string::npos) {
    return ObjectiveGoal::kMin;
  }
  return InvalidArgument("metric '" + std::string(metric) +
                         "' needs a goal, min or max (only a loss or an error is minimized "
                         "without one)");
}

Result<Objective> ParseObjective(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::string subject = "--objective " + quoted;
  const size_t colon = text.rfind(':');
  Objective objective;
  objective.metric = std::string(text.substr(0, colon));
  if (objective.metric.empty()) {
    return InvalidArgument(subject + ": names no metric (write METRIC:min or METRIC:max)");
  }
  if (colon == std::string_view::npos) {
    auto goal = DefaultObjectiveGoal(objective.metric);
    if (!goal.ok()) {
      return InvalidArgument(subject + ": " + goal.status().message() + "; write " +
                             objective.metric + ":max or " + objective.metric + ":min");
    }
    objective.goal = *goal;
    return objective;
  }
  auto goal = ParseObjectiveGoal(text.substr(colon + 1));
  if (!goal.ok()) {
    return InvalidArgument(subject + ": " + goal.status().message() +
                           " (the goal follows the last ':', so a metric named " + quoted +
                           " is written " + std::string(text) + ":max or " + std::string(text) +
                           ":min)");
  }
  objective.goal = *goal;
  return objective;
}

}  // namespace trainyard::core
