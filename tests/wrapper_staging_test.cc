// Object-store staging (docs/slurm.md): trainyard-wrap, with nothing shared but HTTP, downloads
// the job's input and uploads its outputs through presigned URLs of trainyard's own S3 endpoint
// (a real HttpServer on port 0 over a LocalObjectStore), minted with aws::PresignObjectUrl as the
// server mints them. The job root on the "node" is a directory that no one else reads.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "archive/archive.h"
#include "aws/presigned_url.h"
#include "common/files.h"
#include "contract/job_definition.h"
#include "contract/ml_root.h"
#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "server/s3/s3_test_client.h"
#include "storage/local/local_object_store.h"
#include "support/subprocess.h"
#include "support/test_paths.h"
#include "wrapper/sha256.h"
#include "wrapper/staging.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using server::s3::testing::S3TestClient;

constexpr char kKeyId[] = "AKIDSTAGINGTEST";
constexpr char kSecret[] = "stagingsecretstagingsecretstagingsecret0";
constexpr char kBucket[] = "trainyard-staging";

std::string Sha256Hex(const std::string& data) {
  wrapper::Sha256 hash;
  hash.Update(data.data(), data.size());
  return hash.FinishHex();
}

class WrapperStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::LocalObjectStore::Open({.root = temp_.path() / "store"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    api_ = std::make_unique<server::S3Api>(server::S3ApiOptions{
        .objects = store_.get(), .secret_by_access_key_id = {{kKeyId, kSecret}}});
    server::HttpServerOptions http;
    http.port = 0;
    auto started = server::HttpServer::Start(
        http, [this](const server::HttpRequest& request, server::BodyReader& body,
                     server::ResponseWriter& response) {
          // The first `failures_left` requests meet an overloaded endpoint.
          if (failures_left_.fetch_sub(1) > 0) {
            response.SetStatus(503);
            response.WriteBody("<Error><Code>SlowDown</Code></Error>");
            return;
          }
          api_->Handle(request, body, response);
        });
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    endpoint_ = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<S3TestClient>(endpoint_, aws::Credentials{kKeyId, kSecret, ""});
    ASSERT_EQ(client_->Put(std::string("/") + kBucket, "").status, 200);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string Presign(const std::string& key, const std::string& method,
                      std::chrono::seconds expires = std::chrono::hours(1),
                      TimePoint signed_at = std::chrono::system_clock::now()) {
    auto url = aws::PresignObjectUrl({.endpoint = endpoint_,
                                      .bucket = kBucket,
                                      .key = key,
                                      .method = method,
                                      .signed_at = signed_at,
                                      .expires = expires},
                                     {kKeyId, kSecret, ""});
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? *url : "";
  }

  // Stores `data` as the job's input at `path` and returns its manifest entry.
  json Input(const std::string& path, const std::string& data) {
    const std::string key = "jobs/j1/in/" + path;
    EXPECT_EQ(client_->Put(std::string("/") + kBucket + "/" + key, data).status, 200);
    return {{"path", path},
            {"url", Presign(key, "GET")},
            {"size", data.size()},
            {"sha256", Sha256Hex(data)}};
  }

  // The manifest of a job of one channel 'train' holding data.csv, with its config files.
  json Manifest(const std::string& data) {
    fs::path server_root = temp_.path() / "server-root";
    contract::MlRoot root(server_root);
    contract::JobDefinition job;
    job.job_name = "j1";
    job.channels.push_back({"train"});
    job.hyperparameters["epochs"] = "3";
    EXPECT_TRUE(contract::WriteConfigFiles(root, job).ok());
    json inputs = json::array();
    for (const auto& entry : fs::recursive_directory_iterator(server_root)) {
      if (!entry.is_regular_file()) continue;
      inputs.push_back(
          Input(fs::relative(entry.path(), server_root).string(), ReadFile(entry.path()).value()));
    }
    inputs.push_back(Input("input/data/train/data.csv", data));
    json outputs = json::object();
    for (const char* name : {wrapper::kStagedModel, wrapper::kStagedOutput, wrapper::kStagedLog,
                             wrapper::kStagedExitRecord}) {
      outputs[name] = Presign(std::string("jobs/j1/out/") + name, "PUT");
    }
    return {{"version", 1}, {"inputs", inputs}, {"outputs", outputs}};
  }

  testing::ProcessResult RunWrapper(const json& manifest, const std::string& script) {
    return testing::RunProcess(
        {(testing::BuildDir() / "apps" / "trainyard-wrap").string(), "--", "sh", "-c", script},
        {{"TRAINYARD_ML_ROOT", node_root_.string()},
         {"TRAINYARD_STAGING", manifest.dump()},
         {"TRAINYARD_STAGING_REMOVE_ROOT", "1"}},
        std::chrono::seconds(60));
  }

  // An output the wrapper uploaded, read back with a signed GET.
  std::string Output(const std::string& name) {
    auto response = client_->Get(std::string("/") + kBucket + "/jobs/j1/out/" + name);
    EXPECT_EQ(response.status, 200) << name << ": " << response.body;
    return response.body;
  }

  testing::TempDir temp_;
  fs::path node_root_ = temp_.path() / "node" / "ml";
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<server::S3Api> api_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<S3TestClient> client_;
  std::string endpoint_;
  std::atomic<int> failures_left_{0};
};

TEST_F(WrapperStagingTest, DownloadsTheInputRunsAndUploadsEveryOutputExitRecordLast) {
  const std::string data = "1,2,3\n4,5,6\n";
  auto result = RunWrapper(Manifest(data),
                           "cp \"$SM_CHANNEL_TRAIN/data.csv\" \"$SM_MODEL_DIR/model.txt\" && "
                           "echo metrics > \"$SM_OUTPUT_DATA_DIR/predictions.txt\" && "
                           "echo '{\"progress\": 1.0, \"metrics\": {\"loss\": 0.25}}' >> "
                           "\"$(dirname \"$SM_OUTPUT_DATA_DIR\")/progress.jsonl\" && "
                           "test -z \"$TRAINYARD_STAGING\" && echo trained on $SM_HPS");
  ASSERT_EQ(result.exit_code, 0) << result.output;

  json exit_record = json::parse(Output(wrapper::kStagedExitRecord));
  EXPECT_EQ(exit_record["exit_code"], 0) << exit_record;
  EXPECT_FALSE(exit_record.contains("failure")) << exit_record;
  // The last progress and metrics travel in the record: the server does not see this root.
  EXPECT_EQ(exit_record["state"]["metrics"]["loss"], 0.25) << exit_record;

  fs::path unpacked = temp_.path() / "unpacked";
  for (const char* name : {wrapper::kStagedModel, wrapper::kStagedOutput}) {
    ASSERT_TRUE(WriteFileAtomic(temp_.path() / name, Output(name)).ok());
  }
  for (const char* part : {"model", "output"}) {
    ASSERT_TRUE(MakeDirectories(unpacked / part).ok());
    auto files = archive::Unpack(temp_.path() / (std::string(part) + ".tar.gz"), unpacked / part);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
  }
  EXPECT_EQ(ReadFile(unpacked / "model" / "model.txt").value(), data);
  EXPECT_EQ(ReadFile(unpacked / "output" / "predictions.txt").value(), "metrics\n");

  std::string log = Output(wrapper::kStagedLog);
  EXPECT_NE(log.find("staging: downloaded input/data/train/data.csv (12 bytes"), std::string::npos)
      << log;
  EXPECT_NE(log.find("trained on {\"epochs\":3}"), std::string::npos) << log;
  EXPECT_NE(log.find("staging: uploaded model.tar.gz"), std::string::npos) << log;
  // No signature, in the log or on stderr.
  EXPECT_EQ(log.find("X-Amz-Signature"), std::string::npos) << log;
  EXPECT_EQ(result.output.find("X-Amz-Signature"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(node_root_)) << "the node's root is removed";
}

// The checkpoint dir through the manifest's checkpoint URLs (docs/checkpoints.md): the first run
// finds none (S3's 404) and stores what its command wrote; the next run, in a new root on the
// "node", restores it before its command starts. The object outlives the job's own objects.
TEST_F(WrapperStagingTest, TheCheckpointDirIsRestoredThroughItsUrlsInTheNextRun) {
  json manifest = Manifest("x\n");
  const std::string key = "checkpoints/j1/checkpoints.tar.gz";
  manifest["checkpoint"] = {{"get", Presign(key, "GET")}, {"put", Presign(key, "PUT")}};
  auto first = RunWrapper(manifest, "echo 12 > \"$TRAINYARD_ML_ROOT/checkpoints/iteration\"");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("checkpoint: none stored yet in http://127.0.0.1:"),
            std::string::npos)
      << first.output;
  EXPECT_NE(first.output.find("checkpoint: stored "), std::string::npos) << first.output;
  EXPECT_EQ(client_->Get(std::string("/") + kBucket + "/" + key).status, 200);

  auto second = RunWrapper(
      manifest, "echo resuming from $(cat \"$TRAINYARD_ML_ROOT/checkpoints/iteration\")");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("checkpoint: restored 1 files from http://127.0.0.1:"),
            std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("resuming from 12"), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find("X-Amz-Signature"), std::string::npos) << second.output;
}

