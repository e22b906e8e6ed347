// The container and IMDS providers against loopback servers (port 0).
#include <gtest/gtest.h>

#include <fstream>

#include "aws/container_provider.h"
#include "aws/imds_provider.h"
#include "support/http_test_server.h"
#include "support/test_paths.h"

namespace trainyard::aws {
namespace {

using trainyard::testing::HttpTestResponse;
using trainyard::testing::HttpTestServer;
using trainyard::testing::RecordedRequest;

constexpr char kDocument[] =
    R"({"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "wJalrSECRET", "Token": "SESSIONTOKEN",
        "Expiration": "2030-01-02T03:04:05Z"})";

std::string Header(const RecordedRequest& request, const std::string& name) {
  auto found = request.headers.find(name);
  return found == request.headers.end() ? "<absent>" : found->second;
}

// ---- Container provider -------------------------------------------------------------------

TEST(ContainerProviderTest, FullUriWithoutToken) {
  HttpTestServer server([](const RecordedRequest& request) {
    return request.target == "/creds" ? HttpTestResponse{200, kDocument}
                                      : HttpTestResponse{404, ""};
  });
  auto found =
      ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds")}}).Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->credentials.access_key_id, "ASIAEXAMPLE");
  EXPECT_EQ(found->credentials.secret_access_key, "wJalrSECRET");
  EXPECT_EQ(found->credentials.session_token, "SESSIONTOKEN");
  EXPECT_EQ(found->source, "container");
  ASSERT_TRUE(found->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*found->expiration), "2030-01-02T03:04:05.000Z");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(Header(server.requests()[0], "authorization"), "<absent>");
}

TEST(ContainerProviderTest, SendsAuthorizationToken) {
  HttpTestServer server([](const RecordedRequest& request) {
    auto auth = request.headers.find("authorization");
    return auth != request.headers.end() && auth->second == "Bearer abc"
               ? HttpTestResponse{200, kDocument}
               : HttpTestResponse{401, ""};
  });
  auto found = ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds")},
                                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc"}})
                   .Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(Header(server.requests().at(0), "authorization"), "Bearer abc");

  auto refused = ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds")},
                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong"}})
                     .Fetch();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
}

TEST(ContainerProviderTest, TokenFileWinsOverTokenVariable) {
  trainyard::testing::TempDir temp;
  std::ofstream(temp.path() / "token") << "from-file\n";
  HttpTestServer server([](const RecordedRequest&) { return HttpTestResponse{200, kDocument}; });
  auto found = ContainerProvider(
                   {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds")},
                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-variable"},
                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (temp.path() / "token").string()}})
                   .Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(Header(server.requests().at(0), "authorization"), "from-file");

  auto missing = ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds")},
                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                     (temp.path() / "absent").string()}})
                     .Fetch();
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
}

TEST(ContainerProviderTest, RelativeUriWinsOverFullUri) {
  HttpTestServer server([](const RecordedRequest& request) {
    return request.target == "/v2/credentials/abc" ? HttpTestResponse{200, kDocument}
                                                   : HttpTestResponse{404, ""};
  });
  ContainerProviderOptions options;
  options.relative_uri_base = server.url("");
  auto found = ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                  {"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/full")}},
                                 options)
                   .Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(server.requests().at(0).target, "/v2/credentials/abc");
}

TEST(ContainerProviderTest, ServerErrorIsUnavailableAfterRetries) {
  HttpTestServer server([](const RecordedRequest&) { return HttpTestResponse{500, "oops"}; });
  auto found =
      ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/creds")}}).Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(found.status().message().find("HTTP 500"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 3u);  // botocore's 3 attempts
}

TEST(ContainerProviderTest, BadJsonAndMissingFieldsAreUnavailable) {
  for (std::string body : {"not json", "[1, 2]", R"({"AccessKeyId": "A"})",
                           R"({"AccessKeyId": 5, "SecretAccessKey": "S"})",
                           R"({"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "x"})"}) {
    HttpTestServer server([&](const RecordedRequest&) { return HttpTestResponse{200, body}; });
    auto found =
        ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url("/c")}}).Fetch();
    EXPECT_EQ(found.status().code(), StatusCode::kUnavailable) << body;
  }
}

TEST(ContainerProviderTest, RefusesPlainHttpToOtherHosts) {
  for (std::string url : {"http://example.com/creds", "http://10.0.0.1/creds",
                          "http://169.254.169.254/creds", "ftp://127.0.0.1/creds", "not a url"}) {
    auto found = ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}).Fetch();
    EXPECT_EQ(found.status().code(), StatusCode::kInvalidArgument) << url;
  }
}

TEST(ContainerProviderTest, AllowedHttpHosts) {
  for (std::string host : {"127.0.0.1", "127.1.2.3", "localhost", "[::1]", "169.254.170.2",
                           "169.254.170.23", "[fd00:ec2::23]"}) {
    EXPECT_TRUE(IsAllowedHttpContainerHost(host)) << host;
  }
  for (std::string host : {"10.0.0.1", "128.0.0.1", "example.com", "localhost.evil.com", "[::2]"}) {
    EXPECT_FALSE(IsAllowedHttpContainerHost(host)) << host;
  }
}

