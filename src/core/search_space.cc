#include "core/search_space.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/hyperparameters.h"

namespace trainyard::core {
namespace {

constexpr size_t kMaxCategoricalValues = 30;  // SageMaker's CategoricalParameterRange

bool Matches(std::string_view text, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), text) != names.end();
}

// A number in a message: 15 significant digits, no trailing zeros ("1", "1e-05", "0.001").
std::string Format(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);
  return text;
}

// A sampled value as the job gets it: 12 significant digits (what a search can tell apart, and
// no "0.0010000000000000002" from exp and log), as Python prints the float.
std::string EncodeContinuous(const ParameterRange& range, double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.12g", value);
  const double rounded = std::clamp(std::strtod(text, nullptr), range.min, range.max);
  return EncodeHyperparameter(nlohmann::json(rounded));
}

Result<double> ParseNumber(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const char* begin = text.data();
  if (begin != end && *begin == '+') ++begin;
  auto [stop, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || stop != end || !std::isfinite(value)) {
    return InvalidArgument("'" + std::string(text) + "' is not a finite number");
  }
  return value;
}

// The bounds of the sampled interval: integers own the half-unit around them, so that each
// value has an equal share on a linear scale.
std::pair<double, double> SampledBounds(const ParameterRange& range) {
  if (range.type == ParameterType::kInteger) return {range.min - 0.5, range.max + 0.5};
  return {range.min, range.max};
}

}  // namespace

const char* ParameterTypeName(ParameterType type) {
  switch (type) {
    case ParameterType::kContinuous: return "continuous";
    case ParameterType::kInteger: return "integer";
    case ParameterType::kCategorical: return "categorical";
  }
  return "continuous";
}

const char* ParameterScalingName(ParameterScaling scaling) {
  switch (scaling) {
    case ParameterScaling::kAuto: return "auto";
    case ParameterScaling::kLinear: return "linear";
    case ParameterScaling::kLogarithmic: return "logarithmic";
    case ParameterScaling::kReverseLogarithmic: return "reverse_logarithmic";
  }
  return "auto";
}

const char* SearchStrategyName(SearchStrategy strategy) {
  switch (strategy) {
    case SearchStrategy::kGrid: return "grid";
    case SearchStrategy::kRandom: return "random";
    case SearchStrategy::kBayesian: return "bayesian";
    case SearchStrategy::kHyperband: return "hyperband";
  }
  return "grid";
}

const char* EarlyStoppingName(EarlyStopping mode) {
  return mode == EarlyStopping::kAuto ? "auto" : "off";
}

Result<ParameterType> ParseParameterType(std::string_view text) {
  if (Matches(text, {"continuous", "Continuous"})) return ParameterType::kContinuous;
  if (Matches(text, {"integer", "Integer"})) return ParameterType::kInteger;
  if (Matches(text, {"categorical", "Categorical"})) return ParameterType::kCategorical;
  return InvalidArgument("'" + std::string(text) +
                         "' is not a parameter type (continuous, integer, categorical)");
}

Result<ParameterScaling> ParseParameterScaling(std::string_view text) {
  if (Matches(text, {"auto", "Auto"})) return ParameterScaling::kAuto;
  if (Matches(text, {"linear", "Linear"})) return ParameterScaling::kLinear;
  if (Matches(text, {"logarithmic", "Logarithmic"})) return ParameterScaling::kLogarithmic;
  if (Matches(text, {"reverse_logarithmic", "ReverseLogarithmic"})) {
    return ParameterScaling::kReverseLogarithmic;
  }
  return InvalidArgument("'" + std::string(text) +
                         "' is not a scaling (auto, linear, logarithmic, reverse_logarithmic)");
}

