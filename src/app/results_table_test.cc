#include "app/results_table.h"

#include <gtest/gtest.h>

namespace trainyard::app {
namespace {

JobResult Completed(const std::string& name, const std::string& lr, double loss) {
  auto now = std::chrono::system_clock::now();
  executor::JobDescription description{name, core::JobStatusTracker(now)};
  (void)description.status.Transition(core::SecondaryStatus::kTraining, now);
  (void)description.status.Transition(core::SecondaryStatus::kCompleted, now);
  description.metrics = {{"loss", loss}, {"accuracy", 1 - loss}};
  return {name, {{"learning_rate", lr}, {"iterations", "100"}}, description, 1.5};
}

TEST(ResultsTableTest, BestFirstByObjective) {
  std::vector<JobResult> results = {Completed("a", "0.1", 0.5),
                                    Completed("b", "0.01", 0.2),
                                    {"c", {{"learning_rate", "1"}}, std::nullopt, 0}};
  SortBestFirst(results, core::Objective{"loss", core::ObjectiveGoal::kMin});
  EXPECT_EQ(results[0].job_name, "b");
  EXPECT_EQ(results[1].job_name, "a");
  EXPECT_EQ(results[2].job_name, "c");  // no metric: last
  SortBestFirst(results, core::Objective{"accuracy", core::ObjectiveGoal::kMax});
  EXPECT_EQ(results[0].job_name, "b");
}

TEST(ResultsTableTest, ShowsVaryingHyperparametersAndMetricsObjectiveFirst) {
  std::vector<JobResult> results = {Completed("a", "0.1", 0.5), Completed("b", "0.01", 0.25)};
  std::string table =
      FormatResultsTable(results, core::Objective{"loss", core::ObjectiveGoal::kMin});
  std::string header = table.substr(0, table.find('\n'));
  EXPECT_NE(header.find("learning_rate"), std::string::npos);
  EXPECT_EQ(header.find("iterations"), std::string::npos);  // the same for all: not shown
  EXPECT_LT(header.find("loss"), header.find("accuracy"));
  EXPECT_NE(table.find("Completed"), std::string::npos);
  EXPECT_NE(table.find("0.25"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::app
