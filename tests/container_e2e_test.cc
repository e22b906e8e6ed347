// `trainyard server --container-runtime podman` end to end: a 2×2 sweep of the example trainer
// with executor "container", each job a podman container of the local test image (built by
// examples/container/build-image.sh from this build; nothing pulled), reporting its progress to
// the server through the callback URL; the same image as a SageMaker training job through
// the server's SageMaker-compatible endpoint (awscli); and object-store staging, through the S3
// endpoint and through an s3:// store's own presigned URLs (s3rver). Skips, saying why, where
// podman (or s3rver) cannot run.
#include <gtest/gtest.h>

#include "archive/archive.h"
#include "server_fixture.h"
#include "storage/s3/s3_peer.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ServerProcess;

constexpr char kImage[] = "localhost/trainyard-example-trainer:test";

// Why podman cannot run the test image here (built once per binary); empty: it can.
const std::string& PodmanUnavailable() {
  static const std::string unavailable = testing::BuildPodmanTestImage(kImage);
  return unavailable;
}

class ContainerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PodmanUnavailable().empty()) GTEST_SKIP() << "podman unavailable: " << PodmanUnavailable();
    // The SageMaker-compatible endpoint runs its jobs in containers too.
    s3_url_ = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    sagemaker_url_ = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    server_ = std::make_unique<ServerProcess>(
        temp_.path() / "data",
        std::vector<std::string>{"--container-runtime", "podman", "--executor-limit", "container=2",
                                 "--s3-listen", s3_url_.substr(7), "--sagemaker-listen",
                                 sagemaker_url_.substr(7), "--sagemaker-endpoint-executor",
                                 "container"},
        std::map<std::string, std::string>{{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId},
                                           {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
    server_->Start();
  }

  // Debian's awscli against the server's S3 or SageMaker endpoint.
  testing::ProcessResult Aws(const std::string& endpoint, std::vector<std::string> arguments) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", endpoint, "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return testing::RunProcess(
        argv, testing::AwsClientEnvironment(temp_.path() / "home", kKeyId, kSecret), 120s);
  }

  // Creates the training job `name` on the digits data (uploaded once) and waits until it ends
  // Completed.
  void RunAsSageMakerJob(const std::string& name) {
    fs::path digits = testing::SourceDir() / "examples" / "data" / "digits";
    if (Aws(s3_url_, {"s3", "ls", "s3://digits"}).exit_code != 0) {
      ASSERT_EQ(Aws(s3_url_, {"s3", "mb", "s3://digits"}).exit_code, 0);
      for (const char* channel : {"train", "eval"}) {
        auto copied = Aws(s3_url_, {"s3", "cp", (digits / (std::string(channel) + ".csv")).string(),
                                    std::string("s3://digits/") + channel + "/"});
        ASSERT_EQ(copied.exit_code, 0) << copied.output;
      }
    }
    auto channel = [](const std::string& channel_name, const std::string& prefix) {
      return json{{"ChannelName", channel_name},
                  {"DataSource",
                   {{"S3DataSource",
                     {{"S3DataType", "S3Prefix"},
                      {"S3Uri", "s3://digits/" + prefix + "/"},
                      {"S3DataDistributionType", "FullyReplicated"}}}}}};
    };
    auto created =
        Aws(sagemaker_url_,
            {"sagemaker", "create-training-job", "--training-job-name", name,
             "--algorithm-specification",
             json{{"TrainingImage", kImage}, {"TrainingInputMode", "File"}}.dump(), "--role-arn",
             "arn:aws:iam::000000000000:role/test", "--input-data-config",
             json::array({channel("training", "train"), channel("evaluation", "eval")}).dump(),
             "--output-data-config", "S3OutputPath=s3://digits/out/", "--resource-config",
             "InstanceType=ml.m5.large,InstanceCount=1,VolumeSizeInGB=1", "--stopping-condition",
             "MaxRuntimeInSeconds=600", "--hyper-parameters", "iterations=50,learning_rate=0.1"});
    ASSERT_EQ(created.exit_code, 0) << created.output;
    // Polled with describe rather than `aws sagemaker wait`, whose waiter sleeps 120 s after a
    // first look that finds the job still running (a loaded machine): longer than this waits.
    testing::ProcessResult described;
    EXPECT_TRUE(testing::WaitFor(
        [&] {
          described = Aws(sagemaker_url_,
                          {"sagemaker", "describe-training-job", "--training-job-name", name});
          return described.output.find("\"TrainingJobStatus\": \"InProgress\"") ==
                     std::string::npos &&
                 described.output.find("\"TrainingJobStatus\": \"Stopping\"") == std::string::npos;
        },
        120s))
        << described.output;
    EXPECT_NE(described.output.find("\"TrainingJobStatus\": \"Completed\""), std::string::npos)
        << described.output;
  }

  static constexpr char kKeyId[] = "AKIDCONTAINERTEST";
  static constexpr char kSecret[] = "container-test-secret";
  testing::TempDir temp_;
  std::string s3_url_, sagemaker_url_;
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

// The same image as a SageMaker training job: CreateTrainingJob through awscli, its channels
// from the S3 endpoint, run by the container executor as SageMaker runs it (`<image> train`).
TEST_F(ContainerServerTest, TheImageRunsUnchangedAsASageMakerTrainingJob) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
  RunAsSageMakerJob("boxed-sagemaker-1");
  fs::path model = temp_.path() / "model.tar.gz";
  ASSERT_EQ(Aws(s3_url_, {"s3", "cp", "s3://digits/out/boxed-sagemaker-1/output/model.tar.gz",
                          model.string()})
                .exit_code,
            0);
  fs::path unpacked = temp_.path() / "sagemaker-model";
  fs::create_directories(unpacked);
  ASSERT_TRUE(archive::Unpack(model, unpacked).ok());
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
}

