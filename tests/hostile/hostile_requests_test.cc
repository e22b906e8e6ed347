// The review's smaller findings about requests, against a real `trainyard server` and Debian's
// awscli: each is also tested beside its module (http_helpers_test, s3_api_test,
// sagemaker_units_test); here they are tried as a client would. A job's environment and the
// server's secrets are in server_e2e_test (ServerJobEnvironmentTest).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "server_fixture.h"

namespace trainyard::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kKeyId[] = "AKIDHOSTILEREQUESTS";
constexpr char kSecret[] = "hostile-requests-secret";

class HostileRequestsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir();
    s3_url_ = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
    sagemaker_url_ = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
    server_ = new ServerProcess(
        temp_->path() / "data",
        {"--s3-listen", s3_url_.substr(7), "--sagemaker-listen", sagemaker_url_.substr(7)},
        {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId}, {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
    server_->Start();
    // The keys are given: the endpoint is up once it refuses an unsigned request.
    ASSERT_TRUE(WaitFor(
        [] {
          return Call({"GET", s3_url_ + "/"}).status == 403;
        },
        std::chrono::seconds(20)))
        << "the S3 endpoint " << s3_url_ << " does not answer";
  }
  static void TearDownTestSuite() {
    delete server_;
    delete temp_;
  }

  static ProcessResult Aws(const std::string& endpoint, std::vector<std::string> arguments) {
    std::vector<std::string> argv = {kAwsCli, "--endpoint-url", endpoint, "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return RunProcess(argv, AwsClientEnvironment(temp_->path() / "home", kKeyId, kSecret),
                      std::chrono::seconds(120));
  }

  static HttpAnswer Get(const std::string& path, std::map<std::string, std::string> headers) {
    HttpCall call{.method = "GET", .url = server_->url() + path};
    call.headers = std::move(headers);
    return Call(call);
  }

  static TempDir* temp_;
  static ServerProcess* server_;
  static std::string s3_url_, sagemaker_url_;
};

TempDir* HostileRequestsTest::temp_ = nullptr;
ServerProcess* HostileRequestsTest::server_ = nullptr;
std::string HostileRequestsTest::s3_url_;
std::string HostileRequestsTest::sagemaker_url_;

// Finding: `Authorization: bearer …` (lower case) was refused; RFC 9110 makes the scheme
// case-insensitive.
TEST_F(HostileRequestsTest, TheBearerSchemeIsCaseInsensitive) {
  for (const std::string scheme : {"bearer", "BEARER", "Bearer"}) {
    HttpAnswer answer = Get("/api/v1/sweeps", {{"Authorization", scheme + " " + server_->token()}});
    EXPECT_EQ(answer.status, 200) << scheme << ": " << answer.body;
  }
  EXPECT_EQ(Get("/api/v1/sweeps", {{"Authorization", "bearer wrong"}}).status, 401);
}

// Finding: `Range: bytes= 0-1` was answered with the last byte, `bytes=0--1` with another range
// than asked. RFC 9110: whitespace is allowed there, and a malformed range is ignored.
TEST_F(HostileRequestsTest, RangesAreReadAsRfc9110Says) {
  std::string dataset = server_->UploadExample("train.csv", "training");
  std::string path = "/api/v1/datasets/" + dataset + "/content";
  std::string whole = Get(path, {{"Authorization", "Bearer " + server_->token()}}).body;
  ASSERT_GT(whole.size(), 10u);

  HttpAnswer spaced =
      Get(path, {{"Authorization", "Bearer " + server_->token()}, {"Range", "bytes= 0-1"}});
  EXPECT_EQ(spaced.status, 206);
  EXPECT_EQ(spaced.body, whole.substr(0, 2));
  for (const char* malformed : {"bytes=0--1", "bytes=0-1x", "bytes=--1", "bytes=a-1"}) {
    HttpAnswer answer =
        Get(path, {{"Authorization", "Bearer " + server_->token()}, {"Range", malformed}});
    EXPECT_EQ(answer.status, 200) << malformed;
    EXPECT_EQ(answer.body, whole) << malformed;
  }
}

// Finding: bucket `a.-b` was created; S3 refuses a period next to a hyphen.
TEST_F(HostileRequestsTest, BucketNamesS3RefusesAreRefused) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << "Debian's awscli is not installed";
  for (const char* bucket : {"a.-b", "a-.b", "a..b"}) {
    ProcessResult made = Aws(s3_url_, {"s3api", "create-bucket", "--bucket", bucket});
    EXPECT_NE(made.exit_code, 0) << bucket << ": " << made.output;
    EXPECT_NE(made.output.find("InvalidBucketName"), std::string::npos)
        << bucket << ": " << made.output;
  }
  ProcessResult good = Aws(s3_url_, {"s3api", "create-bucket", "--bucket", "a-b.c"});
  EXPECT_EQ(good.exit_code, 0) << good.output;
}

// Finding: SageMaker's Environment could set trainyard's own variables (the REST API refuses
// TRAINYARD_* with 400). Refused now, as on REST, except TRAINYARD_KEEP_ARCHIVES and the four that
// trainyard's own sagemaker executor sends when it uses this endpoint as SageMaker (callback URL,
// job token, command, stop grace: docs/sagemaker-endpoint.md says why they give nothing away).
TEST_F(HostileRequestsTest, SageMakerEnvironmentCannotSetTrainyardsOwnVariables) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << "Debian's awscli is not installed";
  ASSERT_EQ(Aws(s3_url_, {"s3", "mb", "s3://hostile-out"}).exit_code, 0);
  int attempt = 0;
  for (const char* name : {"TRAINYARD_ML_ROOT", "TRAINYARD_TOKEN", "TRAINYARD_UNPACK_MAX_RATIO"}) {
    ProcessResult created =
        Aws(sagemaker_url_,
            {"sagemaker", "create-training-job", "--training-job-name",
             "env-" + std::to_string(++attempt), "--algorithm-specification",
             json{{"TrainingImage", "trainyard/example:test"},
                  {"TrainingInputMode", "File"},
                  {"ContainerEntrypoint", {"/bin/true"}}}
                 .dump(),
             "--role-arn", "arn:aws:iam::000000000000:role/test", "--output-data-config",
             "S3OutputPath=s3://hostile-out/out/", "--resource-config",
             "InstanceType=ml.m5.large,InstanceCount=1,VolumeSizeInGB=1", "--stopping-condition",
             "MaxRuntimeInSeconds=60", "--environment", std::string(name) + "=x"});
    EXPECT_NE(created.exit_code, 0) << name << ": " << created.output;
    EXPECT_NE(created.output.find("ValidationException"), std::string::npos)
        << name << ": " << created.output;
    EXPECT_NE(created.output.find(name), std::string::npos) << created.output;
  }
}

}  // namespace
}  // namespace trainyard::testing
