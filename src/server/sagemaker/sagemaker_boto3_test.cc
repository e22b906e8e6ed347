// Debian's boto3 (/usr/bin/python3, python3-boto3) against the endpoint: the
// tests/sagemaker_boto3_check.py script run over this fixture's server. botocore checks each
// request and parses each answer with its own model; and a job whose code arrives only as the
// SageMaker Python SDK's sourcedir.tar.gz (tests/sagemaker_submit_directory_check.py). Skips,
// saying why, without boto3.
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// Code shipped as the SageMaker Python SDK ships it: entry_point and source_dir packed into
// sourcedir.tar.gz in S3, named by the hyperparameter sagemaker_submit_directory. The job has no
// other code: it is unpacked into /opt/ml/code before sagemaker_program runs.
TEST_F(SageMakerApiTest, Boto3RunsCodeThatArrivesOnlyAsSourcedirTarGz) {
  const char* chosen = std::getenv("TRAINYARD_TEST_PYTHON");
  const std::string python = chosen ? chosen : "/usr/bin/python3";
  auto probe = trainyard::testing::RunProcess({python, "-c", "import boto3"}, {}, 30s);
  if (probe.exit_code != 0) {
    GTEST_SKIP() << python << " cannot import boto3 (Debian's python3-boto3): " << probe.output;
  }
  // train.py imports a module beside it, as a source_dir's entry point does.
  const std::filesystem::path source = temp_.path() / "source_dir";
  std::filesystem::create_directories(source / "helpers");
  std::ofstream(source / "helpers" / "__init__.py") << "";
  std::ofstream(source / "helpers" / "shapes.py") << "def rows(path):\n"
                                                     "    return sum(1 for _ in open(path))\n";
  std::ofstream(source / "train.py")
      << "import argparse, os\n"
         "from helpers.shapes import rows\n"
         "parser = argparse.ArgumentParser()\n"
         "parser.add_argument('--epochs', type=int)\n"
         "args, _ = parser.parse_known_args()\n"
         "n = rows(os.path.join(os.environ['SM_CHANNEL_TRAINING'], 'train.csv'))\n"
         "with open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w') as f:\n"
         "    f.write('rows=%d epochs=%d cwd=%s\\n' % (n, args.epochs, os.getcwd()))\n"
         "print('loss=0.25')\n";
  const std::filesystem::path tarball = temp_.path() / "sourcedir.tar.gz";
  auto packed = trainyard::testing::RunProcess(
      {"tar", "-czf", tarball.string(), "-C", source.string(), "train.py", "helpers"}, {}, 30s);
  ASSERT_EQ(packed.exit_code, 0) << packed.output;
  std::ifstream packed_file(tarball, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(packed_file)), {});
  MakeBucket("code");
  PutObject("code", "tune-1/source/sourcedir.tar.gz", bytes);

  StartServer();
  auto result = trainyard::testing::RunProcess(
      {python,
       (trainyard::testing::SourceDir() / "tests" / "sagemaker_submit_directory_check.py").string(),
       client_->endpoint(), "us-east-1", kKeyId, kSecret, "s3://data/train/", "s3://models/out/",
       "s3://code/tune-1/source/sourcedir.tar.gz", "sourcedir-check"},
      {{"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}}, 120s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("sagemaker submit directory check: OK"), std::string::npos)
      << result.output;
  std::cout << result.output;

  // The model the unpacked code wrote, stored where SageMaker puts it.
  const std::string model =
      StoreObject("s3/objects/models/out/sourcedir-check/output/model.tar.gz");
  ASSERT_NE(model, "<missing>");
  const std::filesystem::path model_file = temp_.path() / "model.tar.gz";
  std::ofstream(model_file, std::ios::binary) << model;
  auto listed = trainyard::testing::RunProcess({"tar", "-xzOf", model_file.string()}, {}, 30s);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("rows=2 epochs=3 cwd="), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("/code"), std::string::npos) << listed.output;
}

}  // namespace
}  // namespace trainyard::server
