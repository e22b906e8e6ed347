// `trainyard server --objects s3://...`: datasets, job outputs and artifacts kept in an S3 store
// (s3rver, an S3 implementation nobody here wrote), end to end with the example trainer.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "server_fixture.h"
#include "storage/s3/s3_peer.h"

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

TEST(ServerS3ObjectsTest, SweepReadsAndWritesItsObjectsInS3) {
  std::string why_not;
  storage::S3rverPeer* peer = storage::S3rverPeer::Shared(&why_not);
  if (peer == nullptr) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  // The server finds its S3 credentials as the SDKs do: here, in its environment.
  ::setenv("AWS_ACCESS_KEY_ID", storage::S3rverPeer::kAccessKeyId, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", storage::S3rverPeer::kSecretAccessKey, 1);
  ::setenv("AWS_CONFIG_FILE", "/dev/null", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
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

}  // namespace
}  // namespace trainyard
