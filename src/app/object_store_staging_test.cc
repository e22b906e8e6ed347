// ObjectStoreStaging through an s3:// store's own presigned URLs, on s3rver (an S3
// implementation nobody here wrote): the manifest's URLs fetch exactly the staged input (its
// size and SHA-256 as the manifest says, a multipart upload's included), the wrapper's uploads
// come back through Fetch, and Remove leaves nothing under the job's prefix.
#include "app/object_store_staging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "aws/crypto.h"
#include "server_fixture.h"
#include "storage/s3/s3_peer.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using storage::S3rverPeer;

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
