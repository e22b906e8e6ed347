// What the bayesian strategy's models (core/search_gp.h, core/search_tpe.h) learn from.
#pragma once

#include <vector>

namespace trainyard::core {

// One finished trial: its coordinate in each range (a unit point for numeric ranges, a value
// index for categorical ones, in the order of the ranges) and its loss (lower is better).
struct SearchObservation {
  std::vector<double> coordinates;
  double loss = 0;
};

}  // namespace trainyard::core
