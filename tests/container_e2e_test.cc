// `trainyard server --container-runtime podman` end to end: a 2×2 sweep of the example trainer
// with executor "container", each job a podman container of the local test image (built by
// examples/container/build-image.sh from this build; nothing pulled), reporting its progress to
// the server through the callback URL. Skips, saying why, where podman cannot run containers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "archive/archive.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ServerProcess;

constexpr char kImage[] = "localhost/trainyard-example-trainer:test";

// Empty when podman can run the test image here; otherwise why not.
std::string PodmanUnavailable() {
  fs::path conf = testing::SourceDir() / "src" / "executor" / "container" / "containers.conf";
  ::setenv("CONTAINERS_CONF", conf.c_str(), 1);  // the server and its podman read it
  auto built = testing::RunProcess(
      {"/bin/sh", (testing::SourceDir() / "examples" / "container" / "build-image.sh").string(),
       (testing::BuildDir() / "apps" / "trainyard-wrap").string(),
       (testing::BuildDir() / "examples" / "trainer" / "trainyard-example-trainer").string(),
       kImage},
      {}, 120s);
  if (built.exit_code != 0) return "build-image.sh failed: " + built.output;
  auto smoke = testing::RunProcess({"podman", "run", "--rm", "--pull", "never", "--network", "none",
                                    "--entrypoint", "/bin/true", kImage},
                                   {}, 60s);
  if (smoke.exit_code != 0) return "podman cannot run a container here: " + smoke.output;
  return "";
}

class ContainerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static const std::string unavailable = PodmanUnavailable();
    if (!unavailable.empty()) GTEST_SKIP() << "podman unavailable: " << unavailable;
    server_ = std::make_unique<ServerProcess>(
        temp_.path() / "data", std::vector<std::string>{"--container-runtime", "podman",
                                                        "--executor-limit", "container=2"});
    server_->Start();
  }

  testing::TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ContainerServerTest, TwoByTwoSweepInContainersCompletesWithArtifacts) {
  json body = {{"name", "boxed"},
               {"executor", "container"},
               // The image runs its own command (TRAINYARD_COMMAND=trainyard-example-trainer).
               {"trainer", {{"image", kImage}}},
               {"channels",
                {{"training", server_->UploadExample("train.csv", "training")},
                 {"evaluation", server_->UploadExample("eval.csv", "evaluation")}}},
               {"hyperparameters", {{"iterations", 100}}},
               {"grid", {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}}},
               {"max_parallel", 2},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  auto created = server_->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server_->WaitForSweepEnd(sweep_id, 4, 120s);
  EXPECT_EQ(sweep["counts"]["Completed"], 4) << sweep.dump();
  ASSERT_TRUE(sweep["best_job"].is_object()) << sweep.dump();
  std::string job = sweep["best_job"]["name"];
  json described = server_->Get("/api/v1/jobs/" + job).Json();
  EXPECT_EQ(described["exit_code"], 0);
  // Metrics came through the callback from inside the container.
  json metrics = server_->Get("/api/v1/jobs/" + job + "/metrics?name=loss").Json();
  EXPECT_GT(metrics["metrics"].size(), 0u) << metrics.dump();
  fs::path objects = server_->data_dir() / "objects" / "objects" / "outputs" / job / "output";
  EXPECT_TRUE(fs::exists(objects / "model.tar.gz"));
  EXPECT_TRUE(fs::exists(objects / "output.tar.gz"));
  fs::path unpacked = temp_.path() / "model";
  fs::create_directories(unpacked);
  auto files = archive::Unpack(objects / "model.tar.gz", unpacked);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
}

// Needs no podman: the runtime check at start refuses to serve without it.
TEST(ContainerServerStartTest, FailsClearlyWithoutTheRuntime) {
  testing::TempDir temp;
  auto result = testing::RunProcess(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "server", "--data-dir",
       (temp.path() / "data").string(), "--listen", "127.0.0.1:0", "--container-runtime", "podman"},
      {{"PATH", (temp.path() / "nowhere").string()}}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("container runtime 'podman' not found on PATH"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace trainyard
