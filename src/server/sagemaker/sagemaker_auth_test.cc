// SigV4 over AWS JSON: every way a request can fail to authenticate, answered with AWS's error
// type and text, a request id, and never the secret.
#include "server/sagemaker/sagemaker_api_fixture.h"

namespace trainyard::server {
namespace {

class SageMakerAuthTest : public SageMakerApiTest {
 protected:
  void SetUp() override {
    SageMakerApiTest::SetUp();
    StartServer();
  }

  static JsonTestRequest List() {
    JsonTestRequest request;
    request.target = "SageMaker.ListTrainingJobs";
    request.body = "{}";
    return request;
  }

  void ExpectRefused(const JsonTestResponse& response, const std::string& type,
                     const std::string& message_start) {
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(response.Type(), type) << response.body;
    EXPECT_EQ(response.Message().rfind(message_start, 0), 0u) << response.Message();
    EXPECT_EQ(response.headers.at("x-amzn-errortype"), type);
    EXPECT_FALSE(response.headers.at("x-amzn-requestid").empty());
    EXPECT_EQ(response.body.find(kSecret), std::string::npos);
  }
};

TEST_F(SageMakerAuthTest, SignedRequestsPass) {
  JsonTestResponse listed = client_->Send(List());
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json, json({{"TrainingJobSummaries", json::array()}}));
}

TEST_F(SageMakerAuthTest, MissingAuthorization) {
  JsonTestRequest request = List();
  request.sign = false;
  JsonTestResponse response = client_->Send(request);
  ExpectRefused(response, "MissingAuthenticationTokenException", "Missing Authentication Token");
  EXPECT_EQ(response.Message(), "Missing Authentication Token");
}

TEST_F(SageMakerAuthTest, MalformedAuthorization) {
  JsonTestRequest request = List();
  request.sign = false;
  request.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                     "/20260101/us-east-1/sagemaker/aws4_request";
  ExpectRefused(client_->Send(request), "IncompleteSignatureException",
                "Authorization header requires 'Signature' parameter. Authorization header "
                "requires 'SignedHeaders' parameter. Authorization header requires existence of "
                "either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 ");
  request = List();
  request.headers["Authorization"] =
      "AWS4-HMAC-SHA256 Credential=AKID/us-east-1, SignedHeaders=host, Signature=abc";
  ExpectRefused(client_->Send(request), "IncompleteSignatureException",
                "Credential must have exactly 5 slash-delimited elements");
}

TEST_F(SageMakerAuthTest, UnknownAccessKey) {
  JsonTestRequest request = List();
  request.credentials = aws::Credentials{"AKIDSOMEONEELSE", kSecret, ""};
  JsonTestResponse response = client_->Send(request);
  ExpectRefused(response, "UnrecognizedClientException",
                "The security token included in the request is invalid.");
}

TEST_F(SageMakerAuthTest, WrongSecretOrTamperedBody) {
  const std::string mismatch =
      "The request signature we calculated does not match the signature you provided. Check "
      "your AWS Secret Access Key and signing method. Consult the service documentation for "
      "details.";
  JsonTestRequest request = List();
  request.credentials = aws::Credentials{kKeyId, "not-the-secret", ""};
  JsonTestResponse wrong_secret = client_->Send(request);
  ExpectRefused(wrong_secret, "InvalidSignatureException", mismatch);
  EXPECT_NE(wrong_secret.Message().find("The Canonical String for this request should have been"),
            std::string::npos);

  JsonTestRequest tampered = List();
  tampered.body_after_signing = "{\"MaxResults\": 1}";
  ExpectRefused(client_->Send(tampered), "InvalidSignatureException", mismatch);
}

TEST_F(SageMakerAuthTest, SkewedClockEitherWay) {
  JsonTestRequest request = List();
  request.signing_time = std::chrono::system_clock::now() - 10min;
  JsonTestResponse late = client_->Send(request);
  ExpectRefused(late, "InvalidSignatureException", "Signature expired: ");
  EXPECT_NE(late.Message().find(" is now earlier than "), std::string::npos) << late.Message();
  EXPECT_NE(late.Message().find(" - 5 min.)"), std::string::npos) << late.Message();
  request.signing_time = std::chrono::system_clock::now() + 10min;
  JsonTestResponse early = client_->Send(request);
  ExpectRefused(early, "InvalidSignatureException", "Signature not yet current: ");
}

TEST_F(SageMakerAuthTest, CredentialScopeMustNameTheServiceAndRegion) {
  JsonTestRequest request = List();
  request.service = "logs";
  ExpectRefused(client_->Send(request), "InvalidSignatureException",
                "Credential should be scoped to correct service: 'sagemaker'.");
  request = List();
  request.region = "eu-west-1";
  ExpectRefused(client_->Send(request), "InvalidSignatureException",
                "Credential should be scoped to a valid region, not 'eu-west-1'.");
  JsonTestRequest logs;
  logs.target = "Logs_20140328.DescribeLogStreams";
  logs.body = "{\"logGroupName\": \"/aws/sagemaker/TrainingJobs\"}";
  ExpectRefused(client_->Send(logs), "InvalidSignatureException",
                "Credential should be scoped to correct service: 'logs'.");
  logs.service = "logs";
  EXPECT_EQ(client_->Send(logs).status, 200);
}

}  // namespace
}  // namespace trainyard::server