// TRAINYARD_CHECKPOINT_URLS alone, in a root the wrapper shares with the server (the local
// executor's checkpoints in an s3:// store): a promoted trial, whose own GET answers S3's 404,
// restores its parent's archive through "restore_from", stores what it writes under its own key,
// and never writes the parent's.
TEST_F(WrapperStagingTest, CheckpointUrlsRestoreTheParentsArchiveWhileTheirOwnHoldsNone) {
  const std::string parent_key = "checkpoints/parent/checkpoints.tar.gz";
  const std::string child_key = "checkpoints/child/checkpoints.tar.gz";
  auto run = [&](const json& urls, const std::string& script) {
    fs::remove_all(node_root_);
    contract::MlRoot root(node_root_);
    contract::JobDefinition job;
    job.job_name = "j1";
    EXPECT_TRUE(contract::WriteConfigFiles(root, job).ok());
    return testing::RunProcess(
        {(testing::BuildDir() / "apps" / "trainyard-wrap").string(), "--", "sh", "-c", script},
        {{"TRAINYARD_ML_ROOT", node_root_.string()}, {"TRAINYARD_CHECKPOINT_URLS", urls.dump()}},
        std::chrono::seconds(60));
  };
  auto parent = run({{"get", Presign(parent_key, "GET")}, {"put", Presign(parent_key, "PUT")}},
                    "echo 12 > \"$TRAINYARD_ML_ROOT/checkpoints/iteration\"");
  ASSERT_EQ(parent.exit_code, 0) << parent.output;
  auto parent_archive = client_->Get(std::string("/") + kBucket + "/" + parent_key);
  ASSERT_EQ(parent_archive.status, 200) << parent.output;
  ASSERT_EQ(client_->Get(std::string("/") + kBucket + "/" + child_key).status, 404);

  auto child = run({{"get", Presign(child_key, "GET")},
                    {"put", Presign(child_key, "PUT")},
                    {"restore_from", Presign(parent_key, "GET")}},
                   "echo resuming from $(cat \"$TRAINYARD_ML_ROOT/checkpoints/iteration\") && "
                   "test -z \"$TRAINYARD_CHECKPOINT_URLS\" && "
                   "echo 27 > \"$TRAINYARD_ML_ROOT/checkpoints/iteration\"");
  ASSERT_EQ(child.exit_code, 0) << child.output;
  EXPECT_NE(child.output.find("checkpoint: restored 1 files from " + endpoint_ + "/" + kBucket +
                              "/" + parent_key),
            std::string::npos)
      << child.output;
  EXPECT_NE(child.output.find("resuming from 12"), std::string::npos) << child.output;
  EXPECT_EQ(child.output.find("X-Amz-Signature"), std::string::npos) << child.output;
  EXPECT_EQ(client_->Get(std::string("/") + kBucket + "/" + child_key).status, 200);
  EXPECT_EQ(client_->Get(std::string("/") + kBucket + "/" + parent_key).body, parent_archive.body)
      << "the parent's archive is never written";

  auto again = run({{"get", Presign(child_key, "GET")},
                    {"put", Presign(child_key, "PUT")},
                    {"restore_from", Presign(parent_key, "GET")}},
                   "echo resuming from $(cat \"$TRAINYARD_ML_ROOT/checkpoints/iteration\")");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resuming from 27"), std::string::npos)
      << "its own archive, once stored, wins over the parent's: " << again.output;
}

