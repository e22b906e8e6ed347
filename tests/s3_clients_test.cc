// The real S3 clients against a real `trainyard server --s3-listen`: Debian's awscli
// (/usr/bin/aws, not whatever `aws` is on PATH) and boto3 (/usr/bin/python3 running
// tests/s3_boto3_check.py). Each is skipped, with the reason printed, when it is not installed.
// One server serves both tests; its S3 key pair is the one it generates at its first start. A
// REST job's code uploaded with awscli as the SageMaker SDK ships it (sagemaker_submit_directory)
// reaches its code dir.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server_fixture.h"

namespace trainyard::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kPython[] = "/usr/bin/python3";

std::string FileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(context, buffer.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  std::string hex;
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

// `size` bytes that differ from MiB to MiB (a multipart upload that reorders parts would show).
void WriteTestFile(const fs::path& path, size_t size) {
  std::ofstream out(path, std::ios::binary);
  std::string block(1 << 20, '\0');
  for (size_t written = 0, index = 0; written < size; ++index) {
    for (size_t i = 0; i < block.size(); i += 4096) {
      std::string mark = "block " + std::to_string(index) + " offset " + std::to_string(i) + ";";
      block.replace(i, mark.size(), mark);
    }
    size_t n = std::min(block.size(), size - written);
    out.write(block.data(), static_cast<std::streamsize>(n));
    written += n;
  }
}

class S3ClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir();
    s3_port_ = FreeLoopbackPort();
    server_ = new ServerProcess(temp_->path() / "data",
                                {"--s3-listen", "127.0.0.1:" + std::to_string(s3_port_)});
    server_->Start();
    S3Keys keys = WaitForS3Endpoint(temp_->path() / "data", Endpoint());
    key_id_ = keys.access_key_id;
    secret_ = keys.secret_access_key;
    fs::path keys_file = temp_->path() / "data" / "s3-credentials.json";
    struct stat info {};
    if (stat(keys_file.c_str(), &info) == 0) keys_mode_ = info.st_mode & 0777;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete temp_;
  }

  static std::string Endpoint() { return "http://127.0.0.1:" + std::to_string(s3_port_); }

  // The client's environment: these keys, and no configuration from this machine's user.
  static std::map<std::string, std::string> ClientEnvironment() {
    return AwsClientEnvironment(temp_->path() / "home", key_id_, secret_);
  }

  static ProcessResult Aws(std::vector<std::string> arguments) {
    std::vector<std::string> argv = {kAwsCli, "--endpoint-url", Endpoint(), "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return RunProcess(argv, ClientEnvironment(), std::chrono::seconds(120));
  }

  static json AwsJson(std::vector<std::string> arguments) {
    arguments.insert(arguments.end(), {"--output", "json"});
    ProcessResult result = Aws(arguments);
    EXPECT_EQ(result.exit_code, 0) << arguments[1] << ": " << result.output;
    json parsed = json::parse(result.output, nullptr, false);
    return parsed.is_discarded() ? json::object() : parsed;
  }

  static TempDir* temp_;
  static ServerProcess* server_;
  static int s3_port_;
  static std::string key_id_, secret_;
  static int keys_mode_;
};

TempDir* S3ClientsTest::temp_ = nullptr;
ServerProcess* S3ClientsTest::server_ = nullptr;
int S3ClientsTest::s3_port_ = 0;
std::string S3ClientsTest::key_id_, S3ClientsTest::secret_;
int S3ClientsTest::keys_mode_ = 0;

TEST_F(S3ClientsTest, GeneratedKeyPairIsKeptPrivately) {
  EXPECT_EQ(key_id_.size(), 20u);
  EXPECT_EQ(secret_.size(), 40u);
  EXPECT_EQ(keys_mode_, 0600);
}