Result<SearchStrategy> ParseSearchStrategy(std::string_view text) {
  if (Matches(text, {"grid", "Grid"})) return SearchStrategy::kGrid;
  if (Matches(text, {"random", "Random"})) return SearchStrategy::kRandom;
  if (Matches(text, {"bayesian", "Bayesian"})) return SearchStrategy::kBayesian;
  if (Matches(text, {"hyperband", "Hyperband"})) return SearchStrategy::kHyperband;
  return InvalidArgument("'" + std::string(text) +
                         "' is not a strategy (grid, random, bayesian, hyperband)");
}

Result<EarlyStopping> ParseEarlyStopping(std::string_view text) {
  if (Matches(text, {"off", "Off"})) return EarlyStopping::kOff;
  if (Matches(text, {"auto", "Auto"})) return EarlyStopping::kAuto;
  return InvalidArgument("'" + std::string(text) + "' is not an early stopping mode (off, auto)");
}

ParameterScaling EffectiveScaling(const ParameterRange& range) {
  if (range.type == ParameterType::kCategorical) return ParameterScaling::kLinear;
  if (range.scaling != ParameterScaling::kAuto) return range.scaling;
  return range.min > 0 && range.max >= 100 * range.min ? ParameterScaling::kLogarithmic
                                                       : ParameterScaling::kLinear;
}

Status ValidateRange(const ParameterRange& range) {
  if (range.type == ParameterType::kCategorical) {
    if (range.min != 0 || range.max != 0 || range.scaling != ParameterScaling::kAuto) {
      return InvalidArgument("a categorical range takes values, not min, max or scaling");
    }
    if (range.values.empty()) return InvalidArgument("a categorical range needs values");
    if (range.values.size() > kMaxCategoricalValues) {
      return InvalidArgument("has " + std::to_string(range.values.size()) +
                             " values, the limit is " + std::to_string(kMaxCategoricalValues));
    }
    std::set<std::string_view> seen;
    for (const std::string& value : range.values) {
      if (!seen.insert(value).second) {
        return InvalidArgument("value '" + value + "' is listed twice");
      }
    }
    return Status::Ok();
  }
  if (!range.values.empty()) {
    return InvalidArgument(std::string("a ") + ParameterTypeName(range.type) +
                           " range takes min and max, not values");
  }
  if (!std::isfinite(range.min) || !std::isfinite(range.max)) {
    return InvalidArgument("min and max must be finite numbers");
  }
  if (range.type == ParameterType::kInteger) {
    if (range.min != std::floor(range.min) || range.max != std::floor(range.max) ||
        std::fabs(range.min) > 1e15 || std::fabs(range.max) > 1e15) {
      return InvalidArgument("an integer range's min and max must be whole numbers");
    }
    if (range.min > range.max) {
      return InvalidArgument("min " + Format(range.min) + " is above max " + Format(range.max));
    }
  } else if (range.min >= range.max) {
    return InvalidArgument("min " + Format(range.min) + " must be below max " + Format(range.max));
  }
  switch (range.scaling) {
    case ParameterScaling::kLogarithmic:
      if (range.min <= 0) {
        return InvalidArgument("logarithmic scaling needs min > 0, not " + Format(range.min));
      }
      break;
    case ParameterScaling::kReverseLogarithmic:
      if (range.type != ParameterType::kContinuous) {
        return InvalidArgument("reverse_logarithmic scaling is for continuous ranges only");
      }
      if (range.min < 0 || range.max >= 1) {
        return InvalidArgument("reverse_logarithmic scaling needs 0 <= min < max < 1");
      }
      break;
    default: break;
  }
  return Status::Ok();
}

double ToUnit(const ParameterRange& range, double value) {
  const auto [low, high] = SampledBounds(range);
  double unit = 0;
  switch (EffectiveScaling(range)) {
    case ParameterScaling::kLogarithmic:
      unit = (std::log(value) - std::log(low)) / (std::log(high) - std::log(low));
      break;
    case ParameterScaling::kReverseLogarithmic:
      unit = (std::log1p(-value) - std::log1p(-low)) / (std::log1p(-high) - std::log1p(-low));
      break;
    default: unit = (value - low) / (high - low); break;
  }
  return std::clamp(unit, 0.0, 1.0);
}

