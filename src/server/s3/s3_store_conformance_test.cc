// Both of trainyard's S3 halves together: S3ObjectStore passes the ObjectStore conformance suite
// against trainyard's own S3 endpoint (S3Api over a LocalObjectStore, on a real HttpServer), with
// no known deviation, unlike s3rver.
#include <gtest/gtest.h>

#include <atomic>

#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_test_client.h"
#include "storage/local/local_object_store.h"
#include "storage/object_store_conformance.h"
#include "storage/s3/s3_peer.h"

namespace trainyard::server {
namespace {

constexpr char kKeyId[] = "AKIDCONFORMANCE";
constexpr char kSecret[] = "conformance-secret";
constexpr char kBucket[] = "conformance";

// One endpoint for the whole binary, with the bucket made through the API itself.
struct Endpoint {
  trainyard::testing::TempDir temp;
  std::unique_ptr<storage::LocalObjectStore> store;
  std::unique_ptr<S3Api> api;
  std::unique_ptr<HttpServer> server;
  std::string url;
};

// Made by the first test that needs it; stopped after the last test, while the process is
// whole: stopped by a static destructor instead, its connection threads could still be logging
// while other statics go (a "double free" at exit was seen, after every test had passed).
std::unique_ptr<Endpoint> endpoint;

class EndpointEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { endpoint.reset(); }
};
::testing::Environment* const kEndpointEnvironment =
    ::testing::AddGlobalTestEnvironment(new EndpointEnvironment);

Result<Endpoint*> SharedEndpoint() {
  if (endpoint) return endpoint.get();
  auto made = std::make_unique<Endpoint>();
  TY_ASSIGN_OR_RETURN(made->store, storage::LocalObjectStore::Open({.root = made->temp.path()}));
  made->api = std::make_unique<S3Api>(
      S3ApiOptions{.objects = made->store.get(), .secret_by_access_key_id = {{kKeyId, kSecret}}});
  S3Api* api = made->api.get();
  TY_ASSIGN_OR_RETURN(made->server, HttpServer::Start({.port = 0}, [api](const HttpRequest& request,
                                                                         BodyReader& body,
                                                                         ResponseWriter& response) {
                        api->Handle(request, body, response);
                      }));
  made->url = "http://127.0.0.1:" + std::to_string(made->server->port());
  s3::testing::S3TestClient client(made->url, aws::Credentials{kKeyId, kSecret, ""});
  auto created = client.Put(std::string("/") + kBucket, "");
  if (created.status != 200) return Internal("CreateBucket answered " + created.body);
  endpoint = std::move(made);
  return endpoint.get();
}

Result<storage::ObjectStorePtr> MakeOnEndpoint(const std::filesystem::path&) {
  TY_ASSIGN_OR_RETURN(Endpoint * endpoint, SharedEndpoint());
  static std::atomic<int> counter{0};
  return storage::MakeS3ObjectStore(storage::TestS3Options(
      endpoint->url, kBucket, "test-" + std::to_string(++counter), kKeyId, kSecret));
}

using storage::ObjectStoreConformanceTest;  // the macro cannot take a qualified name

INSTANTIATE_TEST_SUITE_P(TrainyardEndpoint, ObjectStoreConformanceTest,
                         ::testing::Values(storage::ObjectStoreFactory{
                             .name = "trainyard_s3_endpoint",
                             .make = MakeOnEndpoint,
                             .digest_of_large_objects = false,
                             .digests_in_lists = false,
                             // the test's prefix (and the endpoint's own) share S3's 1024 bytes
                             .max_key_bytes = 960}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace trainyard::server
