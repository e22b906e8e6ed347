#include "core/early_stopping.h"

#include <gtest/gtest.h>

#include <cmath>

namespace trainyard::core {
namespace {

LearningCurve Curve(const std::string& job, std::vector<CurvePoint> points, bool ended = false) {
  return {job, std::move(points), ended};
}

// Three jobs that learned: accuracy 0.1 at step 0, rising to 0.9 by step 30.
std::vector<LearningCurve> GoodJobs() {
  return {Curve("a", {{0, 0.1}, {10, 0.6}, {20, 0.8}, {30, 0.9}}, true),
          Curve("b", {{0, 0.1}, {10, 0.5}, {20, 0.7}, {30, 0.85}}, true),
          Curve("c", {{0, 0.1}, {10, 0.7}, {20, 0.85}, {30, 0.95}}, true)};
}

TEST(MedianStoppingRuleTest, StopsAJobWhoseBestIsBelowTheMedianOfTheOthersRunningAverages) {
  const LearningCurve bad = Curve("bad", {{0, 0.1}, {10, 0.12}, {20, 0.15}});
  auto decision = MedianStoppingRule(bad, GoodJobs(), ObjectiveGoal::kMax);
  ASSERT_TRUE(decision.has_value());
  EXPECT_EQ(decision->step, 20);
  EXPECT_DOUBLE_EQ(decision->best, 0.15);
  // Running averages at step 20: a (0.1+0.6+0.8)/3 = 0.5, b 0.4333, c 0.55; the median is a's.
  EXPECT_DOUBLE_EQ(decision->median, 0.5);
  EXPECT_EQ(decision->compared, 3u);
  EXPECT_EQ(DescribeStop(*decision, {"accuracy", ObjectiveGoal::kMax}),
            "Early stopping (median rule): at step 20 the best accuracy so far, 0.15, is below "
            "0.5, the median of the running averages of 3 other jobs at step 20");
}

TEST(MedianStoppingRuleTest, KeepsAJobAtOrAboveTheMedian) {
  // Its best (0.5) equals the median: not strictly worse.
  EXPECT_FALSE(
      MedianStoppingRule(Curve("x", {{0, 0.1}, {20, 0.5}}), GoodJobs(), ObjectiveGoal::kMax));
  // Its running average is low, but its best so far is what is judged.
  EXPECT_FALSE(MedianStoppingRule(Curve("x", {{0, 0.0}, {10, 0.0}, {20, 0.51}}), GoodJobs(),
                                  ObjectiveGoal::kMax));
  // Everyone starts from the same untrained model: nobody is stopped at step 0.
  EXPECT_FALSE(MedianStoppingRule(Curve("x", {{0, 0.1}}), GoodJobs(), ObjectiveGoal::kMax));
}

TEST(MedianStoppingRuleTest, MinimizingStopsAJobAboveTheMedian) {
  std::vector<LearningCurve> others = {Curve("a", {{1, 2.0}, {2, 1.0}}, true),
                                       Curve("b", {{1, 2.0}, {2, 0.5}}, true),
                                       Curve("c", {{1, 3.0}, {2, 1.0}}, true)};
  // Averages at step 2: 1.5, 1.25, 2.0; median 1.5.
  auto decision = MedianStoppingRule(Curve("x", {{1, 2.5}, {2, 1.6}}), others, ObjectiveGoal::kMin);
  ASSERT_TRUE(decision.has_value());
  EXPECT_DOUBLE_EQ(decision->median, 1.5);
  EXPECT_DOUBLE_EQ(decision->best, 1.6);
  EXPECT_NE(DescribeStop(*decision, {"loss", ObjectiveGoal::kMin}).find("is above 1.5"),
            std::string::npos);
  EXPECT_FALSE(MedianStoppingRule(Curve("x", {{1, 2.5}, {2, 1.4}}), others, ObjectiveGoal::kMin));
}

TEST(MedianStoppingRuleTest, NeedsEnoughOtherJobsThatReachedTheStep) {
  std::vector<LearningCurve> others = GoodJobs();
  others.pop_back();
  const LearningCurve bad = Curve("bad", {{0, 0.1}, {20, 0.15}});
  EXPECT_FALSE(MedianStoppingRule(bad, others, ObjectiveGoal::kMax)) << "two others only";
  // A running job that has not reached step 20 yet is not compared.
  others.push_back(Curve("d", {{0, 0.1}, {10, 0.9}}));
  EXPECT_FALSE(MedianStoppingRule(bad, others, ObjectiveGoal::kMax));
  // Once it has, it is (and the job itself is never compared with itself).
  others.back().points.push_back({20, 0.9});
  others.push_back(bad);
  auto decision = MedianStoppingRule(bad, others, ObjectiveGoal::kMax);
  ASSERT_TRUE(decision.has_value());
  EXPECT_EQ(decision->compared, 3u);
  // A smaller threshold judges with fewer.
  others = GoodJobs();
  others.resize(1);
  EXPECT_TRUE(MedianStoppingRule(bad, others, ObjectiveGoal::kMax, {.min_other_jobs = 1}));
}

TEST(MedianStoppingRuleTest, EndedJobsCountBeyondTheirLastStepWithTheirWholeCurve) {
  // The job is at step 1000, far beyond the others' 30 steps: they ended, so they count with the
  // mean of all their points (a: 0.6, b: 0.5375, c: 0.65).
  auto decision =
      MedianStoppingRule(Curve("long", {{0, 0.1}, {1000, 0.3}}), GoodJobs(), ObjectiveGoal::kMax);
  ASSERT_TRUE(decision.has_value());
  EXPECT_DOUBLE_EQ(decision->median, 0.6);
  // Still running and behind: not compared.
  std::vector<LearningCurve> running = GoodJobs();
  for (LearningCurve& curve : running) curve.ended = false;
  EXPECT_FALSE(
      MedianStoppingRule(Curve("long", {{0, 0.1}, {1000, 0.3}}), running, ObjectiveGoal::kMax));
}

TEST(MedianStoppingRuleTest, IgnoresNonFiniteValuesAndEmptyCurves) {
  EXPECT_FALSE(MedianStoppingRule(Curve("x", {}), GoodJobs(), ObjectiveGoal::kMax));
  EXPECT_FALSE(
      MedianStoppingRule(Curve("x", {{5, std::nan("")}}), GoodJobs(), ObjectiveGoal::kMax));
  std::vector<LearningCurve> others = GoodJobs();
  others.push_back(Curve("nan", {{0, std::nan("")}}, true));  // no finite point: not compared
  auto decision =
      MedianStoppingRule(Curve("bad", {{0, 0.1}, {20, 0.15}}), others, ObjectiveGoal::kMax);
  ASSERT_TRUE(decision.has_value());
  EXPECT_EQ(decision->compared, 3u);
}

}  // namespace
}  // namespace trainyard::core
