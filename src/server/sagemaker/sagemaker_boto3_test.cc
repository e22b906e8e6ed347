// Debian's boto3 (/usr/bin/python3, python3-boto3) against the endpoint: the
// tests/sagemaker_boto3_check.py script run over this fixture's server. botocore checks each
// request and parses each answer with its own model. Skips, saying why, without boto3.
#include <cstdlib>
#include <iostream>

#include "server/sagemaker/sagemaker_api_fixture.h"
#include "support/subprocess.h"

namespace trainyard::server {
namespace {

TEST_F(SageMakerApiTest, Boto3DrivesTheEndpoint) {
  // TRAINYARD_TEST_PYTHON picks another interpreter (a newer boto3 from pip) by hand.
  const char* chosen = std::getenv("TRAINYARD_TEST_PYTHON");
  const std::string python = chosen ? chosen : "/usr/bin/python3";
  auto probe = trainyard::testing::RunProcess({python, "-c", "import boto3"}, {}, 30s);
  if (probe.exit_code != 0) {
    GTEST_SKIP() << python << " cannot import boto3 (Debian's python3-boto3): " << probe.output;
  }
  StartServer();
  auto result = trainyard::testing::RunProcess(
      {python, (trainyard::testing::SourceDir() / "tests" / "sagemaker_boto3_check.py").string(),
       client_->endpoint(), "us-east-1", kKeyId, kSecret, "s3://data/train/",
       "test -f \"$SM_CHANNEL_TRAINING/train.csv\" && echo loss=0.5 && echo trained",
       "exec sleep 60"},
      {{"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}}, 120s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("sagemaker boto3 check: OK"), std::string::npos) << result.output;
  std::cout << result.output;  // what was checked
}

}  // namespace
}  // namespace trainyard::server
