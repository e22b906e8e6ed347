// S3ObjectStore::PresignedUrl: URLs that s3rver (an S3 implementation nobody here wrote) takes
// from a client holding no credentials, GET and PUT; the session token in the URL, the secret
// never; the store's addressing style, or path-style at an endpoint as someone else reaches it.
#include <gtest/gtest.h>

#include <sstream>

#include "aws/environment_provider.h"
#include "server_fixture.h"
#include "storage/s3/s3_object_store.h"
#include "storage/s3/s3_peer.h"
#include "storage/url_presigner.h"

namespace trainyard::storage {
namespace {

// One request to `url` with no credentials at all, as trainyard-wrap sends it.
testing::HttpAnswer Send(const std::string& method, const std::string& url,
                         const std::string& body = "") {
  return testing::Call({.method = method, .url = url, .body = body, .timeout_ms = 30'000});
}

std::string UrlOf(ObjectStore& store, const std::string& key, const std::string& method,
                  const std::string& endpoint = "") {
  UrlPresigner* presigner = PresignerOf(store);
  EXPECT_NE(presigner, nullptr);
  if (presigner == nullptr) return "";
  auto url = presigner->PresignedUrl(key, method, std::chrono::seconds(300), endpoint);
  EXPECT_TRUE(url.ok()) << url.status().ToString();
  return url.ok() ? *url : "";
}

TEST(S3PresignTest, S3rverTakesTheUrlsFromAClientWithoutCredentials) {
  std::string why_not;
  S3rverPeer* peer = S3rverPeer::Shared(&why_not);
  if (peer == nullptr) GTEST_SKIP() << "s3rver cannot run here: " << why_not;
  auto made =
      MakeS3ObjectStore(TestS3Options(peer->endpoint(), S3rverPeer::kBucket, "presign",
                                      S3rverPeer::kAccessKeyId, S3rverPeer::kSecretAccessKey));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ObjectStore& store = **made;
  std::istringstream source("input bytes");
  ASSERT_TRUE(store.Put("jobs/a/in/train.csv", source, 11).ok());

  std::string get = UrlOf(store, "jobs/a/in/train.csv", "GET");
  EXPECT_TRUE(get.starts_with(peer->endpoint() + "/" + S3rverPeer::kBucket +
                              "/presign/jobs/a/in/train.csv?"))
      << get;
  testing::HttpAnswer got = Send("GET", get);
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, "input bytes");

  testing::HttpAnswer put =
      Send("PUT", UrlOf(store, "jobs/a/out/model.tar.gz", "PUT"), "model bytes");
  EXPECT_EQ(put.status, 200) << put.body;
  std::ostringstream stored;
  ASSERT_TRUE(store.Get("jobs/a/out/model.tar.gz", stored).ok());
  EXPECT_EQ(stored.str(), "model bytes");

  // s3rver reads the URL's credentials: a key pair it does not know is refused. (It does not
  // check SigV4 signatures themselves; the signer is checked against AWS's published presigned
  // GET in aws/sigv4_s3_test.cc.)
  S3ObjectStoreOptions stranger_options =
      TestS3Options(peer->endpoint(), S3rverPeer::kBucket, "presign", "AKIDUNKNOWN", "secret");
  auto stranger = MakeS3ObjectStore(stranger_options);
  ASSERT_TRUE(stranger.ok()) << stranger.status().ToString();
  testing::HttpAnswer refused = Send("GET", UrlOf(**stranger, "jobs/a/in/train.csv", "GET"));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("InvalidAccessKeyId"), std::string::npos) << refused.body;
}

TEST(S3PresignTest, CarriesTheSessionTokenAndSignsForTheEndpointTheClientReaches) {
  S3ObjectStoreOptions options =
      TestS3Options("http://127.0.0.1:9", "bucket", "runs", "ASIAEXAMPLE", "unused");
  options.credentials = std::make_shared<aws::EnvironmentProvider>(
      EnvironmentMap{{"AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"},
                     {"AWS_SECRET_ACCESS_KEY", "distinctive-SECRET-71"},
                     {"AWS_SESSION_TOKEN", "session/token+1"}});
  auto made = MakeS3ObjectStore(options);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ObjectStore& store = **made;

  std::string own = UrlOf(store, "k/a b", "PUT");
  EXPECT_TRUE(own.starts_with("http://127.0.0.1:9/bucket/runs/k/a%20b?")) << own;
  EXPECT_NE(own.find("X-Amz-Security-Token=session%2Ftoken%2B1"), std::string::npos) << own;
  EXPECT_NE(own.find("X-Amz-Credential=ASIAEXAMPLE%2F"), std::string::npos) << own;
  EXPECT_NE(own.find("X-Amz-Expires=300"), std::string::npos) << own;
  EXPECT_EQ(own.find("distinctive-SECRET-71"), std::string::npos) << own;

  std::string elsewhere = UrlOf(store, "k/a b", "PUT", "https://s3.site.internal:8443");
  EXPECT_TRUE(elsewhere.starts_with("https://s3.site.internal:8443/bucket/runs/k/a%20b?"))
      << elsewhere;
  EXPECT_NE(elsewhere.find("X-Amz-Security-Token="), std::string::npos) << elsewhere;

  UrlPresigner& presigner = *PresignerOf(store);
  EXPECT_EQ(presigner.PresignedUrl("k", "DELETE", std::chrono::seconds(60)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(presigner.PresignedUrl("k", "GET", std::chrono::hours(24 * 8)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(presigner.PresignedUrl("k", "GET", std::chrono::seconds(60), "ftp://x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(presigner.PresignedUrl("../k", "GET", std::chrono::seconds(60)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(S3PresignTest, VirtualHostedStoresPresignVirtualHostedUrls) {
  S3ObjectStoreOptions options =
      TestS3Options("https://s3.eu-west-3.amazonaws.com", "my-team", "", "AKID", "secret");
  options.path_style = false;
  options.region = "eu-west-3";
  auto made = MakeS3ObjectStore(options);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::string url = UrlOf(**made, "staging/jobs/a/in/x", "GET");
  EXPECT_TRUE(url.starts_with("https://my-team.s3.eu-west-3.amazonaws.com/staging/jobs/a/in/x?"))
      << url;
  EXPECT_NE(url.find("%2Feu-west-3%2Fs3%2Faws4_request"), std::string::npos) << url;
}

}  // namespace
}  // namespace trainyard::storage
