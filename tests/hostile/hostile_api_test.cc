// Hostile clients of the REST API, the progress callback and the S3-compatible endpoint, each
// against a real `trainyard server --s3-listen` (one for the whole suite). The S3 attacks are
// driven by Debian's boto3 and awscli (tests/hostile/s3_hostile_check.py) and skip, saying why,
// when those are not installed.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server_fixture.h"

namespace trainyard::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kPython[] = "/usr/bin/python3";

class HostileApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir();
    s3_port_ = FreeLoopbackPort();
    server_ = new ServerProcess(temp_->path() / "data",
                                {"--s3-listen", "127.0.0.1:" + std::to_string(s3_port_)});
    server_->Start();
    // /healthz answers before the S3 endpoint is up: wait for its key file and its port.
    fs::path keys_file = temp_->path() / "data" / "s3-credentials.json";
    WaitFor(
        [&] {
          std::ifstream in(keys_file);
          json keys = json::parse(in, nullptr, /*allow_exceptions=*/false);
          if (!keys.is_object()) return false;
          key_id_ = keys.value("access_key_id", "");
          secret_ = keys.value("secret_access_key", "");
          return !secret_.empty() && Call({"GET", Endpoint() + "/"}).status == 403;
        },
        std::chrono::seconds(20));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete temp_;
  }

  static std::string Endpoint() { return "http://127.0.0.1:" + std::to_string(s3_port_); }

  static std::map<std::string, std::string> ClientEnvironment() {
    return AwsClientEnvironment(temp_->path() / "home", key_id_, secret_);
  }

  // Runs one check of s3_hostile_check.py; empty when boto3 is there, else why it is not.
  static std::string Boto3Missing() {
    ProcessResult probe = RunProcess({kPython, "-c", "import boto3"});
    if (probe.exit_code == 0) return "";
    return std::string(kPython) + " cannot import boto3 (Debian's python3-boto3): " + probe.output;
  }
  static ProcessResult Boto3Check(const std::string& check) {
    return RunProcess(
        {kPython, (SourceDir() / "tests" / "hostile" / "s3_hostile_check.py").string(), check,
         Endpoint(), key_id_, secret_},
        ClientEnvironment(), std::chrono::seconds(300));
  }

  static TempDir* temp_;
  static ServerProcess* server_;
  static int s3_port_;
  static std::string key_id_, secret_;
};

TempDir* HostileApiTest::temp_ = nullptr;
ServerProcess* HostileApiTest::server_ = nullptr;
int HostileApiTest::s3_port_ = 0;
std::string HostileApiTest::key_id_, HostileApiTest::secret_;

// Finding: concurrent PUTs of one key mixed one PUT's body with another's (or no) metadata,
// for good. Every round of 6 concurrent PUTs must leave one PUT's body and its own metadata.
TEST_F(HostileApiTest, S3ConcurrentPutsKeepBodyAndMetadataTogether) {
  if (std::string missing = Boto3Missing(); !missing.empty()) GTEST_SKIP() << missing;
  ProcessResult result = Boto3Check("concurrent-puts");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("concurrent-puts: OK"), std::string::npos) << result.output;
}

// Finding: a ranged GET in checksum mode carried the whole object's x-amz-checksum-sha256, so
// boto3 failed the read (FlexibleChecksumError) and so did awscli.
TEST_F(HostileApiTest, S3RangedGetInChecksumModeCarriesNoWholeObjectChecksum) {
  if (std::string missing = Boto3Missing(); !missing.empty()) GTEST_SKIP() << missing;
  ProcessResult result = Boto3Check("ranged-checksum");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("ranged-checksum: OK"), std::string::npos) << result.output;

  if (!fs::exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " is not installed (Debian's awscli)";
  fs::path work = temp_->path() / "awscli-range";
  fs::create_directories(work);
  { std::ofstream(work / "object.txt") << "0123456789abcdefghij"; }
  std::vector<std::string> base = {kAwsCli, "--endpoint-url", Endpoint(), "--no-cli-pager",
                                   "s3api"};
  auto aws = [&](std::vector<std::string> arguments) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return RunProcess(argv, ClientEnvironment(), std::chrono::seconds(120));
  };
  ProcessResult put = aws({"put-object", "--bucket", "hostile", "--key", "cli/object.txt", "--body",
                           (work / "object.txt").string()});
  ASSERT_EQ(put.exit_code, 0) << put.output;
  ProcessResult ranged =
      aws({"get-object", "--bucket", "hostile", "--key", "cli/object.txt", "--range", "bytes=2-5",
           "--checksum-mode", "ENABLED", (work / "range.txt").string()});
  ASSERT_EQ(ranged.exit_code, 0) << ranged.output;
  std::ifstream range_file(work / "range.txt");
  std::string range_text((std::istreambuf_iterator<char>(range_file)), {});
  EXPECT_EQ(range_text, "2345");
}

}  // namespace
}  // namespace trainyard::testing
