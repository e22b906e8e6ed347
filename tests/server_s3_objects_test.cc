// `trainyard server --objects s3://...`: datasets, job outputs and artifacts kept in an S3 store
// (s3rver, an S3 implementation nobody here wrote), end to end with the example trainer.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <fstream>

#include "server_fixture.h"
#include "storage/s3/s3_peer.h"
#include "support/postgres_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ServerProcess;
using testing::WaitFor;

std::string Digits(const std::string& name) {
  return (testing::SourceDir() / "examples" / "data" / "digits" / name).string();
}

// The shared s3rver, with its credentials in this process's environment, where the servers it
// starts find them as the SDKs do; null (and why) when it cannot run here.
storage::S3rverPeer* S3rver(std::string* why_not) {
  storage::S3rverPeer* peer = storage::S3rverPeer::Shared(why_not);
  if (peer == nullptr) return nullptr;
  ::setenv("AWS_ACCESS_KEY_ID", storage::S3rverPeer::kAccessKeyId, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", storage::S3rverPeer::kSecretAccessKey, 1);
  ::setenv("AWS_CONFIG_FILE", "/dev/null", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
  return peer;
}

TEST(ServerS3ObjectsTest, SweepReadsAndWritesItsObjectsInS3) {
  std::string why_not;
  storage::S3rverPeer* peer = S3rver(&why_not);
  if (peer == nullptr) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  std::string uri = std::string("s3://") + storage::S3rverPeer::kBucket +
                    "/server-e2e?endpoint=" + peer->endpoint();

  testing::TempDir temp;
  ServerProcess server(temp.path() / "data", {"--objects", uri});
  server.Start();
  auto upload = [&](const std::string& path, const std::string& kind) {
    auto result = server.Cli({"dataset", "upload", path, "--kind", kind, "--output", "json"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    json dataset = json::parse(result.output.substr(result.output.find('{')), nullptr, false);
    return dataset.is_object() ? dataset.value("id", "") : "";
  };
  json body = {{"name", "s3-digits"},
               {"trainer", {{"command", {"trainyard-example-trainer"}}}},
               {"channels",
                {{"training", upload(Digits("train.csv"), "training")},
                 {"evaluation", upload(Digits("eval.csv"), "evaluation")}}},
               {"hyperparameters", {{"iterations", 50}}},
               {"grid", {{"learning_rate", {0.1}}}}};
  auto created = server.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep;
  ASSERT_TRUE(WaitFor(
      [&] {
        sweep = server.Get("/api/v1/sweeps/" + sweep_id).Json();
        return sweep["counts"].value("Completed", 0) + sweep["counts"].value("Failed", 0) == 1;
      },
      60s));
  ASSERT_EQ(sweep["counts"].value("Completed", 0), 1) << sweep.dump();

  json jobs = server.Get("/api/v1/jobs?sweep=" + sweep_id).Json();
  std::string job = jobs["jobs"][0]["name"];
  auto model = server.Get("/api/v1/jobs/" + job + "/artifacts/model");
  EXPECT_EQ(model.status, 200);
  EXPECT_EQ(model.body.substr(0, 2), "\x1f\x8b") << "model.tar.gz is gzip";
  auto log = server.Get("/api/v1/jobs/" + job + "/logs");
  EXPECT_NE(log.body.find("eval_accuracy"), std::string::npos);

  // Everything is in the bucket, where SageMaker would read and write it; nothing on disk.
  auto store = storage::MakeS3ObjectStore(storage::TestS3Options(
      peer->endpoint(), storage::S3rverPeer::kBucket, "server-e2e",
      storage::S3rverPeer::kAccessKeyId, storage::S3rverPeer::kSecretAccessKey));
  ASSERT_TRUE(store.ok());
  auto outputs = (*store)->List("outputs/" + job + "/output/");
  ASSERT_TRUE(outputs.ok()) << outputs.status().ToString();
  std::vector<std::string> keys;
  for (const auto& object : outputs->objects) keys.push_back(object.key);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "outputs/" + job + "/output/model.tar.gz"),
            keys.end());
  auto datasets = (*store)->List("datasets/");
  ASSERT_TRUE(datasets.ok());
  EXPECT_EQ(datasets->objects.size(), 2u);
  EXPECT_FALSE(fs::exists(server.data_dir() / "objects"));
}

// The pid of the example trainer of a job whose root lies under `directory`; -1 when none runs.
pid_t TrainerUnder(const fs::path& directory) {
  for (const std::string& pid : testing::JobProcesses(directory)) {
    std::ifstream cmdline("/proc/" + pid + "/cmdline");
    std::string argv0;
    std::getline(cmdline, argv0, '\0');
    if (fs::path(argv0).filename() == "trainyard-example-trainer") return std::stoi(pid);
  }
  return -1;
}

// The local executor's checkpoints in an s3:// store that two servers on one PostgreSQL share
// (docs/checkpoints.md): the first server's job loses its trainer mid-run (SIGTERM, as a node
// going away; the trainer writes its checkpoint and the job fails), that server stops, and the
// retry runs on the second server, whose data dir never saw the first one's: it restores the
// archive from the store and resumes where the first attempt stopped.
TEST(ServerS3ObjectsTest, ARetryOnAnotherServerResumesFromTheLocalJobsCheckpointInTheStore) {
  std::string why_not;
  storage::S3rverPeer* peer = S3rver(&why_not);
  if (peer == nullptr) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  testing::PostgresServer* postgres = testing::SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
  const std::string database = postgres->CreateDatabase();
  ASSERT_FALSE(database.empty());
  const std::string prefix = "local-checkpoints-e2e";
  const std::vector<std::string> flags = {"--metadata", database, "--objects",
                                          std::string("s3://") + storage::S3rverPeer::kBucket +
                                              "/" + prefix + "?endpoint=" + peer->endpoint()};

  testing::TempDir temp;
  auto replica = [&](const std::string& name) {
    std::vector<std::string> replica_flags = flags;
    replica_flags.insert(replica_flags.end(), {"--replica-id", name});
    return replica_flags;
  };
  ServerProcess first(temp.path() / "first", replica("first"));
  first.Start();
  json body = {{"name", "local-resumed"},
               {"trainer", {{"command", {"trainyard-example-trainer"}}}},
               {"channels",
                {{"training", first.UploadExample("train.csv", "training")},
                 {"evaluation", first.UploadExample("eval.csv", "evaluation")}}},
               {"hyperparameters", {{"iterations", 400}, {"step_delay_ms", 40}}},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  auto created = first.Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::string job;
  int64_t step_before = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        json listed = first.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        if (listed.empty()) return false;
        job = listed[0]["name"];
        step_before = listed[0]["progress"].value("step", int64_t{0});
        return step_before >= 40;
      },
      120s))
      << "the job never got to step 40: " << first.Get("/api/v1/jobs?sweep=" + sweep_id).body;
  pid_t trainer = TrainerUnder(first.data_dir());
  ASSERT_GT(trainer, 0) << "no trainer runs under " << first.data_dir();
  ASSERT_EQ(::kill(trainer, SIGTERM), 0);
  json sweep = first.WaitForSweepEnd(sweep_id, 1, 120s);
  ASSERT_EQ(sweep["counts"].value("Failed", 0), 1) << sweep.dump();
  testing::HttpAnswer first_log = first.Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_NE(first_log.body.find("checkpoint: stored "), std::string::npos) << first_log.body;
  EXPECT_EQ(first_log.body.find("X-Amz-Signature"), std::string::npos) << first_log.body;
  first.Stop();

  // The archive lies in the store, named after the job; no directory of either server holds it.
  auto store = storage::MakeS3ObjectStore(storage::TestS3Options(
      peer->endpoint(), storage::S3rverPeer::kBucket, prefix, storage::S3rverPeer::kAccessKeyId,
      storage::S3rverPeer::kSecretAccessKey));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string archive = "staging/local-checkpoints/" + job + "/checkpoints.tar.gz";
  EXPECT_TRUE((*store)->Head(archive).ok()) << archive;
  EXPECT_FALSE(fs::exists(first.data_dir() / "jobs" / ".checkpoints" / job));

  ServerProcess second(temp.path() / "second", replica("second"));
  second.Start();
  auto retried = second.Post("/api/v1/sweeps/" + sweep_id + "/retry", json::object());
  ASSERT_EQ(retried.status, 200) << retried.body;
  ASSERT_TRUE(WaitFor(
      [&] {
        return second.Get("/api/v1/sweeps/" + sweep_id).Json()["counts"].value("Completed", 0) == 1;
      },
      180s))
      << second.Get("/api/v1/jobs?sweep=" + sweep_id).body;
  std::string retry = second.Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"][0]["name"];
  testing::HttpAnswer log = second.Get("/api/v1/jobs/" + retry + "/artifacts/log");
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find("checkpoint: restored 1 files from " + peer->endpoint()),
            std::string::npos)
      << log.body;
  testing::ExpectResumedFromCheckpoint(log.body, step_before, 400);
  EXPECT_FALSE(fs::exists(second.data_dir() / "jobs" / ".checkpoints"));
}

}  // namespace
}  // namespace trainyard
