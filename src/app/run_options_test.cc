// `trainyard run` and `trainyard sweep create` read --hp, --param and --objective with the same
// core parsers; these tests show that the same flags make the same jobs, through the API too,
// and are refused with the same messages.
#include "app/run_options.h"

#include <gtest/gtest.h>

#include "app/client_sweep_spec.h"
#include "control/sweep_request.h"
#include "core/hyperparameters.h"

namespace trainyard::app {
namespace {

using nlohmann::json;

struct SharedFlags {
  std::vector<std::string> hyperparameters, params;
  std::string objective;
};

Result<RunOptions> TrainyardRun(const SharedFlags& shared) {
  RunFlags flags;
  flags.hyperparameters = shared.hyperparameters;
  flags.params = shared.params;
  flags.objective = shared.objective;
  RunOptions options;
  options.sweep_name = "agree";
  options.wrapper_path = "/usr/bin/trainyard-wrap";
  return BuildRunOptions(flags, options);
}

Result<json> SweepCreate(const SharedFlags& shared) {
  ClientSweepFlags flags;
  flags.name = "agree";
  flags.command = "train";
  flags.hyperparameters = shared.hyperparameters;
  flags.params = shared.params;
  flags.objective = shared.objective;
  return BuildSweepBody(flags);
}

// Each job's hyperparameters as the job's code sees them (job.json).
json JobsAsTheCodeSeesThem(const core::SweepSpec& spec) {
  auto jobs = core::ExpandSweep(spec);
  EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
  json decoded = json::array();
  if (jobs.ok()) {
    for (const core::HyperparameterMap& job : *jobs) {
      decoded.push_back(core::DecodeHyperparameters(job));
    }
  }
  return decoded;
}

TEST(RunAndSweepCreateAgreeTest, TheSameFlagsMakeTheSameJobs) {
  SharedFlags shared{{"iterations=300", "optimizer=adam", "seed=001"},
                     {"layers=[64,32],[16]", "lr = 0.1, 1e-3", "tag=\"a,b\",c"},
                     "eval_loss"};
  auto run = TrainyardRun(shared);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto body = SweepCreate(shared);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto request = control::ParseSweepRequest(*body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();

  json run_jobs = JobsAsTheCodeSeesThem(run->sweep);
  EXPECT_EQ(run_jobs.size(), 8u);
  EXPECT_EQ(run_jobs[0], json::parse(R"({"iterations": 300, "optimizer": "adam", "seed": "001",
      "layers": [64, 32], "lr": 0.1, "tag": "a,b"})"));
  EXPECT_EQ(JobsAsTheCodeSeesThem(request->sweep), run_jobs);

  const core::Objective loss{"eval_loss", core::ObjectiveGoal::kMin};
  EXPECT_EQ(run->objective, loss);
  EXPECT_EQ(request->objective, loss);
}

TEST(RunAndSweepCreateAgreeTest, TheSameMistakesGetTheSameMessages) {
  for (const SharedFlags& bad :
       {SharedFlags{{}, {}, "eval_accuracy"}, SharedFlags{{}, {}, "accuracy:up"},
        SharedFlags{{}, {}, ":max"}, SharedFlags{{"novalue"}, {}, ""},
        SharedFlags{{}, {"lr=0.1,,0.2"}, ""}, SharedFlags{{}, {"layers=[1,2"}, ""},
        SharedFlags{{}, {"lr=1,2", "lr=3"}, ""}}) {
    auto run = TrainyardRun(bad);
    auto body = SweepCreate(bad);
    ASSERT_FALSE(run.ok());
    ASSERT_FALSE(body.ok());
    EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(run.status().message(), body.status().message());
  }
  EXPECT_EQ(TrainyardRun({{}, {}, "eval_accuracy"}).status().message(),
            "--objective 'eval_accuracy': metric 'eval_accuracy' needs a goal, min or max (only a "
            "loss or an error is minimized without one); write eval_accuracy:max or "
            "eval_accuracy:min");
}

}  // namespace
}  // namespace trainyard::app
