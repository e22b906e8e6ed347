#include "aws/json_client.h"

#include <gtest/gtest.h>

#include "aws/environment_provider.h"
#include "support/http_test_server.h"

namespace trainyard::aws {
namespace {

using testing::HttpTestResponse;
using testing::HttpTestServer;
using testing::RecordedRequest;

JsonServiceOptions Options(const HttpTestServer& server) {
  JsonServiceOptions options;
  options.target_prefix = "SageMaker";
  options.signing_name = "sagemaker";
  options.endpoint_host_prefix = "api.sagemaker";
  options.region = "eu-west-1";
  options.endpoint = server.url("");
  options.credentials = std::make_shared<EnvironmentProvider>(
      EnvironmentMap{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}});
  options.retry_base_delay = std::chrono::milliseconds(1);
  options.max_attempts = 3;
  return options;
}

HttpTestResponse Error(int status, const std::string& type, const std::string& message) {
  return {status, nlohmann::json{{"__type", type}, {"message", message}}.dump(), {}};
}

TEST(JsonServiceClientTest, SendsAnAwsJson11RequestSignedForTheService) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{200, R"({"TrainingJobArn": "arn:aws:sagemaker:x"})", {}};
  });
  JsonServiceClient client(Options(server));
  JsonCallResult result = client.Call("CreateTrainingJob", {{"TrainingJobName", "a"}});
  ASSERT_TRUE(result.ok()) << result.status.ToString();
  EXPECT_EQ(result.output["TrainingJobArn"], "arn:aws:sagemaker:x");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/");
  EXPECT_EQ(requests[0].headers["x-amz-target"], "SageMaker.CreateTrainingJob");
  EXPECT_EQ(requests[0].headers["content-type"], "application/x-amz-json-1.1");
  EXPECT_EQ(nlohmann::json::parse(requests[0].body), nlohmann::json({{"TrainingJobName", "a"}}));
  const std::string& authorization = requests[0].headers["authorization"];
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
  EXPECT_NE(authorization.find("/eu-west-1/sagemaker/aws4_request"), std::string::npos);
  EXPECT_NE(authorization.find("x-amz-target"), std::string::npos) << "the target is signed";
}

TEST(JsonServiceClientTest, RetriesThrottlingAndServerErrorsThenSucceeds) {
  int calls = 0;
  HttpTestServer server([&](const RecordedRequest&) {
    ++calls;
    if (calls == 1) return Error(400, "ThrottlingException", "Rate exceeded");
    if (calls == 2) return HttpTestResponse{503, "", {}};
    return HttpTestResponse{200, "{}", {}};
  });
  JsonServiceClient client(Options(server));
  EXPECT_TRUE(client.Call("DescribeTrainingJob", {}).ok());
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(JsonServiceClientTest, GivesUpAfterMaxAttempts) {
  HttpTestServer server([](const RecordedRequest&) { return Error(429, "TooManyRequests", ""); });
  JsonServiceClient client(Options(server));
  JsonCallResult result = client.Call("DescribeTrainingJob", {});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error.http_status, 429);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(JsonServiceClientTest, MapsModeledErrorsWithoutRetrying) {
  struct Case {
    std::string type;
    StatusCode code;
  };
  for (const Case& c : {Case{"ValidationException", StatusCode::kInvalidArgument},
                        Case{"com.amazonaws.sagemaker#ResourceInUse", StatusCode::kAlreadyExists},
                        Case{"ResourceNotFound", StatusCode::kNotFound},
                        Case{"ResourceLimitExceeded", StatusCode::kResourceExhausted},
                        Case{"UnrecognizedClientException", StatusCode::kPermissionDenied}}) {
    HttpTestServer server([&](const RecordedRequest&) { return Error(400, c.type, "why"); });
    JsonServiceClient client(Options(server));
    JsonCallResult result = client.Call("CreateTrainingJob", {});
    EXPECT_EQ(result.status.code(), c.code) << c.type;
    EXPECT_EQ(server.requests().size(), 1u) << c.type;
    EXPECT_EQ(result.status.message(), "CreateTrainingJob: " + result.error.code + ": why");
  }
}

// AWS's InvalidSignatureException quotes the canonical request it expected, with the session
// token's header: no Status carries that quote.
TEST(JsonServiceClientTest, ASignatureErrorLosesItsQuoteOfTheSignedRequest) {
  HttpTestServer server([](const RecordedRequest&) {
    return Error(400, "InvalidSignatureException",
                 "The request signature we calculated does not match the signature you provided. "
                 "Check your AWS Secret Access Key and signing method. Consult the service "
                 "documentation for details.\n\nThe Canonical String for this request should have "
                 "been\n'POST\n/\n\nx-amz-security-token:SESSION-TOKEN-VALUE\n'");
  });
  JsonServiceClient client(Options(server));
  JsonCallResult result = client.Call("CreateTrainingJob", {});
  EXPECT_EQ(result.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(result.status.message().find("SESSION-TOKEN-VALUE"), std::string::npos)
      << result.status.message();
  EXPECT_EQ(result.error.message.find("SESSION-TOKEN-VALUE"), std::string::npos);
  EXPECT_NE(result.status.message().find("Check your AWS Secret Access Key and signing method. "
                                         "Consult the service documentation for details. (AWS's "
                                         "quote of the signed request left out)"),
            std::string::npos)
      << result.status.message();
}

TEST(JsonServiceClientTest, AnUnreachableEndpointIsUnavailable) {
  JsonServiceOptions options;
  options.target_prefix = "Logs_20140328";
  options.signing_name = "logs";
  options.endpoint = "http://127.0.0.1:1";
  options.credentials = std::make_shared<EnvironmentProvider>(
      EnvironmentMap{{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "s"}});
  options.retry_base_delay = std::chrono::milliseconds(1);
  options.max_attempts = 2;
  JsonServiceClient client(options);
  JsonCallResult result = client.Call("GetLogEvents", {});
  EXPECT_EQ(result.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status.message().find("Logs_20140328.GetLogEvents"), std::string::npos);
}

TEST(JsonServiceClientTest, DefaultsToTheServicesRegionalEndpoint) {
  JsonServiceOptions options;
  options.endpoint_host_prefix = "api.sagemaker";
  options.region = "ap-south-1";
  EXPECT_EQ(JsonServiceClient(options).Url(), "https://api.sagemaker.ap-south-1.amazonaws.com");
}

}  // namespace
}  // namespace trainyard::aws