TEST(ContainerProviderTest, NotConfiguredIsNotFound) {
  EXPECT_EQ(ContainerProvider({}).Fetch().status().code(), StatusCode::kNotFound);
}

TEST(ContainerProviderTest, UnreachableIsUnavailable) {
  ContainerProviderOptions options;
  options.attempts = 1;
  auto found =
      ContainerProvider({{"AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "http://127.0.0.1:" +
                              std::to_string(trainyard::testing::UnusedLoopbackPort()) + "/creds"}},
                        options)
          .Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kUnavailable);
}

// ---- IMDS ------------------------------------------------------------------------------------

constexpr char kImdsToken[] = "IMDSTOKEN-123";

// An IMDSv2 instance with role "trainer"; the GETs need the token unless `allow_v1`.
HttpTestResponse FakeImds(const RecordedRequest& request, bool refuse_put, bool allow_v1) {
  if (request.method == "PUT" && request.target == "/latest/api/token") {
    if (refuse_put) return {403, ""};
    if (Header(request, "x-aws-ec2-metadata-token-ttl-seconds") == "<absent>") return {400, ""};
    return {200, kImdsToken};
  }
  if (request.method != "GET") return {405, ""};
  if (Header(request, "x-aws-ec2-metadata-token") != kImdsToken && !allow_v1) return {401, ""};
  if (request.target == "/latest/meta-data/iam/security-credentials/") return {200, "trainer\n"};
  if (request.target == "/latest/meta-data/iam/security-credentials/trainer") {
    return {200, R"({"Code": "Success", "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "S",
                     "Token": "T", "Expiration": "2030-01-02T03:04:05Z"})"};
  }
  return {404, ""};
}

TEST(ImdsProviderTest, TokenThenRoleThenCredentials) {
  HttpTestServer server([](const RecordedRequest& r) { return FakeImds(r, false, false); });
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("/")}}).Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->credentials.access_key_id, "ASIAIMDS");
  EXPECT_EQ(found->source, "imds");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(Header(requests[0], "x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(Header(requests[1], "x-aws-ec2-metadata-token"), kImdsToken);
  EXPECT_EQ(requests[2].target, "/latest/meta-data/iam/security-credentials/trainer");
  EXPECT_EQ(Header(requests[2], "x-aws-ec2-metadata-token"), kImdsToken);
}

TEST(ImdsProviderTest, RefusedPutFallsBackToV1WhenTheInstanceAllowsIt) {
  HttpTestServer server([](const RecordedRequest& r) { return FakeImds(r, true, true); });
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")}}).Fetch();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(Header(server.requests().at(1), "x-aws-ec2-metadata-token"), "<absent>");
}

TEST(ImdsProviderTest, RefusedPutFailsWhenV1IsRefusedOrDisabled) {
  HttpTestServer server([](const RecordedRequest& r) { return FakeImds(r, true, false); });
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")}}).Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kUnauthenticated);

  HttpTestServer v1_server([](const RecordedRequest& r) { return FakeImds(r, true, true); });
  found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", v1_server.url("")},
                        {"AWS_EC2_METADATA_V1_DISABLED", "true"}})
              .Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(v1_server.requests().size(), 1u);  // the PUT only
}

TEST(ImdsProviderTest, NoRoleIsNotFound) {
  HttpTestServer server([](const RecordedRequest& request) {
    return request.method == "PUT" ? HttpTestResponse{200, kImdsToken} : HttpTestResponse{404, ""};
  });
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")}}).Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
}

TEST(ImdsProviderTest, InBandErrorCodeIsUnavailable) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "PUT") return HttpTestResponse{200, kImdsToken};
    if (request.target.ends_with("/")) return HttpTestResponse{200, "trainer"};
    return HttpTestResponse{200, R"({"Code": "AssumeRoleUnauthorizedAccess"})"};
  });
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")}}).Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(found.status().message().find("AssumeRoleUnauthorizedAccess"), std::string::npos);
}

TEST(ImdsProviderTest, DisabledMakesNoRequest) {
  HttpTestServer server([](const RecordedRequest& r) { return FakeImds(r, false, false); });
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url("")},
                             {"AWS_EC2_METADATA_DISABLED", "TRUE"}})
                   .Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(server.requests().empty());
}

TEST(ImdsProviderTest, NothingListeningIsNotFoundAndFast) {
  auto start = std::chrono::steady_clock::now();
  auto found = ImdsProvider({{"AWS_EC2_METADATA_SERVICE_ENDPOINT",
                              "http://127.0.0.1:" +
                                  std::to_string(trainyard::testing::UnusedLoopbackPort())}})
                   .Fetch();
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace trainyard::aws
