#include "app/run_options.h"

#include <gtest/gtest.h>

namespace trainyard::app {
namespace {

TEST(RunOptionsTest, ParsesObjectives) {
  auto max = ParseObjective("accuracy:max");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->metric, "accuracy");
  EXPECT_FALSE(max->minimize);
  auto bare = ParseObjective("loss");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->minimize);
  auto bad = ParseObjective("loss:lowest");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("min or max"), std::string::npos);
  EXPECT_FALSE(ParseObjective(":max").ok());
}

}  // namespace
}  // namespace trainyard::app
