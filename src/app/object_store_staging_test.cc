// ObjectStoreStaging through an s3:// store's own presigned URLs, on s3rver (an S3
// implementation nobody here wrote): the manifest's URLs fetch exactly the staged input (its
// size and SHA-256 as the manifest says, a multipart upload's included), the wrapper's uploads
// come back through Fetch, and Remove leaves nothing under the job's prefix. A dataset's file is
// handed where it lies, through either signer: s3rver's presigned URL of the dataset's object,
// or trainyard's S3 endpoint's read-only view of a file:// store's datasets.
#include "app/object_store_staging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "aws/crypto.h"
#include "executor/job_root.h"
#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "server_fixture.h"
#include "storage/local/local_object_store.h"
#include "storage/s3/s3_peer.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using storage::S3rverPeer;

// Stores `bytes` as the dataset ds-1's file, as the REST API's upload does.
executor::StoredObject PutDataset(storage::ObjectStore& store, const std::string& bytes) {
  std::istringstream source(bytes);
  auto put = store.Put("datasets/ds-1/train.csv", source, bytes.size());
  EXPECT_TRUE(put.ok()) << put.status().ToString();
  return {"datasets/ds-1/train.csv", "train.csv", bytes.size(), aws::Sha256Hex(bytes)};
}

// Stages job-1, whose channel `train` is the dataset `dataset`, the way an executor does (its
// root laid out, then StagedJob::PublishInput), and checks that the dataset's manifest entry
// is a URL of the dataset's own object (containing `dataset_url_part`), while the job's config
// files are staged under `staged_prefix` and the dataset is not; then that Remove leaves the
// dataset alone.
void ExpectDatasetHandedWhereItLies(executor::JobStaging& staging, storage::ObjectStore& store,
                                    const executor::StoredObject& dataset, const std::string& bytes,
                                    const std::string& staged_prefix,
                                    const std::string& dataset_url_part) {
  ASSERT_TRUE(staging.HandsStoredObjectsInPlace());
  testing::TempDir temp;
  contract::MlRoot root(temp.path() / "root");
  executor::JobSpec spec;
  spec.definition.job_name = "job-1";
  spec.definition.channels = {{"train"}};
  spec.definition.hyperparameters = {{"lr", "0.1"}};
  spec.definition.max_runtime_seconds = 600;
  spec.channel_objects["train"] = dataset;
  ASSERT_TRUE(executor::PrepareJobRoot(root, spec).ok());
  // The channel's directory, as SageMaker lays it out, holds nothing of the dataset.
  EXPECT_TRUE(!fs::exists(root.channel_dir("train")) || fs::is_empty(root.channel_dir("train")));

  auto manifest_text =
      executor::StagedJob(staging, "job-1", root).PublishInput(spec, std::chrono::seconds(60));
  ASSERT_TRUE(manifest_text.ok()) << manifest_text.status().ToString();
  json manifest = json::parse(*manifest_text);
  std::set<std::string> paths;
  for (const json& input : manifest["inputs"]) {
    const std::string path = input["path"];
    const std::string url = input["url"];
    paths.insert(path);
    testing::HttpAnswer got = testing::Call({.url = url});
    EXPECT_EQ(got.status, 200) << path << ": " << got.body;
    EXPECT_EQ(input["size"], got.body.size()) << path;
    EXPECT_EQ(input["sha256"], aws::Sha256Hex(got.body)) << path;
    if (path == "input/data/train/train.csv") {
      EXPECT_THAT(url, ::testing::HasSubstr(dataset_url_part));
      EXPECT_TRUE(got.body == bytes);
    } else {
      EXPECT_THAT(url, ::testing::HasSubstr("/jobs/job-1/in/" + path)) << path;
    }
  }
  EXPECT_TRUE(paths.contains("input/data/train/train.csv"));
  EXPECT_TRUE(paths.contains("input/config/hyperparameters.json"));
  EXPECT_TRUE(paths.contains("input/config/inputdataconfig.json"));

  // Derived files staged for the job; the dataset not copied among them.
  auto staged = store.List(staged_prefix);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  std::set<std::string> staged_keys;
  for (const storage::ObjectInfo& info : staged->objects) staged_keys.insert(info.key);
  EXPECT_TRUE(staged_keys.contains(staged_prefix + "input/config/hyperparameters.json"));
  EXPECT_FALSE(staged_keys.contains(staged_prefix + "input/data/train/train.csv"));
  EXPECT_EQ(staged_keys.size(), paths.size() - 1);

  // Removing the job's staging objects leaves the dataset where it was.
  ASSERT_TRUE(staging.Remove("job-1").ok());
  auto left = store.List(staged_prefix);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->objects.empty());
  auto kept = store.Head(dataset.key);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->size, bytes.size());
}

TEST(ObjectStoreStagingTest, HandsADatasetWhereItLiesThroughTheS3StoresOwnUrls) {
  std::string why_not;
  S3rverPeer* peer = S3rverPeer::Shared(&why_not);
  if (peer == nullptr) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  auto store = storage::MakeS3ObjectStore(
      storage::TestS3Options(peer->endpoint(), S3rverPeer::kBucket, "in-place-test",
                             S3rverPeer::kAccessKeyId, S3rverPeer::kSecretAccessKey));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ObjectStoreStaging staging(
      {.signer = ObjectStoreStagingOptions::Signer::kStore, .objects = store->get()});
  const std::string bytes = "a,b\n1,2\n3,4\n";
  ExpectDatasetHandedWhereItLies(
      staging, **store, PutDataset(**store, bytes), bytes, "staging/jobs/job-1/in/",
      peer->endpoint() + "/" + S3rverPeer::kBucket + "/in-place-test/datasets/ds-1/train.csv?");
}

