// ContainerExecutor with real podman over a tiny local image (examples/container/build-image.sh:
// this build's trainyard-wrap and example trainer, nothing pulled), podman configured by
// containers.conf here through CONTAINERS_CONF. Runs the executor conformance suite, then the
// example trainer reporting to a server on loopback. Every test skips, printing why, where
// podman cannot run a container.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "archive/archive.h"
#include "common/environment.h"
#include "common/files.h"
#include "executor/container/container_executor.h"
#include "executor/container/runtime_process.h"
#include "executor/executor_conformance.h"
#include "support/http_test_server.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

extern char** environ;

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using core::JobStatus;
using namespace std::chrono_literals;

constexpr char kTestImage[] = "localhost/trainyard-example-trainer:test";

struct Podman {
  std::string unavailable;  // why the tests skip; empty when podman runs containers
  ContainerExecutorOptions options;
};

// Checked once per test process: podman answers, the image builds, a container runs.
const Podman& PodmanHere() {
  static const Podman podman = [] {
    Podman result;
    ContainerExecutorOptions& options = result.options;
    options.runtime = "podman";
    options.runtime_environment = ParseEnvironment(environ);
    options.runtime_environment["CONTAINERS_CONF"] = CONTAINERS_CONF_PATH;
    options.default_image = kTestImage;
    options.pull = "never";
    auto podman_path = FindExecutable("podman", options.runtime_environment["PATH"]);
    if (podman_path) options.runtime_path = *podman_path;
    auto created = ContainerExecutor::Create(options);
    if (!created.ok()) {
      result.unavailable = created.status().ToString();
    } else {
      testing::ProcessResult built = testing::RunProcess(
          {"/bin/sh", BUILD_IMAGE_SCRIPT, TRAINYARD_WRAP_PATH, EXAMPLE_TRAINER_PATH, kTestImage},
          {{"CONTAINERS_CONF", CONTAINERS_CONF_PATH}}, 120s);
      if (built.exit_code != 0) {
        result.unavailable = "build-image.sh failed: " + built.output;
      } else {
        auto smoke = RunCommand({options.runtime_path.string(), "run", "--rm", "--pull", "never",
                                 "--network", "none", "--entrypoint", "/bin/true", kTestImage},
                                FormatEnvironment(options.runtime_environment), 60s);
        if (!smoke.ok()) {
          result.unavailable = "podman run: " + smoke.status().ToString();
        } else if (smoke->exit_code != 0) {
          result.unavailable = "podman cannot run a container here: " + smoke->output;
        }
      }
    }
    if (!result.unavailable.empty()) {
      std::fprintf(stderr, "[container tests] skipped: %s\n", result.unavailable.c_str());
    }
    return result;
  }();
  return podman;
}

ExecutorPtr MakePodman(const fs::path& work_dir) {
  ContainerExecutorOptions options = PodmanHere().options;
  options.work_dir = work_dir;
  options.stop_margin = 2s;
  options.check_runtime = false;  // PodmanHere() checked it
  // Another test run on this machine may use the same job names at the same time.
  options.container_name_prefix = "trainyard-test-" + std::to_string(::getpid()) + "-";
  auto created = ContainerExecutor::Create(options);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? ExecutorPtr(std::move(created).value()) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Podman, ExecutorConformanceTest,
                         ::testing::Values(ExecutorFactory{
                             "container", MakePodman, [] { return PodmanHere().unavailable; }}),
                         [](const auto& info) { return info.param.name; });

class ContainerPodmanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PodmanHere().unavailable.empty()) GTEST_SKIP() << PodmanHere().unavailable;
    executor_ = MakePodman(temp_.path() / "work");
    ASSERT_NE(executor_, nullptr);
  }

  JobDescription WaitForEnd(const std::string& name, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto description = executor_->Describe(name);
      EXPECT_TRUE(description.ok());
      if (core::IsTerminal(description->status.status()) ||
          std::chrono::steady_clock::now() > deadline) {
        return *description;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  testing::TempDir temp_;
  ExecutorPtr executor_;
};

// Two example-trainer jobs at once, as a sweep runs them: each completes with its model, and
// its progress reaches a server listening on 127.0.0.1 (through --network host) with its token.
TEST_F(ContainerPodmanTest, TwoTrainerJobsCompleteAndReportToTheServer) {
  testing::HttpTestServer server;
  std::vector<std::string> names = {"digits-lr-1", "digits-lr-2"};
  std::vector<JobSpec> specs;
  for (size_t i = 0; i < names.size(); ++i) {
    JobSpec spec;
    spec.definition.job_name = names[i];
    spec.definition.hyperparameters = {
        {"learning_rate", i == 0 ? "0.1" : "0.05"}, {"batch_size", "32"}, {"iterations", "40"}};
    spec.definition.channels = {{"training"}, {"evaluation"}};
    spec.channel_sources = {{"training", fs::path(EXAMPLE_DIGITS_DIR) / "train.csv"},
                            {"evaluation", fs::path(EXAMPLE_DIGITS_DIR) / "eval.csv"}};
    spec.definition.environment["TRAINYARD_CALLBACK_URL"] =
        server.url("/api/v1/jobs/" + names[i] + "/progress");
    spec.secret_environment["TRAINYARD_JOB_TOKEN"] = "token-" + names[i];
    spec.artifact_dir = temp_.path() / "out" / names[i];
    ASSERT_TRUE(executor_->Submit(spec).ok());
    specs.push_back(spec);
  }
  for (const JobSpec& spec : specs) {
    const std::string& name = spec.definition.job_name;
    JobDescription description = WaitForEnd(name, 60s);
    ASSERT_EQ(description.status.status(), JobStatus::kCompleted)
        << description.status.ToJson().dump() << "\n"
        << (ReadFile(spec.artifact_dir / "training.log").ok()
                ? *ReadFile(spec.artifact_dir / "training.log")
                : "(no log)");
    fs::path unpacked = temp_.path() / "unpacked" / name;
    fs::create_directories(unpacked);
    auto files = archive::Unpack(spec.artifact_dir / "model.tar.gz", unpacked);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    EXPECT_EQ(*files, std::vector<std::string>{"model.json"});
    EXPECT_TRUE(fs::exists(spec.artifact_dir / "output.tar.gz"));
    EXPECT_FALSE(description.metrics.empty());
  }
  ASSERT_TRUE(server.WaitForRequests(2, 10s));
  for (const std::string& name : names) {
    bool reported = false;
    for (const testing::RecordedRequest& request : server.requests()) {
      if (request.method == "POST" && request.target == "/api/v1/jobs/" + name + "/progress") {
        EXPECT_EQ(request.headers.at("authorization"), "Bearer token-" + name);
        reported = true;
      }
    }
    EXPECT_TRUE(reported) << name << " never reached the server";
  }
}

TEST_F(ContainerPodmanTest, MissingImageFailsWithTheRuntimeMessage) {
  JobSpec spec;
  spec.definition.job_name = "no-image-job";
  spec.definition.training_image = "localhost/trainyard-no-such-image:none";
  spec.artifact_dir = temp_.path() / "out";
  ASSERT_TRUE(executor_->Submit(spec).ok());
  JobDescription description = WaitForEnd("no-image-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  EXPECT_EQ(description.status.failure_reason().rfind("ClientError: podman could not run", 0), 0u)
      << description.status.failure_reason();
}

}  // namespace
}  // namespace trainyard::executor
