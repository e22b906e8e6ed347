#include "core/search_space.h"

#include <gtest/gtest.h>

#include <cmath>

namespace trainyard::core {
namespace {

ParameterRange Continuous(double min, double max, ParameterScaling scaling) {
  ParameterRange range;
  range.name = "x";
  range.min = min;
  range.max = max;
  range.scaling = scaling;
  return range;
}

TEST(SearchSpaceTest, NamesParseBackAndSageMakerSpellingsAreTaken) {
  for (auto scaling : {ParameterScaling::kAuto, ParameterScaling::kLinear,
                       ParameterScaling::kLogarithmic, ParameterScaling::kReverseLogarithmic}) {
    EXPECT_EQ(*ParseParameterScaling(ParameterScalingName(scaling)), scaling);
  }
  for (auto strategy : {SearchStrategy::kGrid, SearchStrategy::kRandom, SearchStrategy::kBayesian,
                        SearchStrategy::kHyperband}) {
    EXPECT_EQ(*ParseSearchStrategy(SearchStrategyName(strategy)), strategy);
  }
  EXPECT_EQ(*ParseParameterScaling("ReverseLogarithmic"), ParameterScaling::kReverseLogarithmic);
  EXPECT_EQ(*ParseSearchStrategy("Bayesian"), SearchStrategy::kBayesian);
  EXPECT_EQ(*ParseParameterType("Integer"), ParameterType::kInteger);
  EXPECT_EQ(ParseSearchStrategy("genetic").status().message(),
            "'genetic' is not a strategy (grid, random, bayesian, hyperband)");
  EXPECT_EQ(ParseEarlyStopping("median").status().message(),
            "'median' is not an early stopping mode (off, auto)");
}

TEST(SearchSpaceTest, AutoIsLogarithmicForTwoDecadesOfPositiveValues) {
  EXPECT_EQ(EffectiveScaling(Continuous(1e-5, 1e-1, ParameterScaling::kAuto)),
            ParameterScaling::kLogarithmic);
  EXPECT_EQ(EffectiveScaling(Continuous(1, 50, ParameterScaling::kAuto)),
            ParameterScaling::kLinear);
  EXPECT_EQ(EffectiveScaling(Continuous(0, 1000, ParameterScaling::kAuto)),
            ParameterScaling::kLinear);
}

TEST(SearchSpaceTest, RefusesInvalidRangesWithTheReason) {
  EXPECT_EQ(ValidateRange(Continuous(1, 1, ParameterScaling::kLinear)).message(),
            "min 1 must be below max 1");
  EXPECT_EQ(ValidateRange(Continuous(0, 1, ParameterScaling::kLogarithmic)).message(),
            "logarithmic scaling needs min > 0, not 0");
  EXPECT_EQ(ValidateRange(Continuous(0.5, 1, ParameterScaling::kReverseLogarithmic)).message(),
            "reverse_logarithmic scaling needs 0 <= min < max < 1");
  EXPECT_EQ(ValidateRange(Continuous(0, NAN, ParameterScaling::kLinear)).message(),
            "min and max must be finite numbers");
  ParameterRange integer = Continuous(1.5, 4, ParameterScaling::kLinear);
  integer.type = ParameterType::kInteger;
  EXPECT_EQ(ValidateRange(integer).message(),
            "an integer range's min and max must be whole numbers");
  integer.min = 4;
  EXPECT_TRUE(ValidateRange(integer).ok());  // one value is a range too
  ParameterRange categorical;
  categorical.type = ParameterType::kCategorical;
  EXPECT_EQ(ValidateRange(categorical).message(), "a categorical range needs values");
  categorical.values = {"adam", "sgd", "adam"};
  EXPECT_EQ(ValidateRange(categorical).message(), "value 'adam' is listed twice");
  categorical.values.assign(31, "");
  for (int i = 0; i < 31; ++i) categorical.values[i] = std::to_string(i);
  EXPECT_EQ(ValidateRange(categorical).message(), "has 31 values, the limit is 30");
}

TEST(SearchSpaceTest, UnitPointsMapBothWaysInTheScaling) {
  const ParameterRange log = Continuous(1e-5, 1e-1, ParameterScaling::kLogarithmic);
  EXPECT_NEAR(FromUnit(log, 0.5), 1e-3, 1e-12);
  EXPECT_NEAR(ToUnit(log, 1e-4), 0.25, 1e-12);
  const ParameterRange reverse = Continuous(0.9, 0.999, ParameterScaling::kReverseLogarithmic);
  EXPECT_NEAR(FromUnit(reverse, 0.5), 0.99, 1e-12);
  EXPECT_NEAR(ToUnit(reverse, 0.99), 0.5, 1e-12);
  ParameterRange integer = Continuous(1, 8, ParameterScaling::kLinear);
  integer.type = ParameterType::kInteger;
  EXPECT_EQ(FromUnit(integer, 0.0), 1);
  EXPECT_EQ(FromUnit(integer, 0.999), 8);
  EXPECT_EQ(EncodeCoordinate(integer, ToUnit(integer, 5)), "5");
  EXPECT_EQ(EncodeCoordinate(log, 0.5), "0.001");
  EXPECT_NEAR(*CoordinateOf(log, "0.001"), 0.5, 1e-12);
  EXPECT_EQ(CoordinateOf(log, "2").status().message(), "'2' is outside the range of 'x'");
  EXPECT_EQ(CoordinateOf(integer, "2.5").status().message(), "'2.5' is outside the range of 'x'");
  ParameterRange categorical;
  categorical.name = "optimizer";
  categorical.type = ParameterType::kCategorical;
  categorical.values = {"adam", "sgd"};
  EXPECT_EQ(EncodeCoordinate(categorical, 1), "sgd");
  EXPECT_EQ(*CoordinateOf(categorical, "sgd"), 1);
  EXPECT_EQ(CoordinateOf(categorical, "lion").status().message(),
            "'lion' is not one of the values of 'optimizer'");
}

TEST(SearchSpaceTest, ParsesTheRangeFlags) {
  auto log = ParseRangeFlag("lr", "log:1e-5..1e-1");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE(log->has_value());
  EXPECT_EQ((*log)->type, ParameterType::kContinuous);
  EXPECT_EQ((*log)->scaling, ParameterScaling::kLogarithmic);
  EXPECT_EQ((*log)->min, 1e-5);
  EXPECT_EQ((*log)->max, 1e-1);
  auto layers = ParseRangeFlag("layers", "int:1..8");
  ASSERT_TRUE(layers.ok() && layers->has_value());
  EXPECT_EQ((*layers)->type, ParameterType::kInteger);
  EXPECT_EQ((*layers)->min, 1);
  EXPECT_EQ((*layers)->max, 8);
  auto batch = ParseRangeFlag("batch", "int-log:16..512");
  ASSERT_TRUE(batch.ok() && batch->has_value());
  EXPECT_EQ((*batch)->scaling, ParameterScaling::kLogarithmic);
  EXPECT_EQ((*ParseRangeFlag("momentum", "rlog:0.9..0.999"))->scaling,
            ParameterScaling::kReverseLogarithmic);
  EXPECT_EQ((*ParseRangeFlag("dropout", "lin:0..0.5"))->scaling, ParameterScaling::kLinear);
  // Not ranges: the grid's lists of values.
  EXPECT_FALSE(ParseRangeFlag("lr", "0.1")->has_value());
  EXPECT_FALSE(ParseRangeFlag("url", "http://x")->has_value());
  EXPECT_EQ(ParseRangeFlag("lr", "log:0..1").status().message(),
            "--param 'lr=log:0..1': logarithmic scaling needs min > 0, not 0");
  EXPECT_EQ(ParseRangeFlag("lr", "log:1e-5").status().message(),
            "--param 'lr=log:1e-5': expected log:MIN..MAX");
  EXPECT_EQ(ParseRangeFlag("lr", "lin:a..1").status().message(),
            "--param 'lr=lin:a..1': min 'a' is not a finite number");
  EXPECT_EQ(ParseRangeFlag("layers", "int:1.5..8").status().message(),
            "--param 'layers=int:1.5..8': an integer range's min and max must be whole numbers");
}

}  // namespace
}  // namespace trainyard::core