TEST(ObjectStoreStagingTest, HandsADatasetWhereItLiesThroughTheS3EndpointsView) {
  testing::TempDir temp;
  auto store = storage::LocalObjectStore::Open({.root = temp.path() / "objects"});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const server::S3ReadOnlyView view{
      .access_key_id = "TYVIEWKEY00000000000",
      .secret_access_key = "view-secret-0000000000000000000000000000"};
  server::S3Api api({.objects = store->get(),
                     .secret_by_access_key_id = {{"TYCLIENTKEY000000000", "client-secret"}},
                     .read_only_view = view});
  auto http = server::HttpServer::Start(
      {.port = 0},
      [&api](const server::HttpRequest& request, server::BodyReader& body,
             server::ResponseWriter& response) { api.Handle(request, body, response); });
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  const std::string endpoint = "http://127.0.0.1:" + std::to_string((*http)->port());
  ObjectStoreStaging staging({.objects = store->get(),
                              .endpoint_url = endpoint,
                              .bucket = "trainyard-staging",
                              .credentials = {"TYCLIENTKEY000000000", "client-secret", ""},
                              .datasets_view = view});
  const std::string bytes = "a,b\n1,2\n3,4\n";
  ExpectDatasetHandedWhereItLies(staging, **store, PutDataset(**store, bytes), bytes,
                                 "s3/objects/trainyard-staging/jobs/job-1/in/",
                                 endpoint + "/trainyard-datasets/ds-1/train.csv?");
  // Without the view, the staging says it cannot: the caller copies the dataset instead.
  ObjectStoreStaging without_view({.objects = store->get(), .endpoint_url = endpoint});
  EXPECT_FALSE(without_view.HandsStoredObjectsInPlace());
  (*http)->Stop();
}

TEST(ObjectStoreStagingTest, StagesThroughTheS3StoresOwnPresignedUrls) {
  std::string why_not;
  S3rverPeer* peer = S3rverPeer::Shared(&why_not);
  if (peer == nullptr) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  // Multipart above 8 MiB (TestS3Options): the large input's digest is not S3's to give.
  auto store = storage::MakeS3ObjectStore(
      storage::TestS3Options(peer->endpoint(), S3rverPeer::kBucket, "staging-test",
                             S3rverPeer::kAccessKeyId, S3rverPeer::kSecretAccessKey));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ObjectStoreStaging staging({.signer = ObjectStoreStagingOptions::Signer::kStore,
                              .objects = store->get(),
                              .jobs_prefix = "jobs/"});

  testing::TempDir temp;
  const std::string small = "a,b\n1,2\n";
  const std::string large(9 << 20, 'x');
  std::ofstream(temp.path() / "train.csv", std::ios::binary) << small;
  std::ofstream(temp.path() / "large.bin", std::ios::binary) << large;
  auto manifest_text =
      staging.Publish("job-1",
                      {{"input/data/train/train.csv", temp.path() / "train.csv"},
                       {"input/data/train/large.bin", temp.path() / "large.bin"}},
                      std::chrono::seconds(600), executor::CheckpointSpec{.name = "job-1"});
  ASSERT_TRUE(manifest_text.ok()) << manifest_text.status().ToString();
  json manifest = json::parse(*manifest_text);
  // The checkpoint's one archive, in the store's staging prefix, kept apart from the job's.
  for (const char* method : {"get", "put"}) {
    EXPECT_THAT(manifest["checkpoint"][method].get<std::string>(),
                ::testing::HasSubstr("staging/checkpoints/job-1/checkpoints.tar.gz"));
  }
  ASSERT_EQ(manifest["inputs"].size(), 2u);
  for (const json& input : manifest["inputs"]) {
    const std::string& expected =
        input["path"].get<std::string>().ends_with(".csv") ? small : large;
    const std::string url = input["url"];
    EXPECT_TRUE(url.starts_with(peer->endpoint() + "/" + S3rverPeer::kBucket +
                                "/staging-test/staging/jobs/job-1/in/input/data/train/"))
        << url;
    testing::HttpAnswer got = testing::Call({.url = url});
    EXPECT_EQ(got.status, 200) << input["path"];
    EXPECT_TRUE(got.body == expected) << input["path"];
    EXPECT_EQ(input["size"], expected.size());
    EXPECT_EQ(input["sha256"], aws::Sha256Hex(expected));
  }

  // The wrapper's upload, by its PUT URL, comes back through Fetch.
  testing::HttpAnswer put =
      testing::Call({.method = "PUT",
                     .url = manifest["outputs"]["model.tar.gz"].get<std::string>(),
                     .body = "model bytes"});
  EXPECT_EQ(put.status, 200) << put.body;
  fs::path fetched = temp.path() / "fetched" / "model.tar.gz";
  ASSERT_TRUE(staging.Fetch("job-1", "model.tar.gz", fetched).ok());
  std::ifstream file(fetched, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(file), {}), "model bytes");
  EXPECT_EQ(staging.Fetch("job-1", "training.log", temp.path() / "log").code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(staging.Remove("job-1").ok());
  auto left = (*store)->List("staging/jobs/job-1/");
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(left->objects.empty());
}

}  // namespace
}  // namespace trainyard::app
