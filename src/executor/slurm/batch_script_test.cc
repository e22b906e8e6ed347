#include "executor/slurm/batch_script.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "common/files.h"
#include "executor/slurm/slurm_options.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {
namespace fs = std::filesystem;

std::string TextOf(const fs::path& file) {
  auto text = ReadFile(file);
  return text.ok() ? *text : "";
}
using namespace std::chrono_literals;

JobSpec Spec() {
  JobSpec spec;
  spec.definition.job_name = "digits-3fa9c1-002";
  spec.sweep_id = "sw-3fa9c1d2e4f5a6b7";
  spec.definition.max_runtime_seconds = 3600;
  spec.stop_grace_period = 120s;
  return spec;
}

TEST(BatchScriptTest, SbatchOptionsCarryNameTimeSiteAndResources) {
  SlurmSiteOptions site;
  site.partition = "gpu";
  site.account = "ml-team";
  site.qos = "normal";
  site.extra_sbatch_arguments = {"--constraint=a100"};
  std::vector<std::string> options =
      SbatchOptions(Spec(), SlurmResources{4, 16384, 1}, site, "/shared/jobs/digits-3fa9c1-002");
  EXPECT_EQ(options, (std::vector<std::string>{
                         "--job-name=digits-3fa9c1-002",
                         "--comment=trainyard job digits-3fa9c1-002 sweep sw-3fa9c1d2e4f5a6b7",
                         "--output=/shared/jobs/digits-3fa9c1-002/slurm-%j.out",
                         "--chdir=/shared/jobs/digits-3fa9c1-002",
                         "--time=63",  // 3600 s + 120 s grace, in minutes, rounded up, + 1
                         "--nodes=1",
                         "--ntasks=1",
                         "--partition=gpu",
                         "--account=ml-team",
                         "--qos=normal",
                         "--cpus-per-task=4",
                         "--mem=16384",
                         "--gres=gpu:1",
                         "--constraint=a100",
                     }));
  site.gpu_option = "gpus";
  options =
      SbatchOptions(Spec(), SlurmResources{0, 0, 2}, SlurmSiteOptions{.gpu_option = "gpus"}, "/j");
  EXPECT_EQ(options.back(), "--gpus=2");
  EXPECT_EQ(std::count_if(options.begin(), options.end(),
                          [](const std::string& o) { return o.rfind("--partition", 0) == 0; }),
            0);
}

TEST(BatchScriptTest, ResourcesFollowSageMakerInstanceTypes) {
  contract::ResourceSettings resources;
  EXPECT_EQ(*ResourcesOf(resources), SlurmResources{});  // "local": Slurm's defaults
  resources.instance_type = "ml.g5.xlarge";
  EXPECT_EQ(*ResourcesOf(resources), (SlurmResources{4, 16 * 1024, 1}));
  resources.instance_type = "ml.p3.8xlarge";
  EXPECT_EQ(ResourcesOf(resources)->gpus, 4);
  resources.instance_type = "ml.x99.huge";
  Result<SlurmResources> unknown = ResourcesOf(resources);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("ml.x99.huge"), std::string::npos);
  resources.instance_type = "local";
  resources.instance_count = 2;
  EXPECT_EQ(ResourcesOf(resources).status().code(), StatusCode::kInvalidArgument);
}

TEST(BatchScriptTest, ShellQuoteSurvivesQuotes) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

// The script itself, run by sh as Slurm would run it: the claim, then exactly the environment.
class BatchScriptRunTest : public ::testing::Test {
 protected:
  int RunScript(const std::string& script, const std::map<std::string, std::string>& env,
                std::string* output) {
    fs::path file = dir_.path() / "job.sh";
    std::ofstream(file) << script;
    std::string command = "env -i";
    for (const auto& [key, value] : env) command += " " + ShellQuote(key + "=" + value);
    command += " /bin/sh " + file.string() + " > " + (dir_.path() / "out").string() + " 2>&1";
    int status = std::system(command.c_str());
    *output = TextOf(dir_.path() / "out");
    return WEXITSTATUS(status);
  }
  testing::TempDir dir_;
};

