// The search space of a sweep that is searched rather than enumerated: typed parameter ranges
// as SageMaker's tuning jobs give them (continuous with a scaling, integer, categorical), the
// strategy that searches them, and how many jobs it may run. docs/search.md describes each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace trainyard::core {

enum class ParameterType { kContinuous, kInteger, kCategorical };

// How a numeric range is sampled (SageMaker's ScalingType). Auto picks Logarithmic for a
// positive range of at least two decades (max >= 100 * min), else Linear.
enum class ParameterScaling { kAuto, kLinear, kLogarithmic, kReverseLogarithmic };

struct ParameterRange {
  std::string name;
  ParameterType type = ParameterType::kContinuous;
  double min = 0;  // continuous and integer ranges: both bounds included
  double max = 0;
  ParameterScaling scaling = ParameterScaling::kAuto;
  std::vector<std::string> values;  // categorical: the SageMaker strings the job may get

  bool operator==(const ParameterRange&) const = default;
};

enum class SearchStrategy { kGrid, kRandom, kBayesian, kHyperband };

// Hyperband (asynchronous successive halving, ASHA): the named hyperparameter is the resource
// a job is given (iterations, epochs), from min_resource at a bracket's first rung up to
// max_resource, multiplied by eta from one rung to the next.
struct HyperbandSettings {
  std::string resource;
  int64_t min_resource = 1;
  int64_t max_resource = 0;
  int eta = 3;

  bool operator==(const HyperbandSettings&) const = default;
};

// `auto`: SageMaker's median stopping rule (docs/search.md).
enum class EarlyStopping { kOff, kAuto };

struct SearchSpec {
  SearchStrategy strategy = SearchStrategy::kGrid;
  std::vector<ParameterRange> ranges;          // every strategy but grid
  int64_t max_jobs = 0;                        // every strategy but grid: the jobs it may start
  std::optional<uint64_t> random_seed;         // absent: the server picks one and keeps it
  std::optional<HyperbandSettings> hyperband;  // hyperband only
  EarlyStopping early_stopping = EarlyStopping::kOff;

  bool operator==(const SearchSpec&) const = default;
};

// "continuous", "integer", "categorical"; "auto", "linear", "logarithmic",
// "reverse_logarithmic"; "grid", "random", "bayesian", "hyperband"; "off", "auto". The parsers
// take exactly these names (SageMaker's spellings too: "Continuous", "ReverseLogarithmic",
// "Bayesian") and give InvalidArgument listing them for anything else.
const char* ParameterTypeName(ParameterType type);
const char* ParameterScalingName(ParameterScaling scaling);
const char* SearchStrategyName(SearchStrategy strategy);
const char* EarlyStoppingName(EarlyStopping mode);
Result<ParameterType> ParseParameterType(std::string_view text);
Result<ParameterScaling> ParseParameterScaling(std::string_view text);
Result<SearchStrategy> ParseSearchStrategy(std::string_view text);
Result<EarlyStopping> ParseEarlyStopping(std::string_view text);

// The scaling a range is really sampled in (Auto resolved; Linear for categorical ranges).
ParameterScaling EffectiveScaling(const ParameterRange& range);

// InvalidArgument with the reason alone (the caller names the field): a finite min < max
// (integer: whole numbers, min <= max); Logarithmic needs min > 0; ReverseLogarithmic is for
// continuous ranges with 0 <= min < max < 1; categorical: 1 to 30 distinct values (SageMaker's
// limit), numeric ranges no values, categorical ones no bounds or scaling.
Status ValidateRange(const ParameterRange& range);

// A numeric range's value as a point of [0, 1] in its scaling, and back (integers rounded to
// the nearest value of the range, each with an equal share of [0, 1] on a linear scale).
double ToUnit(const ParameterRange& range, double value);
double FromUnit(const ParameterRange& range, double unit);

// The value of the range at `coordinate` (a unit point for numeric ranges, a value index for
// categorical ones) as the hyperparameter string the job gets: "0.001", "7", "adam".
std::string EncodeCoordinate(const ParameterRange& range, double coordinate);
// The coordinate of a hyperparameter string: InvalidArgument when it is not a value of the
// range (not a number, outside the bounds, not one of the categories).
Result<double> CoordinateOf(const ParameterRange& range, std::string_view value);

// The command-line form of a range (docs/search.md), the text after "NAME=" of --param:
//   log:1e-5..1e-1    continuous, logarithmic     lin:0..1        continuous, linear
//   rlog:0.9..0.999   continuous, reverse log.    auto:0.1..10    continuous, auto
//   int:1..8          integer, linear              int-log:16..512 integer, logarithmic
// Returns nullopt when the text is not a range (a plain list of values, the grid's form).
// InvalidArgument naming --param when it starts like a range but is not a valid one.
Result<std::optional<ParameterRange>> ParseRangeFlag(std::string_view name, std::string_view text);

}  // namespace trainyard::core
