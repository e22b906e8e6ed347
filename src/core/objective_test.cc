#include "core/objective.h"

#include <gtest/gtest.h>

namespace trainyard::core {
namespace {

TEST(ObjectiveTest, MetricAndGoal) {
  EXPECT_EQ(*ParseObjective("eval_accuracy:max"),
            (Objective{"eval_accuracy", ObjectiveGoal::kMax}));
  EXPECT_EQ(*ParseObjective("loss:min"), (Objective{"loss", ObjectiveGoal::kMin}));
  // The goal follows the last ':', so a metric's name may hold one.
  EXPECT_EQ(*ParseObjective("validation:accuracy:max"),
            (Objective{"validation:accuracy", ObjectiveGoal::kMax}));
  EXPECT_TRUE(ParseObjective("loss:min")->minimize());
  EXPECT_STREQ(ObjectiveGoalName(ObjectiveGoal::kMin), "min");
  EXPECT_STREQ(ObjectiveGoalName(ObjectiveGoal::kMax), "max");
}

TEST(ObjectiveTest, ABareLossOrErrorIsMinimized) {
  for (const char* metric : {"loss", "eval_loss", "Error", "error_rate", "val:Loss"}) {
    auto goal = DefaultObjectiveGoal(metric);
    ASSERT_TRUE(goal.ok()) << metric;
    EXPECT_EQ(*goal, ObjectiveGoal::kMin) << metric;
  }
  EXPECT_EQ(*ParseObjective("eval_loss"), (Objective{"eval_loss", ObjectiveGoal::kMin}));
}

TEST(ObjectiveTest, AnyOtherBareNameIsRefusedNamingTheWayOut) {
  EXPECT_EQ(DefaultObjectiveGoal("eval_accuracy").status().message(),
            "metric 'eval_accuracy' needs a goal, min or max (only a loss or an error is "
            "minimized without one)");
  EXPECT_EQ(ParseObjective("eval_accuracy").status().message(),
            "--objective 'eval_accuracy': metric 'eval_accuracy' needs a goal, min or max (only a "
            "loss or an error is minimized without one); write eval_accuracy:max or "
            "eval_accuracy:min");
}

TEST(ObjectiveTest, Errors) {
  EXPECT_EQ(ParseObjectiveGoal("lowest").status().message(), "goal 'lowest': must be min or max");
  EXPECT_EQ(ParseObjective("acc:up").status().message(),
            "--objective 'acc:up': goal 'up': must be min or max (the goal follows the last ':', "
            "so a metric "
            "named 'acc:up' is written acc:up:max or acc:up:min)");
  EXPECT_EQ(ParseObjective(":max").status().message(),
            "--objective ':max': names no metric (write METRIC:min or METRIC:max)");
  EXPECT_EQ(ParseObjective("").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trainyard::core
