#include "executor/slurm/batch_script.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "common/files.h"
#include "executor/container/container_command.h"
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

TEST(BatchScriptTest, StagingModesAndContainerRuntimesByName) {
  EXPECT_EQ(*ParseStagingMode("shared", "slurm_staging"), StagingMode::kShared);
  EXPECT_EQ(*ParseStagingMode("object-store", "slurm_staging"), StagingMode::kObjectStore);
  auto refused = ParseStagingMode("nfs", "slurm_staging");
  EXPECT_EQ(refused.status().message(), "slurm_staging 'nfs': must be 'shared' or 'object-store'");
  EXPECT_EQ(*ParseSlurmContainerRuntime("podman", "r"), SlurmContainerRuntime::kPodman);
  EXPECT_EQ(*ParseSlurmContainerRuntime("srun", "r"), SlurmContainerRuntime::kSrun);
  EXPECT_EQ(ParseSlurmContainerRuntime("docker", "slurm_container_runtime").status().message(),
            "slurm_container_runtime 'docker': must be 'podman' or 'srun'");
}

// A job with an image, run by podman on the node. A stand-in podman prints its arguments, one
// per line, and the variables it was given that the container takes by name; it exits with
// $PODMAN_EXIT.
class ContainerBatchScriptTest : public BatchScriptRunTest {
 protected:
  void SetUp() override {
    podman_ = dir_.path() / "bin" / "podman";
    fs::create_directories(podman_.parent_path());
    std::ofstream(podman_) << "#!/bin/sh\n"
                              "for argument in \"$@\"; do echo \"arg $argument\"; done\n"
                              "echo \"env TRAINYARD_TOKEN=$TRAINYARD_TOKEN\"\n"
                              "echo \"env TRAINYARD_STAGING=$TRAINYARD_STAGING\"\n"
                              "exit ${PODMAN_EXIT:-0}\n";
    fs::permissions(podman_, fs::perms::owner_all);
  }

  // The argv the slurm executor gives: what the container executor would run, in the
  // foreground, the root mounted from the script's $root.
  std::vector<std::string> Container(const std::vector<std::string>& passed) {
    JobSpec spec = Spec();
    spec.definition.training_image = "localhost/trainer:1";
    spec.secret_environment = {{"TRAINYARD_TOKEN", "t0k3n"}};
    spec.command = {"sh", "-c", "echo 'a b'"};
    ContainerExecutorOptions options;
    options.runtime_path = podman_;
    options.network = "host";
    return NodeContainerRunArguments(options, spec,
                                     ContainerLaunch{.host_root = kScriptRoot, .passed = passed});
  }

  fs::path podman_;
};

TEST_F(ContainerBatchScriptTest, SharedRootIsMountedPastTheClaim) {
  fs::path claim = dir_.path() / "launch-claim";
  fs::path root = dir_.path() / "job" / "ml";
  std::string script =
      ContainerBatchScript("job-4", claim, root, Container({"SLURM_JOB_ID", "TRAINYARD_STAGING"}));
  std::string output;
  EXPECT_EQ(RunScript(script, {{"SLURM_JOB_ID", "41"}, {"TRAINYARD_TOKEN", "t0k3n"}}, &output), 0);
  EXPECT_EQ(TextOf(claim), "41\n");
  EXPECT_NE(output.find(
                "arg run\narg --rm\narg --replace\narg --name\narg trainyard-digits-3fa9c1-002\n"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("arg --volume\narg " + root.string() + ":/opt/ml\n"), std::string::npos)
      << output;
  EXPECT_NE(output.find("arg --network\narg host\n"), std::string::npos) << output;
  // The secret and Slurm's variables by name only; podman has their values.
  EXPECT_NE(output.find("arg --env\narg TRAINYARD_TOKEN\n"), std::string::npos) << output;
  EXPECT_NE(output.find("arg --env\narg SLURM_JOB_ID\n"), std::string::npos) << output;
  EXPECT_NE(output.find("env TRAINYARD_TOKEN=t0k3n\n"), std::string::npos) << output;
  EXPECT_EQ(output.find("t0k3n"), output.find("env TRAINYARD_TOKEN=t0k3n") + 20) << output;
  EXPECT_NE(output.find("arg localhost/trainer:1\narg train\narg --\narg sh\narg -c\n"
                        "arg echo 'a b'\n"),
            std::string::npos)
      << output;
  // Another Slurm job (a second submission) finds the claim taken: podman never runs.
  EXPECT_EQ(RunScript(script, {{"SLURM_JOB_ID", "42"}}, &output), 0);
  EXPECT_EQ(output.find("arg run"), std::string::npos) << output;
}

TEST_F(ContainerBatchScriptTest, ObjectStoreRootIsTheNodesOwnRemovedAfterWithPodmansExit) {
  std::string script =
      ContainerBatchScript("job-5", fs::path(), fs::path(), Container({"TRAINYARD_STAGING"}));
  EXPECT_EQ(script.find("claim"), std::string::npos) << script;
  fs::path node_tmp = dir_.path() / "node-tmp";
  fs::create_directories(node_tmp);
  std::string output;
  EXPECT_EQ(RunScript(script,
                      {{"TMPDIR", node_tmp.string()},
                       {"PODMAN_EXIT", "3"},
                       {"TRAINYARD_STAGING", "{\"inputs\": []}"}},
                      &output),
            3);
  EXPECT_NE(output.find("arg --volume\narg " + node_tmp.string() + "/trainyard-job-5."),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("arg --env\narg TRAINYARD_STAGING\n"), std::string::npos) << output;
  EXPECT_NE(output.find("env TRAINYARD_STAGING={\"inputs\": []}\n"), std::string::npos) << output;
  // The node's root is gone with podman.
  EXPECT_EQ(std::distance(fs::directory_iterator(node_tmp), fs::directory_iterator()), 0);
}

// srun's OCI support: `srun --container=BUNDLE` runs env -i and the bundle's trainyard-wrap. A
// stand-in srun prints its options and runs the rest.
TEST_F(BatchScriptRunTest, SrunContainerRunsTheBundlesWrapperWithTheEnvironment) {
  fs::path srun = dir_.path() / "bin" / "srun";
  fs::create_directories(srun.parent_path());
  std::ofstream(srun) << "#!/bin/sh\necho \"srun $1\"\nshift\nexec \"$@\"\n";
  fs::permissions(srun, fs::perms::owner_all);
  // /usr/bin/env stands in for the bundle's trainyard-wrap.
  std::string script = BatchScript("job-6", "/usr/bin/env", {}, {{"TRAINYARD_ML_ROOT", "/r/ml"}},
                                   {"SECRET"}, dir_.path() / "claim", {"srun", "--container=/b/x"});
  EXPECT_NE(script.find("exec 'srun' '--container=/b/x' /usr/bin/env -i"), std::string::npos)
      << script;
  std::string output;
  EXPECT_EQ(RunScript(script,
                      {{"SLURM_JOB_ID", "6"},
                       {"SECRET", "s3cr3t"},
                       {"PATH", srun.parent_path().string() + ":/usr/bin:/bin"}},
                      &output),
            0);
  EXPECT_EQ(output.rfind("srun --container=/b/x\n", 0), 0u) << output;
  EXPECT_NE(output.find("TRAINYARD_ML_ROOT=/r/ml\n"), std::string::npos) << output;
  EXPECT_NE(output.find("SECRET=s3cr3t\n"), std::string::npos) << output;
  EXPECT_EQ(output.find("PATH="), std::string::npos) << output;  // env -i: only the job's
}

}  // namespace
}  // namespace trainyard::executor