TEST_F(S3ClientsTest, AwsCli) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " is not installed (Debian's awscli)";
  fs::path work = temp_->path() / "awscli";
  fs::create_directories(work);
  auto ok = [](const ProcessResult& result) { return result.exit_code == 0; };

  ProcessResult made = Aws({"s3", "mb", "s3://cli-bucket"});
  ASSERT_TRUE(ok(made)) << made.output;

  // 100 MiB both ways: multipart up (8 MiB parts), ranged parts down.
  WriteTestFile(work / "big.bin", 100u << 20);
  ProcessResult up = Aws({"s3", "cp", (work / "big.bin").string(), "s3://cli-bucket/data/big.bin"});
  ASSERT_TRUE(ok(up)) << up.output;
  ProcessResult down =
      Aws({"s3", "cp", "s3://cli-bucket/data/big.bin", (work / "down.bin").string()});
  ASSERT_TRUE(ok(down)) << down.output;
  EXPECT_EQ(FileSha256(work / "down.bin"), FileSha256(work / "big.bin"));
  fs::remove(work / "down.bin");

  ProcessResult top = Aws({"s3", "ls", "s3://cli-bucket/"});
  EXPECT_NE(top.output.find("PRE data/"), std::string::npos) << top.output;
  ProcessResult prefixed = Aws({"s3", "ls", "s3://cli-bucket/data/"});
  EXPECT_NE(prefixed.output.find("104857600 big.bin"), std::string::npos) << prefixed.output;

  // s3api, one operation at a time (`s3 ls` of the service: boto3 lists buckets below).
  { std::ofstream(work / "small.txt") << "hello from awscli"; }
  json put = AwsJson({"s3api", "put-object", "--bucket", "cli-bucket", "--key", "api/one file.txt",
                      "--body", (work / "small.txt").string(), "--content-type", "text/plain",
                      "--metadata", "stage=test"});
  EXPECT_EQ(put.value("ETag", "").size(), 34u) << put;
  json ranged =
      AwsJson({"s3api", "get-object", "--bucket", "cli-bucket", "--key", "api/one file.txt",
               "--range", "bytes=0-4", (work / "range.txt").string()});
  EXPECT_EQ(ranged.value("ContentRange", ""), "bytes 0-4/17") << ranged;
  std::ifstream range_file(work / "range.txt");
  std::string range_text((std::istreambuf_iterator<char>(range_file)), {});
  EXPECT_EQ(range_text, "hello");
  json head =
      AwsJson({"s3api", "head-object", "--bucket", "cli-bucket", "--key", "api/one file.txt"});
  EXPECT_EQ(head.value("ContentLength", 0), 17);
  EXPECT_EQ(head["Metadata"].value("stage", ""), "test") << head;
  // A big s3 -> s3 move: GetObjectTagging, UploadPartCopy per 8 MiB, Complete, DeleteObject.
  ProcessResult moved =
      Aws({"s3", "mv", "s3://cli-bucket/data/big.bin", "s3://cli-bucket/api/two.bin"});
  EXPECT_TRUE(ok(moved)) << moved.output;
  json listed = AwsJson({"s3api", "list-objects-v2", "--bucket", "cli-bucket", "--prefix", "api/"});
  // awscli merges pages and drops KeyCount: count the keys.
  ASSERT_EQ(listed["Contents"].size(), 2u) << listed;
  EXPECT_EQ(listed["Contents"][1].value("Key", ""), "api/two.bin");
  EXPECT_EQ(listed["Contents"][1].value("Size", 0), 100 << 20);

  json upload = AwsJson(
      {"s3api", "create-multipart-upload", "--bucket", "cli-bucket", "--key", "api/multi.bin"});
  std::string upload_id = upload.value("UploadId", "");
  WriteTestFile(work / "part1.bin", 5u << 20);
  json part1 = AwsJson({"s3api", "upload-part", "--bucket", "cli-bucket", "--key", "api/multi.bin",
                        "--part-number", "1", "--upload-id", upload_id, "--body",
                        (work / "part1.bin").string()});
  json part2 = AwsJson({"s3api", "upload-part", "--bucket", "cli-bucket", "--key", "api/multi.bin",
                        "--part-number", "2", "--upload-id", upload_id, "--body",
                        (work / "small.txt").string()});
  json uploads = AwsJson({"s3api", "list-multipart-uploads", "--bucket", "cli-bucket"});
  ASSERT_TRUE(uploads.contains("Uploads")) << uploads;
  EXPECT_EQ(uploads["Uploads"][0].value("UploadId", ""), upload_id);
  json parts = {{"Parts",
                 {{{"ETag", part1.value("ETag", "")}, {"PartNumber", 1}},
                  {{"ETag", part2.value("ETag", "")}, {"PartNumber", 2}}}}};
  json completed =
      AwsJson({"s3api", "complete-multipart-upload", "--bucket", "cli-bucket", "--key",
               "api/multi.bin", "--upload-id", upload_id, "--multipart-upload", parts.dump()});
  EXPECT_EQ(completed.value("Key", ""), "api/multi.bin") << completed;

  json abandoned = AwsJson(
      {"s3api", "create-multipart-upload", "--bucket", "cli-bucket", "--key", "api/abandoned.bin"});
  ProcessResult aborted =
      Aws({"s3api", "abort-multipart-upload", "--bucket", "cli-bucket", "--key",
           "api/abandoned.bin", "--upload-id", abandoned.value("UploadId", "")});
  EXPECT_TRUE(ok(aborted)) << aborted.output;
  uploads = AwsJson({"s3api", "list-multipart-uploads", "--bucket", "cli-bucket"});
  EXPECT_FALSE(uploads.contains("Uploads")) << uploads;

  ProcessResult deleted =
      Aws({"s3api", "delete-object", "--bucket", "cli-bucket", "--key", "api/two.bin"});
  EXPECT_TRUE(ok(deleted)) << deleted.output;
  ProcessResult removed = Aws({"s3", "rm", "s3://cli-bucket", "--recursive"});
  EXPECT_TRUE(ok(removed)) << removed.output;
  EXPECT_NE(removed.output.find("delete: s3://cli-bucket/api/multi.bin"), std::string::npos)
      << removed.output;
  ProcessResult gone = Aws({"s3", "rb", "s3://cli-bucket"});
  EXPECT_TRUE(ok(gone)) << gone.output;
}

