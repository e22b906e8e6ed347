#include "app/executor_registry.h"

#include <gtest/gtest.h>

#include "aws/environment_provider.h"
#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {

namespace fs = std::filesystem;

// Local options that build without running anything: the wrapper is never started here.
ExecutorSettings LocalOnly(const fs::path& dir) {
  ExecutorSettings settings;
  settings.local.work_dir = dir / "jobs";
  settings.local.wrapper_path = dir / "trainyard-wrap";
  return settings;
}

// A runtime that is never asked anything: the check at start is off.
executor::ContainerExecutorOptions UncheckedContainer(const fs::path& dir) {
  executor::ContainerExecutorOptions container;
  container.runtime_path = "/bin/true";
  container.check_runtime = false;
  container.work_dir = dir / "container-jobs";
  return container;
}

// Options the sagemaker executor accepts; building it sends nothing.
executor::SageMakerExecutorOptions SageMaker(const fs::path& dir) {
  executor::SageMakerExecutorOptions sagemaker;
  sagemaker.role_arn = "arn:aws:iam::123456789012:role/trainyard";
  sagemaker.bucket = "trainyard-test";
  sagemaker.work_dir = dir / "work";
  sagemaker.credentials = std::make_shared<aws::EnvironmentProvider>(
      EnvironmentMap{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "secret"}});
  return sagemaker;
}

// Slurm's commands as stand-ins that are never run: building the executor only finds them.
SlurmSetup Slurm(const fs::path& dir) {
  fs::create_directories(dir / "slurm-bin");
  for (const char* command : {"sbatch", "squeue", "scancel"}) {
    fs::create_symlink("/bin/false", dir / "slurm-bin" / command);
  }
  SlurmSetup slurm;
  slurm.executor.work_dir = dir / "slurm-jobs";
  slurm.executor.wrapper_path = dir / "trainyard-wrap";
  slurm.commands.bin_dir = dir / "slurm-bin";
  return slurm;
}

TEST(ExecutorRegistryTest, KnowsEveryExecutorByName) {
  EXPECT_EQ(KnownExecutors(),
            (std::vector<std::string>{"container", "local", "sagemaker", "slurm"}));
}

TEST(ExecutorRegistryTest, RefusesAnUnknownNameNamingTheKnownOnes) {
  testing::TempDir temp;
  auto refused = OpenExecutor("kubernetes", LocalOnly(temp.path()));
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "unknown executor 'kubernetes' (known: container, local, sagemaker, slurm)");
}

TEST(ExecutorRegistryTest, BuildsEachExecutorFromItsOwnOptions) {
  testing::TempDir temp;
  ExecutorSettings settings = LocalOnly(temp.path());
  settings.container = UncheckedContainer(temp.path());
  settings.sagemaker = SageMaker(temp.path());
  settings.slurm = Slurm(temp.path());
  for (const std::string& name : KnownExecutors()) {
    auto opened = OpenExecutor(name, settings);
    ASSERT_TRUE(opened.ok()) << name << ": " << opened.status().ToString();
    EXPECT_EQ((*opened)->name(), name);
  }
}

TEST(ExecutorRegistryTest, PassesTheOptionsThrough) {
  testing::TempDir temp;
  ExecutorSettings settings = LocalOnly(temp.path());
  // detach_jobs reaches the local executor, which adopts what its work dir holds when built: a
  // job directory with no state is a job that never ran, and is removed.
  settings.local.detach_jobs = true;
  ASSERT_TRUE(MakeDirectories(settings.local.work_dir / "never-ran-001").ok());
  auto local = OpenExecutor("local", settings);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_TRUE((*local)->RemembersJobsAcrossRestarts());
  EXPECT_FALSE(fs::exists(settings.local.work_dir / "never-ran-001"));

  settings.container = UncheckedContainer(temp.path());
  settings.container->runtime_path = temp.path() / "no-such-podman";
  Status container = OpenExecutor("container", settings).status();
  EXPECT_EQ(container.code(), StatusCode::kNotFound);
  EXPECT_NE(container.message().find("container executor: container runtime '" +
                                     (temp.path() / "no-such-podman").string()),
            std::string::npos)
      << container.message();

  settings.sagemaker = SageMaker(temp.path());
  settings.sagemaker->role_arn = "not-an-arn";
  Status sagemaker = OpenExecutor("sagemaker", settings).status();
  EXPECT_EQ(sagemaker.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sagemaker.message().find("'not-an-arn'"), std::string::npos) << sagemaker.message();

  settings.slurm = Slurm(temp.path());
  settings.slurm->commands.bin_dir = temp.path() / "no-slurm-here";
  Status slurm = OpenExecutor("slurm", settings).status();
  EXPECT_EQ(slurm.code(), StatusCode::kNotFound);
  EXPECT_NE(slurm.message().find("slurm executor: Slurm's 'sbatch' not found"), std::string::npos)
      << slurm.message();
}