// The REST API's jobs and the endpoint's run side by side in one runtime: a training job named
// as a running sweep's job gets a container of its own.
TEST_F(ContainerServerTest, AnEndpointJobNamedAsARunningSweepJobRunsBesideIt) {
  if (!fs::exists("/usr/bin/aws")) GTEST_SKIP() << "Debian's awscli is not installed";
  json body = {{"name", "twin"},
               {"executor", "container"},
               {"trainer", {{"image", kImage}}},
               {"channels", {{"training", server_->UploadExample("train.csv", "training")}}},
               {"hyperparameters", {{"iterations", 1'000'000'000}}}};
  auto created = server_->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::string job;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        json jobs = server_->Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        if (jobs.empty() || jobs[0]["secondary_status"] != "Training") return false;
        job = jobs[0]["name"];
        return true;
      },
      60s));
  RunAsSageMakerJob(job);
  auto stopped = server_->Post("/api/v1/sweeps/" + sweep_id + "/stop", json::object());
  ASSERT_LT(stopped.status, 300) << stopped.body;
  json sweep = server_->WaitForSweepEnd(sweep_id, 1, 60s);
  EXPECT_EQ(sweep["counts"]["Stopped"], 1) << sweep.dump();
}

// Object-store staging (docs/container.md): a second server whose containers get no mount of its
// data dir; the job's input and outputs travel through its S3 endpoint, and its staging objects
// are gone once its end is recorded.
TEST_F(ContainerServerTest, ObjectStoreStagingMountsNothingAndCompletes) {
  const std::string s3 = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  ServerProcess server(
      temp_.path() / "staged-data",
      {"--container-runtime", "podman", "--container-staging", "object-store", "--s3-listen", s3},
      {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId}, {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
  server.Start();
  json sweep = server.RunImageJob("container", kImage, 120s);
  ASSERT_EQ(sweep["counts"]["Completed"], 1)
      << sweep.dump() << "\n"
      << server.Get("/api/v1/jobs?sweep=" + sweep.value("id", "")).body;
  std::string job = sweep["best_job"]["name"];
  testing::HttpAnswer log = server.Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_NE(log.body.find("staging: downloaded input/data/training/train.csv"), std::string::npos)
      << log.body;
  EXPECT_NE(log.body.find("eval_accuracy"), std::string::npos) << log.body;
  fs::path objects = server.data_dir() / "objects" / "objects";
  fs::path unpacked = temp_.path() / "staged-model";
  fs::create_directories(unpacked);
  ASSERT_TRUE(
      archive::Unpack(objects / "outputs" / job / "output" / "model.tar.gz", unpacked).ok());
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
  fs::path bucket = objects / "s3" / "objects" / "trainyard-staging";
  fs::path staged = bucket / "container-jobs" / job;
  EXPECT_TRUE(testing::WaitFor([&] { return !fs::exists(staged) || fs::is_empty(staged); }, 30s))
      << staged;
  // The checkpoint the trainer wrote came back through its URL, and outlives the staging.
  EXPECT_TRUE(fs::exists(bucket / "container-checkpoints" / job / "checkpoints.tar.gz"));
}

// The container executor with its objects in an s3:// store: s3rver (logging its requests), and
// no S3 endpoint of the server's own.
class ContainerS3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PodmanUnavailable().empty()) GTEST_SKIP() << "podman unavailable: " << PodmanUnavailable();
    std::string why_not;
    s3rver_ = storage::S3rverPeer::Start(&why_not, /*log_requests=*/true);
    if (!s3rver_) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  }

  // A server with its objects under `prefix` of s3rver, with s3rver's credentials as the SDKs
  // find them; `flags` added.
  ServerProcess S3StoreServer(const std::string& prefix, std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"--objects",
                                 std::string("s3://") + storage::S3rverPeer::kBucket + "/" +
                                     prefix + "?endpoint=" + s3rver_->endpoint(),
                                 "--container-runtime", "podman"});
    return ServerProcess(temp_.path() / "data", flags,
                         {{"AWS_ACCESS_KEY_ID", storage::S3rverPeer::kAccessKeyId},
                          {"AWS_SECRET_ACCESS_KEY", storage::S3rverPeer::kSecretAccessKey},
                          {"AWS_CONFIG_FILE", "/dev/null"},
                          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}});
  }

  // Starts `server` and runs one job of the test image on it; the job's name once it completed
  // ("", and a failed test, otherwise), and its log.
  std::string CompletedJob(ServerProcess& server, testing::HttpAnswer* log) {
    server.Start();
    json sweep = server.RunImageJob("container", kImage, 120s);
    EXPECT_EQ(sweep["counts"]["Completed"], 1)
        << sweep.dump() << "\n"
        << server.Get("/api/v1/jobs?sweep=" + sweep.value("id", "")).body << server.OutputSoFar();
    if (sweep["counts"]["Completed"] != 1) return "";
    const std::string job = sweep["best_job"]["name"];
    *log = server.Get("/api/v1/jobs/" + job + "/artifacts/log");
    return job;
  }

  testing::TempDir temp_;
  std::unique_ptr<storage::S3rverPeer> s3rver_;
};

