// ECR's GetAuthorizationToken: the input against botocore's own ecr model (python3-botocore's
// service-2.json, read here), the answer decoded as the JSON protocol writes it, errors that
// quote no token, and the call as it goes on the wire (target, content type, signed for "ecr" in
// the registry's region).
#include "aws/ecr_authorization.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/crypto.h"
#include "aws/environment_provider.h"
#include "aws/service_model.h"
#include "common/files.h"
#include "support/http_test_server.h"

namespace trainyard::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using trainyard::testing::HttpTestResponse;
using trainyard::testing::HttpTestServer;
using trainyard::testing::RecordedRequest;

const ServiceModel& EcrModel() {
  static const ServiceModel* model = [] {
    auto text = ReadFile(TRAINYARD_ECR_MODEL_JSON);
    EXPECT_TRUE(text.ok()) << "botocore's ecr model (python3-botocore): "
                           << text.status().ToString();
    auto parsed = ServiceModel::Parse(text.ok() ? *text : "{}", {"GetAuthorizationToken"});
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? new ServiceModel(std::move(parsed).value()) : nullptr;
  }();
  return *model;
}

TEST(EcrAuthorizationTest, TheRequestIsWhatBotocoresModelAsksFor) {
  ASSERT_TRUE(EcrModel().HasOperation("GetAuthorizationToken"));
  EXPECT_EQ(EcrModel().target_prefix(), kEcrTargetPrefix);
  EXPECT_EQ(EcrModel().signing_name(), "ecr");
  nlohmann::json input = GetAuthorizationTokenInput("123456789012");
  EXPECT_EQ(input, nlohmann::json::parse(R"({"registryIds": ["123456789012"]})"));
  EXPECT_EQ(ValidationMessage(EcrModel().ValidateInput("GetAuthorizationToken", input)), "");
  // The check can fail: the model's RegistryId pattern and list bounds.
  EXPECT_THAT(ValidationMessage(EcrModel().ValidateInput("GetAuthorizationToken",
                                                         GetAuthorizationTokenInput("12ab"))),
              HasSubstr("registryIds"));
  EXPECT_NE(ValidationMessage(EcrModel().ValidateInput("GetAuthorizationToken",
                                                       {{"registryIds", nlohmann::json::array()}})),
            "");
}

TEST(EcrAuthorizationTest, TheRegistryHostNamesTheAccountAndTheRegion) {
  auto registry = ParseEcrRegistryHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_EQ(registry->account, "123456789012");
  EXPECT_EQ(registry->region, "eu-west-1");
  EXPECT_EQ(ParseEcrRegistryHost("123456789012.dkr.ecr.us-east-1.amazonaws.com:443")->region,
            "us-east-1");
  for (const char* wrong :
       {"12345678901.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr..amazonaws.com",
        "registry.example:5000", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example"}) {
    auto parsed = ParseEcrRegistryHost(wrong);
    ASSERT_FALSE(parsed.ok()) << wrong;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(wrong));
  }
}

TEST(EcrAuthorizationTest, TheAnswerIsDecodedAndItsFaultsQuoteNoToken) {
  const std::string token = Base64Encode("AWS:s3cr3t-password");
  auto decoded = ParseAuthorizationData(nlohmann::json::parse(
      R"({"authorizationData": [{"authorizationToken": ")" + token +
      R"(", "expiresAt": 1.8E9, "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]})"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->username, "AWS");
  EXPECT_EQ(decoded->password, "s3cr3t-password");
  EXPECT_EQ(decoded->expires_at, TimePoint(std::chrono::seconds(1'800'000'000)));
  EXPECT_EQ(decoded->proxy_endpoint, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  auto fractional = ParseAuthorizationData(
      {{"authorizationData", {{{"authorizationToken", token}, {"expiresAt", 1800000000.25}}}}});
  ASSERT_TRUE(fractional.ok());
  EXPECT_EQ(fractional->expires_at, TimePoint(std::chrono::milliseconds(1'800'000'000'250)));
  auto iso = ParseAuthorizationData(
      {{"authorizationData",
        {{{"authorizationToken", token}, {"expiresAt", "2027-01-15T08:00:00Z"}}}}});
  ASSERT_TRUE(iso.ok());
  EXPECT_EQ(FormatIso8601(iso->expires_at), "2027-01-15T08:00:00.000Z");

  const std::string not_a_pair = Base64Encode("s3cr3t-no-colon");
  for (const nlohmann::json& wrong :
       {nlohmann::json::object(), nlohmann::json{{"authorizationData", nlohmann::json::array()}},
        nlohmann::json{{"authorizationData", {{{"expiresAt", 1.8e9}}}}},
        nlohmann::json{
            {"authorizationData", {{{"authorizationToken", not_a_pair}, {"expiresAt", 1.8e9}}}}},
        nlohmann::json{{"authorizationData", {{{"authorizationToken", token}}}}}}) {
    auto failed = ParseAuthorizationData(wrong);
    ASSERT_FALSE(failed.ok()) << wrong.dump();
    EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(failed.status().message(), HasSubstr("GetAuthorizationToken: the answer's"));
    EXPECT_THAT(failed.status().message(), Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(failed.status().message(), Not(HasSubstr(token)));
  }
}

TEST(EcrAuthorizationTest, TheCallIsAwsJson11SignedForEcrInTheRegistrysRegion) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{
        200,
        nlohmann::json{{"authorizationData",
                        {{{"authorizationToken", Base64Encode("AWS:pw")}, {"expiresAt", 1.8e9}}}}}
            .dump(),
        {}};
  });
  JsonServiceClient client(EcrServiceOptions(
      "eu-west-1", server.url(""),
      std::make_shared<EnvironmentProvider>(EnvironmentMap{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                                           {"AWS_SECRET_ACCESS_KEY", "secret"}})));
  auto authorization = GetEcrAuthorization(client, "123456789012");
  ASSERT_TRUE(authorization.ok()) << authorization.status().ToString();
  EXPECT_EQ(authorization->password, "pw");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/");
  EXPECT_EQ(requests[0].headers["x-amz-target"],
            "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  EXPECT_EQ(requests[0].headers["content-type"], "application/x-amz-json-1.1");
  nlohmann::json body = nlohmann::json::parse(requests[0].body, nullptr, false);
  EXPECT_EQ(ValidationMessage(EcrModel().ValidateInput("GetAuthorizationToken", body)), "");
  EXPECT_EQ(body["registryIds"], nlohmann::json::array({"123456789012"}));
  EXPECT_THAT(requests[0].headers["authorization"], HasSubstr("Credential=AKIDEXAMPLE/"));
  EXPECT_THAT(requests[0].headers["authorization"], HasSubstr("/eu-west-1/ecr/aws4_request"));
  // Without an endpoint, AWS's own for the region.
  JsonServiceClient aws(EcrServiceOptions("eu-west-1", "", nullptr));
  EXPECT_EQ(aws.Url(), "https://api.ecr.eu-west-1.amazonaws.com");
}

}  // namespace
}  // namespace trainyard::aws
