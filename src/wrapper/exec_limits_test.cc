#include "wrapper/exec_limits.h"

#include <gtest/gtest.h>

namespace trainyard::wrapper {
namespace {

TEST(ExecLimitsTest, AVariableTooLongForTheKernelIsLeftOutAndTheRestKept) {
  std::map<std::string, std::string> environment = {
      {"SM_HPS", std::string(200'000, 'x')}, {"SM_HP_A", "1"}, {"PATH", "/usr/bin"}};
  auto left_out = FitToExecLimits({"sh", "-c", "true"}, &environment, ExecLimits{});
  ASSERT_TRUE(left_out.ok()) << left_out.status().ToString();
  ASSERT_EQ(left_out->size(), 1u);
  EXPECT_EQ(left_out->at(0).name, "SM_HPS");
  EXPECT_EQ(left_out->at(0).bytes, 200'007u);
  EXPECT_EQ(environment.size(), 2u);
  EXPECT_EQ(environment.at("SM_HP_A"), "1");
}

TEST(ExecLimitsTest, WhenTheWholeIsTooLargeTheLargestRepeatOfJobJsonGoesFirst) {
  std::map<std::string, std::string> environment = {{"SM_TRAINING_ENV", std::string(3000, 't')},
                                                    {"SM_HPS", std::string(2000, 'h')},
                                                    {"SM_HP_A", std::string(2000, 'a')}};
  ExecLimits limits{.max_string_bytes = 4000, .max_total_bytes = 5000};
  auto left_out = FitToExecLimits({"train"}, &environment, limits);
  ASSERT_TRUE(left_out.ok()) << left_out.status().ToString();
  ASSERT_EQ(left_out->size(), 1u);
  EXPECT_EQ(left_out->at(0).name, "SM_TRAINING_ENV");
  EXPECT_TRUE(environment.contains("SM_HPS"));
  EXPECT_TRUE(environment.contains("SM_HP_A"));
}

TEST(ExecLimitsTest, WhatCannotFitIsRefusedSayingWhy) {
  std::map<std::string, std::string> environment = {{"SM_HP_A", std::string(3000, 'a')}};
  ExecLimits limits{.max_string_bytes = 4000, .max_total_bytes = 2000};
  auto too_large = FitToExecLimits({"train"}, &environment, limits);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_large.status().message().find("more than the 2000 Linux passes"), std::string::npos)
      << too_large.status().message();
  auto long_argument = FitToExecLimits({"train", std::string(5000, 'z')}, &environment, limits);
  ASSERT_FALSE(long_argument.ok());
  EXPECT_NE(long_argument.status().message().find("argument 1"), std::string::npos);
}

TEST(ExecLimitsTest, ThisProcessCanPassAtLeastWhatSageMakerAllows) {
  // 100 hyperparameters of 2,500 characters, as arguments and as SM_HP_*: about 550 KB.
  EXPECT_GT(CurrentExecLimits().max_total_bytes, 600'000u);
}

}  // namespace
}  // namespace trainyard::wrapper