// A REST job whose code arrives only as the SageMaker SDK ships it: sourcedir.tar.gz uploaded
// with awscli into the S3 endpoint's bucket, named by sagemaker_submit_directory, is unpacked
// into the job's code dir (/opt/ml/code) before its command runs.
TEST_F(S3ClientsTest, ARestJobsSubmitDirectoryIsUnpackedIntoItsCodeDir) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " is not installed (Debian's awscli)";
  fs::path source = temp_->path() / "source_dir";
  fs::create_directories(source);
  std::ofstream(source / "train.py")
      << "import os, sys\n"
         "with open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w') as f:\n"
         "    f.write('trained by ' + os.path.basename(__file__) + ' ' + ' '.join(sys.argv[1:]))\n";
  fs::path tarball = temp_->path() / "sourcedir.tar.gz";
  ProcessResult packed =
      RunProcess({"tar", "-czf", tarball.string(), "-C", source.string(), "train.py"}, {}, 30s);
  ASSERT_EQ(packed.exit_code, 0) << packed.output;
  ProcessResult made = Aws({"s3", "mb", "s3://code-bucket"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ProcessResult copied =
      Aws({"s3", "cp", tarball.string(), "s3://code-bucket/tune/source/sourcedir.tar.gz"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;

  // The command finds the code where /opt/ml/code is (beside the model dir).
  HttpAnswer created = server_->Post(
      "/api/v1/sweeps",
      {{"name", "code"},
       {"trainer",
        {{"command", {"sh", "-c", "exec python3 \"$SM_MODEL_DIR/../code/train.py\" --from rest"}}}},
       {"hyperparameters",
        {{"sagemaker_submit_directory", "s3://code-bucket/tune/source/sourcedir.tar.gz"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];
  json ended = server_->WaitForSweepEnd(sweep, 1, 120s);
  ASSERT_EQ(ended["counts"].value("Completed", 0), 1) << ended.dump();
  json jobs = server_->Get("/api/v1/jobs?sweep=" + sweep).Json();
  const std::string job = jobs["jobs"][0]["name"];
  HttpAnswer model = server_->Get("/api/v1/jobs/" + job + "/artifacts/model");
  ASSERT_EQ(model.status, 200);
  fs::path model_file = temp_->path() / "code-model.tar.gz";
  std::ofstream(model_file, std::ios::binary) << model.body;
  ProcessResult read = RunProcess({"tar", "-xzOf", model_file.string()}, {}, 30s);
  EXPECT_EQ(read.output, "trained by train.py --from rest");
}

TEST_F(S3ClientsTest, Boto3) {
  ProcessResult probe = RunProcess({kPython, "-c", "import boto3"});
  if (probe.exit_code != 0) {
    GTEST_SKIP() << kPython << " cannot import boto3 (Debian's python3-boto3): " << probe.output;
  }
  ProcessResult result =
      RunProcess({kPython, (SourceDir() / "tests" / "s3_boto3_check.py").string(), Endpoint(),
                  key_id_, secret_},
                 ClientEnvironment(), std::chrono::seconds(120));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("boto3 check: OK"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace trainyard::testing
