#include "app/run_options.h"

namespace trainyard::app {

Result<Objective> ParseObjective(const std::string& text) {
  size_t colon = text.rfind(':');
  Objective objective{text.substr(0, colon), true};
  if (colon != std::string::npos) {
    std::string direction = text.substr(colon + 1);
    if (direction == "max") {
      objective.minimize = false;
    } else if (direction != "min") {
      return InvalidArgument("--objective '" + text + "': the direction must be min or max");
    }
  }
  if (objective.metric.empty()) {
    return InvalidArgument("--objective '" + text + "': name a metric, as in loss:min");
  }
  return objective;
}

}  // namespace trainyard::app