TEST_F(BatchScriptRunTest, RunsTheWrapperWithExactlyTheEnvironmentPastTheClaim) {
  fs::path claim = dir_.path() / "launch-claim";
  // /usr/bin/env stands in for trainyard-wrap: it prints the environment it was given.
  std::string script =
      BatchScript("job-1", "/usr/bin/env", {}, {{"A", "it's here"}, {"PATH", "/usr/bin:/bin"}},
                  {"SECRET", "SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES"}, claim);
  std::string output;
  EXPECT_EQ(
      RunScript(script, {{"SLURM_JOB_ID", "77"}, {"SECRET", "s3cr3t"}, {"OTHER", "x"}}, &output),
      0);
  EXPECT_NE(output.find("A=it's here\n"), std::string::npos) << output;
  EXPECT_NE(output.find("SECRET=s3cr3t\n"), std::string::npos) << output;
  EXPECT_NE(output.find("SLURM_JOB_ID=77\n"), std::string::npos) << output;
  EXPECT_EQ(output.find("OTHER"), std::string::npos) << output;
  EXPECT_EQ(output.find("CUDA_VISIBLE_DEVICES"), std::string::npos) << output;  // unset: absent
  EXPECT_EQ(TextOf(claim), "77\n");

  // Requeued by Slurm: the same id finds its own claim and runs again.
  EXPECT_EQ(RunScript(script, {{"SLURM_JOB_ID", "77"}}, &output), 0);
  EXPECT_NE(output.find("A=it's here"), std::string::npos) << output;
  // Another job (a second submission) finds the claim taken and runs nothing.
  EXPECT_EQ(RunScript(script, {{"SLURM_JOB_ID", "78"}}, &output), 0);
  EXPECT_EQ(output.find("A=it's here"), std::string::npos) << output;
  EXPECT_NE(output.find("fenced off"), std::string::npos) << output;
}

TEST_F(BatchScriptRunTest, PassesTheCommandAfterTheWrapper) {
  std::string script =
      BatchScript("job-2", "/bin/echo", {"sh", "-c", "echo 'a b'"}, {}, {}, dir_.path() / "claim");
  std::string output;
  EXPECT_EQ(RunScript(script, {{"SLURM_JOB_ID", "5"}}, &output), 0);
  EXPECT_EQ(output, "-- sh -c echo 'a b'\n");
}

// Object-store staging: no claim, and the root is a new directory in the node's $TMPDIR.
TEST_F(BatchScriptRunTest, WithoutAClaimTheRootIsMadeInTheNodesTempDir) {
  std::string script =
      BatchScript("job-3", "/usr/bin/env", {}, {{"A", "1"}}, {"TRAINYARD_STAGING"}, fs::path());
  EXPECT_EQ(script.find("claim"), std::string::npos) << script;
  fs::path node_tmp = dir_.path() / "node-tmp";
  fs::create_directories(node_tmp);
  std::string output;
  EXPECT_EQ(RunScript(script,
                      {{"SLURM_JOB_ID", "9"},
                       {"TMPDIR", node_tmp.string()},
                       {"TRAINYARD_STAGING", "{\"inputs\": []}"}},
                      &output),
            0);
  EXPECT_NE(output.find("TRAINYARD_ML_ROOT=" + node_tmp.string() + "/trainyard-job-3."),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("TRAINYARD_STAGING={\"inputs\": []}\n"), std::string::npos) << output;
  EXPECT_NE(output.find("A=1\n"), std::string::npos) << output;
  EXPECT_EQ(std::distance(fs::directory_iterator(node_tmp), fs::directory_iterator()), 1);
  EXPECT_FALSE(fs::exists(dir_.path() / "launch-claim"));
}

TEST(BatchScriptTest, SlurmStagingModesByName) {
  EXPECT_EQ(*ParseSlurmStaging("shared", "slurm_staging"), SlurmStaging::kShared);
  EXPECT_EQ(*ParseSlurmStaging("object-store", "slurm_staging"), SlurmStaging::kObjectStore);
  auto refused = ParseSlurmStaging("nfs", "slurm_staging");
  EXPECT_EQ(refused.status().message(), "slurm_staging 'nfs': must be 'shared' or 'object-store'");
}

}  // namespace
}  // namespace trainyard::executor
