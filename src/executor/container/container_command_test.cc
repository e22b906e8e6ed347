// The exact argv the container executor hands to the runtime: the argv is the behaviour.
#include "executor/container/container_command.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace trainyard::executor {
namespace {

using Argv = std::vector<std::string>;
using namespace std::chrono_literals;

ContainerExecutorOptions Options() {
  ContainerExecutorOptions options;
  options.runtime = "podman";
  options.runtime_path = "/usr/bin/podman";
  options.default_image = "localhost/trainer:1";
  options.progress_interval = 1s;
  options.work_dir = "/data/container-jobs";
  return options;
}

JobSpec Spec() {
  JobSpec spec;
  spec.definition.job_name = "digits-001";
  spec.definition.environment = {{"MODE", "fast"}};
  spec.stop_grace_period = 120s;
  return spec;
}

const Argv kJobEnvironment = {"--env", "MODE=fast",
                              "--env", "TRAINING_JOB_NAME=digits-001",
                              "--env", "TRAINYARD_PROGRESS_INTERVAL_SECONDS=1.000000",
                              "--env", "TRAINYARD_STOP_GRACE_SECONDS=120.000000"};

// Detached, named and labelled: the executor finds its own containers again by work dir.
const Argv kRunHead = {"/usr/bin/podman",
                       "run",
                       "--detach",
                       "--name",
                       "trainyard-digits-001",
                       "--label",
                       "trainyard.job=digits-001",
                       "--label",
                       "trainyard.work-dir=/data/container-jobs"};

Argv Concat(std::initializer_list<Argv> parts) {
  Argv all;
  for (const Argv& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

TEST(ContainerCommandTest, PlainJobRunsTrainWithoutNetwork) {
  JobSpec spec = Spec();
  spec.command = {"sh", "-c", "echo hi"};
  EXPECT_EQ(ContainerRunArguments(Options(), spec, "/work/digits-001/ml"),
            Concat({kRunHead,
                    {"--stop-timeout", "125", "--timeout", "86585", "--pull", "never", "--network",
                     "none", "--volume", "/work/digits-001/ml:/opt/ml"},
                    kJobEnvironment,
                    {"localhost/trainer:1", "train", "--", "sh", "-c", "echo hi"}}));
}

// The job's checkpoint store is mounted beside its root, the store it restores from read only, and
// trainyard-wrap finds both through its variables (docs/checkpoints.md).
TEST(ContainerCommandTest, ACheckpointedJobGetsItsStoresMounted) {
  JobSpec spec = Spec();
  spec.checkpoint = {.name = "digits", .restore_from = "digits-parent"};
  const std::string inside = "/opt/trainyard/checkpoint-stores/";
  const std::string outside = "/data/container-jobs/.checkpoints/";
  Argv argv = ContainerRunArguments(Options(), spec, "/r");
  Argv volumes = {"--volume", "/r:/opt/ml",
                  "--volume", outside + "digits:" + inside + "digits",
                  "--volume", outside + "digits-parent:" + inside + "digits-parent:ro"};
  EXPECT_NE(std::search(argv.begin(), argv.end(), volumes.begin(), volumes.end()), argv.end())
      << ::testing::PrintToString(argv);
  for (const std::string& variable :
       {"TRAINYARD_CHECKPOINT_STORE=" + inside + "digits",
        "TRAINYARD_CHECKPOINT_RESTORE_FROM=" + inside + "digits-parent"}) {
    EXPECT_NE(std::find(argv.begin(), argv.end(), variable), argv.end()) << variable;
  }
  // Without a checkpoint: the job root alone.
  spec.checkpoint = {};
  argv = ContainerRunArguments(Options(), spec, "/r");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--volume"), 1);
}

TEST(ContainerCommandTest, LoopbackCallbackUsesHostNetworkAndPassesTheTokenByName) {
  JobSpec spec = Spec();
  spec.definition.training_image = "localhost/other:2";
  spec.definition.environment["TRAINYARD_CALLBACK_URL"] = "http://127.0.0.1:8080/api/v1/jobs/x";
  spec.secret_environment = {{"TRAINYARD_JOB_TOKEN", "s3cret"}};
  Argv argv = ContainerRunArguments(Options(), spec, "/r");
  EXPECT_EQ(argv, Concat({kRunHead,
                          {"--stop-timeout",
                           "125",
                           "--timeout",
                           "86585",
                           "--pull",
                           "never",
                           "--network",
                           "host",
                           "--volume",
                           "/r:/opt/ml",
                           "--env",
                           "MODE=fast",
                           "--env",
                           "TRAINING_JOB_NAME=digits-001",
                           "--env",
                           "TRAINYARD_CALLBACK_URL=http://127.0.0.1:8080/api/v1/jobs/x",
                           "--env",
                           "TRAINYARD_PROGRESS_INTERVAL_SECONDS=1.000000",
                           "--env",
                           "TRAINYARD_STOP_GRACE_SECONDS=120.000000",
                           "--env",
                           "TRAINYARD_JOB_TOKEN",
                           "localhost/other:2",
                           "train"}}));
  for (const std::string& argument : argv) EXPECT_EQ(argument.find("s3cret"), std::string::npos);
}

TEST(ContainerCommandTest, RemoteCallbackUsesTheDefaultNetworkAndOptionsOverride) {
  JobSpec spec = Spec();
  spec.definition.environment["TRAINYARD_CALLBACK_URL"] = "https://trainyard.example.com/cb";
  EXPECT_EQ(ChooseNetwork(Options(), spec), "");
  Argv argv = ContainerRunArguments(Options(), spec, "/r");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--network"), argv.end());
  ContainerExecutorOptions options = Options();
  options.network = "trainyard-net";
  EXPECT_EQ(ChooseNetwork(options, spec), "trainyard-net");
}

TEST(ContainerCommandTest, ResourcesGpusAndTheResolvedImage) {
  ContainerExecutorOptions options = Options();
  options.gpus = true;
  options.cpus = "2";
  options.memory = "4g";
  options.pull = PullPolicy::kNever;
  options.job_environment = {{"MODE", "slow"}, {"EXTRA", "1"}};
  JobSpec spec = Spec();
  Argv argv = ContainerRunArguments(options, spec, "/r");
  EXPECT_EQ(argv, Concat({kRunHead,
                          {"--stop-timeout", "125", "--timeout", "86585", "--pull", "never",
                           "--network", "none", "--device", "nvidia.com/gpu=all", "--cpus", "2",
                           "--memory", "4g", "--volume", "/r:/opt/ml", "--env", "EXTRA=1"},
                          kJobEnvironment,
                          {"localhost/trainer:1", "train"}}));
  // The image the executor resolved (its id) replaces the name, whatever the pull policy.
  options.pull = PullPolicy::kAlways;
  argv = ContainerRunArguments(options, spec, "/r", "3017aa23a1fc");
  EXPECT_EQ(Argv(argv.end() - 2, argv.end()), (Argv{"3017aa23a1fc", "train"}));
  EXPECT_EQ(*(std::find(argv.begin(), argv.end(), "--pull") + 1), "never");
  options.runtime = "docker";
  options.runtime_path = "/usr/bin/docker";
  argv = ContainerRunArguments(options, spec, "/r");
  auto gpus = std::find(argv.begin(), argv.end(), "--gpus");
  ASSERT_NE(gpus, argv.end());
  EXPECT_EQ(*(gpus + 1), "all");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--device"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--timeout"), argv.end());  // podman only
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--stop-timeout"), argv.end());
}

TEST(ContainerCommandTest, EntrypointAndArgumentsFollowSageMaker) {
  JobSpec spec = Spec();
  spec.command = {"ignored"};
  spec.definition.container_entrypoint = {"python3", "-u", "train.py"};
  spec.definition.container_arguments = {"--epochs", "3"};
  Argv argv = ContainerRunArguments(Options(), spec, "/r");
  Argv tail(argv.end() - 7, argv.end());
  EXPECT_EQ(tail, (Argv{"--entrypoint", "python3", "localhost/trainer:1", "-u", "train.py",
                        "--epochs", "3"}));
  spec.definition.container_entrypoint.clear();
  argv = ContainerRunArguments(Options(), spec, "/r");
  EXPECT_EQ(Argv(argv.end() - 3, argv.end()), (Argv{"localhost/trainer:1", "--epochs", "3"}));
}

// Object-store staging: nothing of this machine mounted, a checkpoint's store neither (the
// manifest carries its URLs); the manifest passed by name, and the network chosen to reach the
// staging URLs' host.
TEST(ContainerCommandTest, ObjectStoreStagingMountsNothingAndPassesTheManifest) {
  JobSpec spec = Spec();
  spec.checkpoint = {.name = "digits", .restore_from = "digits-parent"};
  ContainerLaunch launch{.image = "3017aa23a1fc",
                         .passed = {"TRAINYARD_STAGING"},
                         .staging_url = "http://127.0.0.1:9000/trainyard-staging/x?X-Amz-"};
  EXPECT_EQ(ContainerRunArguments(Options(), spec, launch),
            Concat({kRunHead,
                    {"--stop-timeout", "125", "--timeout", "86585", "--pull", "never", "--network",
                     "host"},
                    kJobEnvironment,
                    {"--env", "TRAINYARD_STAGING", "3017aa23a1fc", "train"}}));
  launch.staging_url = "http://10.0.0.5:9000/trainyard-staging/x";
  EXPECT_EQ(ChooseNetwork(Options(), spec, launch.staging_url), "");  // the default bridge
  EXPECT_EQ(ChooseNetwork(Options(), spec), "none");
}

// A checkpoint behind URLs (an s3:// store's, a SageMaker CheckpointConfig's) is reached like a
// staging manifest's: a job with nothing else to reach still gets a network.
TEST(ContainerCommandTest, ACheckpointBehindUrlsNeedsANetworkThatReachesTheStore) {
  JobSpec spec = Spec();
  EXPECT_EQ(CheckpointStoreUrl(spec), "");
  spec.secret_environment[kCheckpointUrlsVariable] =
      R"({"get": "http://127.0.0.1:4568/b/c.tar.gz?g", "put": "http://127.0.0.1:4568/b/c.tar.gz?p"})";
  EXPECT_EQ(CheckpointStoreUrl(spec), "http://127.0.0.1:4568/b/c.tar.gz?p");
  EXPECT_EQ(ChooseNetwork(Options(), spec, CheckpointStoreUrl(spec)), "host");
  spec.secret_environment[kCheckpointUrlsVariable] = "not json";
  EXPECT_EQ(CheckpointStoreUrl(spec), "");
}

// What a Slurm batch script runs on the node: the same container, in the foreground.
TEST(ContainerCommandTest, NodeContainerRunsInTheForegroundReplacingALeftover) {
  JobSpec spec = Spec();
  spec.definition.training_image = "registry.example.com/digits:2";
  spec.secret_environment = {{"TRAINYARD_TOKEN", "t0k3n"}};
  spec.command = {"python", "train.py"};
  ContainerExecutorOptions options;
  options.network = "host";
  options.gpus = true;
  options.progress_interval = 1s;
  EXPECT_EQ(
      NodeContainerRunArguments(options, spec,
                                ContainerLaunch{.host_root = "$root", .passed = {"SLURM_JOB_ID"}}),
      Concat({{"podman", "run", "--rm", "--replace", "--name", "trainyard-digits-001", "--label",
               "trainyard.job=digits-001", "--stop-timeout", "125", "--timeout", "86585",
               "--network", "host", "--device", "nvidia.com/gpu=all", "--volume", "$root:/opt/ml"},
              kJobEnvironment,
              {"--env", "TRAINYARD_TOKEN", "--env", "SLURM_JOB_ID", "registry.example.com/digits:2",
               "train", "--", "python", "train.py"}}));

  // A checkpointed job on a shared work dir: its stores there mounted as the container
  // executor mounts its own, and named to trainyard-wrap.
  spec.checkpoint = {.name = "digits-001", .restore_from = "digits-000"};
  options.work_dir = "/shared/slurm-jobs";
  ContainerLaunch launch{.host_root = "$root",
                         .checkpoint_stores = HostCheckpointStores(options, spec)};
  Argv argv = NodeContainerRunArguments(options, spec, launch);
  const std::string inside = "/opt/trainyard/checkpoint-stores/";
  Argv volumes = {
      "--volume", "$root:/opt/ml",
      "--volume", "/shared/slurm-jobs/.checkpoints/digits-001:" + inside + "digits-001",
      "--volume", "/shared/slurm-jobs/.checkpoints/digits-000:" + inside + "digits-000:ro"};
  EXPECT_NE(std::search(argv.begin(), argv.end(), volumes.begin(), volumes.end()), argv.end())
      << ::testing::PrintToString(argv);
  for (const std::string& variable :
       {"TRAINYARD_CHECKPOINT_STORE=" + inside + "digits-001",
        "TRAINYARD_CHECKPOINT_RESTORE_FROM=" + inside + "digits-000"}) {
    EXPECT_NE(std::find(argv.begin(), argv.end(), variable), argv.end()) << variable;
  }
}

TEST(ContainerCommandTest, StopRemoveAndCheck) {
  EXPECT_EQ(ContainerStopArguments(Options(), "digits-001", 120s),
            (Argv{"/usr/bin/podman", "stop", "-t", "125", "trainyard-digits-001"}));
  EXPECT_EQ(ContainerStopArguments(Options(), "j", 1500ms),
            (Argv{"/usr/bin/podman", "stop", "-t", "7", "trainyard-j"}));
  EXPECT_EQ(ContainerLogsArguments(Options(), "j"),
            (Argv{"/usr/bin/podman", "logs", "trainyard-j"}));
  EXPECT_EQ(ContainerRemoveArguments(Options(), "j"),
            (Argv{"/usr/bin/podman", "rm", "-f", "trainyard-j"}));
  EXPECT_EQ(ContainerInspectArguments(Options(), "j"),
            (Argv{"/usr/bin/podman", "inspect", "--format",
                  "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}", "trainyard-j"}));
  EXPECT_EQ(ContainerListArguments(Options()),
            (Argv{"/usr/bin/podman", "ps", "--all", "--filter",
                  "label=trainyard.work-dir=/data/container-jobs", "--format", "{{.Names}}"}));
  EXPECT_EQ(RuntimeCheckArguments(Options()),
            (Argv{"/usr/bin/podman", "info", "--format", "{{.Version.Version}}"}));
  ContainerExecutorOptions docker = Options();
  docker.runtime = "docker";
  docker.runtime_path.clear();
  EXPECT_EQ(RuntimeCheckArguments(docker),
            (Argv{"docker", "version", "--format", "{{.Server.Version}}"}));
}

TEST(ContainerCommandTest, NamePrefix) {
  ContainerExecutorOptions options = Options();
  EXPECT_EQ(ContainerName(options, "j"), "trainyard-j");
  options.container_name_prefix = "ty-test-42-";
  EXPECT_EQ(ContainerStopArguments(options, "j", 1s).back(), "ty-test-42-j");
  EXPECT_EQ(ContainerRunArguments(options, Spec(), "/r")[4], "ty-test-42-digits-001");
  // The labels do not change with the prefix: the work dir tells executors apart.
  EXPECT_EQ(ContainerRunArguments(options, Spec(), "/r")[6], "trainyard.job=digits-001");
}

TEST(ContainerCommandTest, LoopbackUrls) {
  EXPECT_TRUE(IsLoopbackUrl("http://127.0.0.1:8080/x"));
  EXPECT_TRUE(IsLoopbackUrl("http://localhost/x"));
  EXPECT_TRUE(IsLoopbackUrl("http://LOCALHOST:1"));
  EXPECT_TRUE(IsLoopbackUrl("http://[::1]:8080/x"));
  EXPECT_TRUE(IsLoopbackUrl("http://user:pw@127.0.0.2:80"));
  EXPECT_FALSE(IsLoopbackUrl("http://10.0.0.1:8080/x"));
  EXPECT_FALSE(IsLoopbackUrl("https://example.com/127.0.0.1"));
  EXPECT_FALSE(IsLoopbackUrl("http://[fe80::1]:8080"));
}

}  // namespace
}  // namespace trainyard::executor