double FromUnit(const ParameterRange& range, double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  const auto [low, high] = SampledBounds(range);
  double value = 0;
  switch (EffectiveScaling(range)) {
    case ParameterScaling::kLogarithmic:
      value = std::exp(std::log(low) + unit * (std::log(high) - std::log(low)));
      break;
    case ParameterScaling::kReverseLogarithmic:
      value = -std::expm1(std::log1p(-low) + unit * (std::log1p(-high) - std::log1p(-low)));
      break;
    default: value = low + unit * (high - low); break;
  }
  if (range.type == ParameterType::kInteger) value = std::round(value);
  return std::clamp(value, range.min, range.max);
}

std::string EncodeCoordinate(const ParameterRange& range, double coordinate) {
  if (range.type == ParameterType::kCategorical) {
    const size_t last = range.values.size() - 1;
    const size_t index =
        coordinate <= 0 ? 0 : std::min(last, static_cast<size_t>(std::llround(coordinate)));
    return range.values[index];
  }
  const double value = FromUnit(range, coordinate);
  if (range.type == ParameterType::kInteger) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return EncodeContinuous(range, value);
}

Result<double> CoordinateOf(const ParameterRange& range, std::string_view value) {
  if (range.type == ParameterType::kCategorical) {
    for (size_t i = 0; i < range.values.size(); ++i) {
      if (range.values[i] == value) return static_cast<double>(i);
    }
    return InvalidArgument("'" + std::string(value) + "' is not one of the values of '" +
                           range.name + "'");
  }
  TY_ASSIGN_OR_RETURN(double number, ParseNumber(value));
  if (number < range.min || number > range.max ||
      (range.type == ParameterType::kInteger && number != std::floor(number))) {
    return InvalidArgument("'" + std::string(value) + "' is outside the range of '" + range.name +
                           "'");
  }
  return ToUnit(range, number);
}

Result<std::optional<ParameterRange>> ParseRangeFlag(std::string_view name, std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::optional<ParameterRange>();
  const std::string_view kind = text.substr(0, colon);
  ParameterRange range;
  range.name = std::string(name);
  if (kind == "lin") {
    range.scaling = ParameterScaling::kLinear;
  } else if (kind == "log") {
    range.scaling = ParameterScaling::kLogarithmic;
  } else if (kind == "rlog") {
    range.scaling = ParameterScaling::kReverseLogarithmic;
  } else if (kind == "auto") {
    range.scaling = ParameterScaling::kAuto;
  } else if (kind == "int") {
    range.type = ParameterType::kInteger;
    range.scaling = ParameterScaling::kLinear;
  } else if (kind == "int-log") {
    range.type = ParameterType::kInteger;
    range.scaling = ParameterScaling::kLogarithmic;
  } else {
    return std::optional<ParameterRange>();  // a value such as "a:b", not a range
  }
  const std::string subject = "--param '" + std::string(name) + "=" + std::string(text) + "'";
  const std::string_view bounds = text.substr(colon + 1);
  const size_t dots = bounds.find("..");
  if (dots == std::string_view::npos) {
    return InvalidArgument(subject + ": expected " + std::string(kind) + ":MIN..MAX");
  }
  Result<double> min = ParseNumber(bounds.substr(0, dots));
  if (!min.ok()) return InvalidArgument(subject + ": min " + min.status().message());
  Result<double> max = ParseNumber(bounds.substr(dots + 2));
  if (!max.ok()) return InvalidArgument(subject + ": max " + max.status().message());
  range.min = *min;
  range.max = *max;
  if (Status valid = ValidateRange(range); !valid.ok()) {
    return InvalidArgument(subject + ": " + valid.message());
  }
  return std::optional<ParameterRange>(std::move(range));
}

}  // namespace trainyard::core
