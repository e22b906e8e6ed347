#include "control/sweep_search.h"

#include <gtest/gtest.h>

namespace trainyard::control {
namespace {

metadata::JobRecord Job(const std::string& name, const std::string& rate,
                        const std::string& iterations,
                        core::JobStatus status = core::JobStatus::kCompleted) {
  metadata::JobRecord job;
  job.name = name;
  job.hyperparameters = {{"learning_rate", rate}, {"iterations", iterations}};
  job.status = status;
  return job;
}

// A promotion continues the chain of its configuration: the Completed job of the same
// hyperparameters with the most iterations below its own.
TEST(PromotionParentTest, IsTheSameConfigurationsCompletedJobWithTheMostResourceBelow) {
  std::vector<metadata::JobRecord> jobs = {Job("hb-1", "0.1", "9"), Job("hb-2", "0.3", "9"),
                                           Job("hb-3", "0.1", "27"),
                                           Job("hb-4", "0.1", "81", core::JobStatus::kInProgress),
                                           Job("hb-5", "0.1", "243", core::JobStatus::kFailed)};
  EXPECT_EQ(PromotionParent(jobs, Job("hb-6", "0.1", "81"), "iterations"), "hb-3");
  EXPECT_EQ(PromotionParent(jobs, Job("hb-7", "0.1", "27"), "iterations"), "hb-1");
  EXPECT_EQ(PromotionParent(jobs, Job("hb-8", "0.3", "27"), "iterations"), "hb-2");
  // A first rung's job, another configuration, a job without the resource: none.
  EXPECT_EQ(PromotionParent(jobs, Job("hb-9", "0.1", "9"), "iterations"), "");
  EXPECT_EQ(PromotionParent(jobs, Job("hb-10", "0.03", "27"), "iterations"), "");
  metadata::JobRecord no_resource = Job("hb-11", "0.1", "27");
  no_resource.hyperparameters.erase("iterations");
  EXPECT_EQ(PromotionParent(jobs, no_resource, "iterations"), "");
  // Only a job that ended Completed left a checkpoint of its whole resource.
  EXPECT_EQ(PromotionParent(jobs, Job("hb-12", "0.1", "729"), "iterations"), "hb-3");
}

}  // namespace
}  // namespace trainyard::control