// A URL that expired (a job that waited in the queue too long) fails the job before its command
// runs, naming the channel, labelled ClientError; the exit record still arrives.
TEST_F(WrapperStagingTest, AnExpiredChannelUrlFailsTheJobNamingTheChannel) {
  json manifest = Manifest("x\n");
  json& data = manifest["inputs"].back();
  data["url"] = Presign("jobs/j1/in/input/data/train/data.csv", "GET", std::chrono::seconds(1),
                        std::chrono::system_clock::now() - std::chrono::minutes(5));
  fs::path marker = temp_.path() / "ran";
  auto result = RunWrapper(manifest, "touch " + marker.string());
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_FALSE(fs::exists(marker));
  json exit_record = json::parse(Output(wrapper::kStagedExitRecord));
  EXPECT_EQ(exit_record["failure_type"], "ClientError") << exit_record;
  std::string failure = exit_record.value("failure", "");
  EXPECT_NE(failure.find("channel 'train': downloading 'data.csv' failed: "), std::string::npos)
      << failure;
  EXPECT_NE(failure.find("HTTP 403 AccessDenied"), std::string::npos) << failure;
  EXPECT_EQ(failure.find("X-Amz-Signature"), std::string::npos) << failure;
}

// A digest that does not match what arrives (a corrupted or replaced object) is never used.
TEST_F(WrapperStagingTest, AFileWhoseDigestDiffersIsRefused) {
  json manifest = Manifest("the data\n");
  manifest["inputs"].back()["sha256"] = Sha256Hex("other data");
  auto result = RunWrapper(manifest, "true");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  std::string failure = json::parse(Output(wrapper::kStagedExitRecord)).value("failure", "");
  EXPECT_NE(failure.find("channel 'train': downloading 'data.csv' failed: "), std::string::npos);
  EXPECT_NE(failure.find("SHA-256 " + Sha256Hex("the data\n") + ", expected"), std::string::npos)
      << failure;
}

