// The fixture of the S3Api tests: a real HttpServer on port 0 serving S3Api over a
// LocalObjectStore in a temp dir, and an S3TestClient signing with a known key.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_test_client.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

namespace trainyard::server {

using s3::testing::Md5Base64;
using s3::testing::S3TestClient;
using s3::testing::S3TestRequest;
using s3::testing::S3TestResponse;

inline constexpr char kKeyId[] = "AKIDTRAINYARDTEST";
inline constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

class S3ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::LocalObjectStore::Open({.root = temp_.path() / "store"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    S3ApiOptions options;
    options.objects = store_.get();
    options.secret_by_access_key_id = {{kKeyId, kSecret}};
    api_ = std::make_unique<S3Api>(options);
    HttpServerOptions http;
    http.port = 0;
    http.body_read_timeout = std::chrono::seconds(2);
    auto server = HttpServer::Start(
        http, [this](const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
          api_->Handle(request, body, response);
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = std::make_unique<S3TestClient>("http://127.0.0.1:" + std::to_string(server_->port()),
                                             aws::Credentials{kKeyId, kSecret, ""});
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Checks an S3 error answer: status, <Code>, a request id, and no secret anywhere.
  static void ExpectError(const S3TestResponse& response, long status, const std::string& code) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.Xml("Code"), code) << response.body;
    EXPECT_FALSE(response.headers.count("x-amz-request-id") == 0);
    EXPECT_FALSE(response.Xml("RequestId").empty()) << response.body;
    EXPECT_EQ(response.body.find(kSecret), std::string::npos);
  }

  void MakeBucket(const std::string& bucket) {
    ASSERT_EQ(client_->Put("/" + bucket, "").status, 200);
  }

  std::vector<std::string> StoreKeys(const std::string& prefix) {
    std::vector<std::string> keys;
    auto page = store_->List(prefix);
    if (page.ok()) {
      for (const auto& info : page->objects) keys.push_back(info.key);
    }
    return keys;
  }

  trainyard::testing::TempDir temp_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<S3Api> api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<S3TestClient> client_;
};

}  // namespace trainyard::server
