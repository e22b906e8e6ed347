#include "contract/metric_pattern.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace trainyard::contract {
namespace {

TEST(MetricPatternTest, SageMakersDocumentedRegexesWork) {
  auto loss = MetricPattern::Compile(R"(loss: ([0-9\.]+))");
  ASSERT_TRUE(loss.ok()) << loss.status().ToString();
  EXPECT_EQ(loss->FirstGroup("epoch 3 loss: 0.125 acc: 0.9"), "0.125");
  EXPECT_EQ(loss->FirstGroup("nothing here"), std::nullopt);

  auto lazy = MetricPattern::Compile("Train_error=(.*?);");
  ASSERT_TRUE(lazy.ok()) << lazy.status().ToString();
  EXPECT_EQ(lazy->FirstGroup("Train_error=0.25; Valid_error=0.5;"), "0.25");

  auto quality = MetricPattern::Compile(R"(#quality_metric: host=\S+, train mse <loss>=(\S+))");
  ASSERT_TRUE(quality.ok()) << quality.status().ToString();
  EXPECT_EQ(quality->FirstGroup("#quality_metric: host=algo-1, train mse <loss>=1.5"), "1.5");
}

TEST(MetricPatternTest, AnOptionalGroupThatTookNoPartIsNoValue) {
  auto optional = MetricPattern::Compile("acc(?:=([0-9.]+))?");
  ASSERT_TRUE(optional.ok());
  EXPECT_EQ(optional->FirstGroup("acc"), std::nullopt);
  EXPECT_EQ(optional->FirstGroup("acc=0.5"), "0.5");
}

// The review's regex: std::regex backtracks exponentially on it (28 `a`s pinned a CPU) and
// recurses per character; RE2 is linear, so a long line of `a`s takes well under a second.
TEST(MetricPatternTest, NestedQuantifiersOnALongLineTakeLinearTime) {
  auto hostile = MetricPattern::Compile("m=(a*)*b");
  ASSERT_TRUE(hostile.ok()) << hostile.status().ToString();
  std::string line = "m=" + std::string(16 * 1024, 'a');
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(hostile->FirstGroup(line), std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(MetricPatternTest, WhatRe2CannotCompileIsRefusedNamingTheField) {
  Status unbalanced = CheckMetricRegex("metric_definitions[0].regex", "loss: ([0-9]+");
  EXPECT_EQ(unbalanced.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unbalanced.message().rfind("metric_definitions[0].regex is not a valid regex: ", 0), 0u)
      << unbalanced.message();
  // Backreferences and lookaround have no linear-time implementation: RE2 refuses them.
  EXPECT_FALSE(CheckMetricRegex("--metric", R"((a)\1)").ok());
  EXPECT_FALSE(CheckMetricRegex("--metric", "loss(?=:)").ok());
  Status no_group = CheckMetricRegex("--metric", "loss: [0-9]+");
  EXPECT_NE(no_group.message().find("--metric needs a capture group"), std::string::npos)
      << no_group.message();
  EXPECT_TRUE(CheckMetricRegex("--metric", "loss=([0-9.eE+-]+)").ok());
}

}  // namespace
}  // namespace trainyard::contract