// 503s (an overloaded endpoint) are retried with backoff; a 403 is not.
TEST_F(WrapperStagingTest, DownloadsRetryServerErrorsButNotRefusals) {
  const std::string data = "retried\n";
  json input = Input("d.csv", data);
  wrapper::TransferOptions options{.attempts = 4, .first_backoff = std::chrono::milliseconds(10)};
  failures_left_ = 3;
  fs::path target = temp_.path() / "d.csv";
  Status done = wrapper::DownloadFile(input["url"], target, data.size(), input["sha256"], options);
  ASSERT_TRUE(done.ok()) << done.ToString();
  EXPECT_EQ(ReadFile(target).value(), data);

  failures_left_ = 4;
  done = wrapper::DownloadFile(input["url"], target, data.size(), input["sha256"], options);
  EXPECT_EQ(done.code(), StatusCode::kUnavailable) << done.ToString();
  EXPECT_NE(done.message().find("HTTP 503 SlowDown"), std::string::npos) << done.ToString();

  failures_left_ = 0;
  std::string forged = input["url"].get<std::string>() + "0";
  auto started = std::chrono::steady_clock::now();
  done = wrapper::DownloadFile(forged, target, data.size(), input["sha256"],
                               {.attempts = 4, .first_backoff = std::chrono::seconds(5)});
  EXPECT_EQ(done.code(), StatusCode::kPermissionDenied) << done.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "no retry";
}

TEST_F(WrapperStagingTest, UploadsStreamAFileAndRetryAClosedEndpoint) {
  std::string big(3 << 20, 'z');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  fs::path source = temp_.path() / "big.bin";
  ASSERT_TRUE(WriteFileAtomic(source, big).ok());
  Status done = wrapper::UploadFile(Presign("jobs/j1/out/big.bin", "PUT"), source, {});
  ASSERT_TRUE(done.ok()) << done.ToString();
  EXPECT_EQ(Sha256Hex(client_->Get(std::string("/") + kBucket + "/jobs/j1/out/big.bin").body),
            Sha256Hex(big));

  // A PUT URL is for PUT only: the same URL cannot read.
  std::string put_url = Presign("jobs/j1/out/big.bin", "PUT");
  done = wrapper::DownloadFile(put_url, temp_.path() / "back", big.size(), Sha256Hex(big), {});
  EXPECT_EQ(done.code(), StatusCode::kPermissionDenied) << done.ToString();

  std::string url = Presign("jobs/j1/out/late.bin", "PUT");
  server_->Stop();
  done = wrapper::UploadFile(url, source,
                             {.attempts = 3, .first_backoff = std::chrono::milliseconds(10)});
  EXPECT_EQ(done.code(), StatusCode::kUnavailable) << done.ToString();
  EXPECT_NE(done.message().find("uploading http://127.0.0.1:"), std::string::npos);
  EXPECT_EQ(done.message().find("X-Amz-"), std::string::npos) << done.ToString();
}

}  // namespace
}  // namespace trainyard