TEST(ExecutorRegistryTest, OpensSlurmOverSlurmrestdWithoutItsCommands) {
  testing::TempDir temp;
  ExecutorSettings settings = LocalOnly(temp.path());
  settings.slurm = Slurm(temp.path());
  settings.slurm->commands.bin_dir = temp.path() / "no-slurm-here";  // not needed over REST
  settings.slurm->transport = "rest";
  settings.slurm->rest.url = "http://127.0.0.1:6820";
  settings.slurm->rest.user = "trainyard";
  settings.slurm->tokens.jwt_key_file = temp.path() / "jwt.key";
  auto opened = OpenExecutor("slurm", settings);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->name(), "slurm");
  // A sweep's own user: only one the operator allows.
  EXPECT_TRUE((*opened)->CheckRunAsUser("trainyard").ok());
  EXPECT_EQ((*opened)->CheckRunAsUser("alice").code(), StatusCode::kPermissionDenied);
  settings.slurm->rest.allowed_users = {"alice"};
  auto allowing = OpenExecutor("slurm", settings);
  ASSERT_TRUE(allowing.ok()) << allowing.status().ToString();
  EXPECT_TRUE((*allowing)->CheckRunAsUser("alice").ok());
  settings.slurm->rest.allowed_users.clear();

  settings.slurm->tokens.token_file = temp.path() / "token";  // and the key: one or the other
  Status both = OpenExecutor("slurm", settings).status();
  EXPECT_EQ(both.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(both.message().find("slurm executor: slurm_rest_token_file, slurm_jwt_key_file"),
            std::string::npos)
      << both.message();

  settings.slurm->transport = "commands";  // REST settings without the REST transport
  Status stray = OpenExecutor("slurm", settings).status();
  EXPECT_NE(stray.message().find("only with slurm_transport rest"), std::string::npos)
      << stray.message();
}

TEST(ExecutorRegistryTest, AnExecutorWithoutOptionsIsOffAndSaysWhatTurnsItOn) {
  testing::TempDir temp;
  Status container = OpenExecutor("container", LocalOnly(temp.path())).status();
  EXPECT_EQ(container.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(container.message(),
            "the container executor is off: it needs --container-runtime podman|docker");
  Status sagemaker = OpenExecutor("sagemaker", LocalOnly(temp.path())).status();
  EXPECT_EQ(sagemaker.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(sagemaker.message().find("--sagemaker-role-arn"), std::string::npos);
  Status slurm = OpenExecutor("slurm", LocalOnly(temp.path())).status();
  EXPECT_EQ(slurm.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(slurm.message(),
            "the slurm executor is off: it needs --slurm (or any --slurm-* setting)");
}

TEST(ExecutorRegistryTest, OpensExactlyTheExecutorsTheSettingsTurnOn) {
  testing::TempDir temp;
  ExecutorSettings settings = LocalOnly(temp.path());
  auto opened = OpenConfiguredExecutors(settings);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->size(), 1u);
  EXPECT_TRUE(opened->count("local"));

  settings.container = UncheckedContainer(temp.path());
  opened = OpenConfiguredExecutors(settings);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->size(), 2u);
  EXPECT_EQ(opened->at("container")->name(), "container");

  settings.sagemaker = SageMaker(temp.path());
  settings.sagemaker->bucket.clear();
  Status refused = OpenConfiguredExecutors(settings).status();
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("--sagemaker-bucket"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace trainyard::app