// Object-store staging through an s3:// object store's own presigned URLs (docs/container.md):
// `--objects s3://...` on s3rver, and no S3 endpoint of the server's (no --s3-listen). The job's
// input, outputs and checkpoint travel between its container and s3rver, whose request log shows
// them; its staging objects go once its end is recorded, its checkpoint archive stays.
TEST_F(ContainerS3StoreTest, ObjectStoreStagingThroughTheStoresOwnUrlsKeepsTheCheckpoint) {
  constexpr char kPrefix[] = "container-e2e";
  ServerProcess server = S3StoreServer(kPrefix, {"--container-staging", "object-store"});
  testing::HttpAnswer log;
  const std::string job = CompletedJob(server, &log);
  ASSERT_FALSE(job.empty());
  EXPECT_NE(log.body.find("staging: downloaded input/data/training/train.csv"), std::string::npos)
      << log.body;

  const std::string staging =
      std::string("/") + storage::S3rverPeer::kBucket + "/" + kPrefix + "/staging/";
  const std::string staged = staging + "container-jobs/" + job + "/";
  const std::string checkpoint = staging + "container-checkpoints/" + job + "/checkpoints.tar.gz";
  // The dataset was fetched where it lies, by the job: never staged as a copy.
  auto store = s3rver_->Store(kPrefix);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto datasets = (*store)->List("datasets/");
  ASSERT_TRUE(datasets.ok()) << datasets.status().ToString();
  ASSERT_FALSE(datasets->objects.empty());
  for (const storage::ObjectInfo& dataset : datasets->objects) {
    EXPECT_EQ(s3rver_
                  ->RequestsFor("GET", std::string("/") + storage::S3rverPeer::kBucket + "/" +
                                           kPrefix + "/" + dataset.key)
                  .size(),
              1u)
        << dataset.key << "\n"
        << s3rver_->RequestLog();
  }
  EXPECT_EQ(s3rver_->RequestLog().find(staged + "in/input/data/"), std::string::npos)
      << s3rver_->RequestLog();
  EXPECT_EQ(s3rver_->RequestsFor("PUT", staged + "out/model.tar.gz").size(), 1u)
      << s3rver_->RequestLog();
  EXPECT_EQ(s3rver_->RequestsFor("GET", checkpoint).size(), 1u) << s3rver_->RequestLog();
  EXPECT_GE(s3rver_->RequestsFor("PUT", checkpoint).size(), 1u) << s3rver_->RequestLog();
  EXPECT_EQ(server.OutputSoFar().find("X-Amz-Signature"), std::string::npos);

  EXPECT_EQ(storage::S3rverPeer::ObjectsLeftUnder(**store, "staging/container-jobs/", 30s), 0u);
  EXPECT_TRUE((*store)->Head("staging/container-checkpoints/" + job + "/checkpoints.tar.gz").ok());
}

// The container executor in shared mode with an s3:// store (docs/checkpoints.md): the job root
// is mounted as always, but the checkpoint is kept in the store behind presigned URLs, as the
// local executor's is, so that a retry that another server runs restores it. No directory of
// this machine holds it, and none is mounted for it.
TEST_F(ContainerS3StoreTest, SharedModeKeepsTheCheckpointInTheStore) {
  constexpr char kPrefix[] = "container-shared-e2e";
  ServerProcess server = S3StoreServer(kPrefix, {});
  testing::HttpAnswer log;
  const std::string job = CompletedJob(server, &log);
  ASSERT_FALSE(job.empty());
  EXPECT_NE(log.body.find("checkpoint: stored "), std::string::npos)
      << log.body << server.OutputSoFar();
  EXPECT_EQ(log.body.find("X-Amz-Signature"), std::string::npos) << log.body;

  const std::string checkpoint = std::string("/") + storage::S3rverPeer::kBucket + "/" + kPrefix +
                                 "/staging/container-checkpoints/" + job + "/checkpoints.tar.gz";
  EXPECT_EQ(s3rver_->RequestsFor("GET", checkpoint).size(), 1u) << s3rver_->RequestLog();
  EXPECT_GE(s3rver_->RequestsFor("PUT", checkpoint).size(), 1u) << s3rver_->RequestLog();
  EXPECT_EQ(server.OutputSoFar().find("X-Amz-Signature"), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
    EXPECT_NE(entry.path().filename(), ".checkpoints") << entry.path();
  }
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
