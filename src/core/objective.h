// Objective: the metric a sweep is ranked by and whether lower or higher is better. One type and
// one set of parsers for `trainyard run`, `trainyard sweep create` and the REST API, so that the
// same spelling means the same thing everywhere.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace trainyard::core {

enum class ObjectiveGoal { kMin, kMax };

struct Objective {
  std::string metric;
  ObjectiveGoal goal = ObjectiveGoal::kMax;

  bool minimize() const { return goal == ObjectiveGoal::kMin; }
  bool operator==(const Objective&) const = default;
};

// "min" or "max".
const char* ObjectiveGoalName(ObjectiveGoal goal);

// "min" or "max"; anything else is InvalidArgument "goal 'lowest': must be min or max".
Result<ObjectiveGoal> ParseObjectiveGoal(std::string_view text);

// The goal of a metric given without one. Only a name that says it is a loss or an error
// ("loss", "eval_loss", "error_rate", "val:Error"; case ignored) means min; any other name is
// InvalidArgument, because guessing wrong would silently rank the worst job first.
Result<ObjectiveGoal> DefaultObjectiveGoal(std::string_view metric);

// The command-line form: "METRIC:min", "METRIC:max", or a bare "METRIC" (DefaultObjectiveGoal).
// The goal follows the last ':', so a metric named "validation:loss" is written
// "validation:loss:min". InvalidArgument naming the flag ("--objective 'acc:up': ..."): an
// empty metric, a goal other than min or max, a bare metric without a default goal.
Result<Objective> ParseObjective(std::string_view text);

}  // namespace trainyard::core
