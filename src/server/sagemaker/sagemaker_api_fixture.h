// The fixture of the SageMaker endpoint's tests: a LocalObjectStore in a temp dir (the S3
// endpoint's store: buckets and objects are written at its keys directly), a real
// LocalExecutor running the built trainyard-wrap, a SageMakerApi over both served by a real
// HttpServer on port 0, and a JsonTestClient signing with a known key. Every successful answer
// a helper receives is checked against botocore's output shape.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "aws/service_model.h"
#include "common/environment.h"
#include "executor/local/local_executor.h"
#include "metadata/metadata_store.h"
#include "server/http/http_server.h"
#include "server/sagemaker/sagemaker_api.h"
#include "server/sagemaker/sagemaker_test_client.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

extern char** environ;

namespace trainyard::server {

using nlohmann::json;
using sagemaker::testing::JsonTestClient;
using sagemaker::testing::JsonTestRequest;
using sagemaker::testing::JsonTestResponse;
using namespace std::chrono_literals;

inline constexpr char kKeyId[] = "AKIDTRAINYARDSAGEMAKER";
inline constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSAGEMAKERKEY";

class SageMakerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::LocalObjectStore::Open({.root = temp_.path() / "store"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    // The endpoint's jobs, kept across StopServer/StartServer as the server keeps them.
    auto metadata =
        metadata::OpenMetadataStore("sqlite:///" + (temp_.path() / "sagemaker.db").string());
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    MakeBucket("data");
    MakeBucket("models");
    PutObject("data", "train/train.csv", "x,y\n1,2\n");
    PutObject("data", "train/sub/more.csv", "3,4\n");
  }
  void TearDown() override { StopServer(); }

  // Starts executor, endpoint and HTTP server (tests that seed the store call it themselves).
  void StartServer(int max_running = 4) {
    executor::LocalExecutorOptions local;
    local.work_dir = temp_.path() / "work";
    local.wrapper_path = trainyard::testing::BuildDir() / "apps" / "trainyard-wrap";
    local.environment = ParseEnvironment(environ);
    local.progress_interval = 100ms;
    local.detach_jobs = detach_jobs_;
    executor_ = std::make_unique<executor::LocalExecutor>(local);
    if (detach_jobs_) {
      Status adopted = executor_->AdoptRunningJobs();
      ASSERT_TRUE(adopted.ok()) << adopted.ToString();
    }
    SageMakerApiOptions options;
    options.objects = store_.get();
    options.executor = executor_.get();
    options.metadata = metadata_.get();
    options.work_dir = temp_.path() / "staging";
    options.executor_work_dir = local.work_dir;
    options.secret_by_access_key_id = {{kKeyId, kSecret}};
    options.max_running = max_running;
    options.poll_interval = 50ms;
    options.secret_mask = secret_mask_;
    api_ = std::make_unique<SageMakerApi>(options);
    Status started = api_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    HttpServerOptions http;
    http.port = 0;
    auto server = HttpServer::Start(
        http, [this](const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
          api_->Handle(request, body, response);
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ =
        std::make_unique<JsonTestClient>("http://127.0.0.1:" + std::to_string(server_->port()),
                                         aws::Credentials{kKeyId, kSecret, ""});
  }

  // Stops in the server's order: HTTP, endpoint (jobs left to the executor), executor (which,
  // without detach_jobs, stops what still runs).
  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
    if (api_) api_->Stop();
    api_.reset();
    executor_.reset();
  }

  void MakeBucket(const std::string& bucket) {
    PutStore("s3/buckets/" + bucket, "{\"created\": \"2026-01-01T00:00:00.000Z\"}");
  }
  void PutObject(const std::string& bucket, const std::string& key, const std::string& content) {
    PutStore("s3/objects/" + bucket + "/" + key, content);
  }
  void PutStore(const std::string& key, const std::string& content) {
    std::istringstream source(content);
    ASSERT_TRUE(store_->Put(key, source, content.size()).ok()) << key;
  }
  // The object's content, or "<missing>".
  std::string StoreObject(const std::string& key) {
    std::ostringstream sink;
    return store_->Get(key, sink).ok() ? sink.str() : "<missing>";
  }

  // A job running `script` with /bin/sh, reading s3://data/train/ as channel "training" and
  // writing to s3://models/out/.
  static json JobRequest(const std::string& name, const std::string& script) {
    return {{"TrainingJobName", name},
            {"AlgorithmSpecification",
             {{"TrainingInputMode", "File"},
              {"ContainerEntrypoint", {"sh", "-c", script}},
              {"MetricDefinitions", {{{"Name", "train:loss"}, {"Regex", "loss=([0-9.]+)"}}}}}},
            {"RoleArn", "arn:aws:iam::000000000000:role/trainyard-training"},
            {"InputDataConfig",
             {{{"ChannelName", "training"},
               {"DataSource",
                {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://data/train/"}}}}}}}},
            {"OutputDataConfig", {{"S3OutputPath", "s3://models/out/"}}},
            {"ResourceConfig",
             {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
            {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}},
            {"HyperParameters", {{"learning_rate", "0.1"}}},
            {"Environment", {{"FOO", "bar"}}}};
  }

  // Sends a SageMaker or Logs call; a success must match the operation's output shape.
  JsonTestResponse Call(const std::string& operation, const json& input) {
    bool logs = operation == "DescribeLogStreams" || operation == "GetLogEvents" ||
                operation == "FilterLogEvents";
    JsonTestResponse response =
        logs ? client_->Logs(operation, input) : client_->SageMaker(operation, input);
    EXPECT_FALSE(response.headers["x-amzn-requestid"].empty()) << operation;
    if (response.status == 200) {
      const aws::ServiceModel& model = logs ? aws::LogsModel() : aws::SageMakerModel();
      std::vector<aws::ValidationError> errors =
          model.ValidateOutput(operation, response.json.is_null() ? json::object() : response.json);
      EXPECT_TRUE(errors.empty()) << operation << ": " << aws::ValidationMessage(errors) << "\n"
                                  << response.body;
    }
    return response;
  }

  json Describe(const std::string& name) {
    JsonTestResponse response = Call("DescribeTrainingJob", {{"TrainingJobName", name}});
    EXPECT_EQ(response.status, 200) << response.body;
    return response.json;
  }

  // Describes the job until `done` holds (or the timeout passes); returns the last answer.
  json WaitFor(const std::string& name, const std::function<bool(const json&)>& done,
               std::chrono::seconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    json description;
    while (std::chrono::steady_clock::now() < deadline) {
      description = Describe(name);
      if (description.is_object() && done(description)) return description;
      std::this_thread::sleep_for(25ms);
    }
    ADD_FAILURE() << name << " did not get there in time: " << description.dump(2);
    return description;
  }
  json WaitForEnd(const std::string& name, std::chrono::seconds timeout = 20s) {
    return WaitFor(
        name,
        [](const json& d) {
          std::string status = d.value("TrainingJobStatus", "");
          return status == "Completed" || status == "Failed" || status == "Stopped";
        },
        timeout);
  }
  json WaitForSecondary(const std::string& name, const std::string& secondary) {
    return WaitFor(name,
                   [&](const json& d) { return d.value("SecondaryStatus", "") == secondary; });
  }

  static std::vector<std::string> Statuses(const json& description) {
    std::vector<std::string> statuses;
    for (const json& t : description["SecondaryStatusTransitions"]) statuses.push_back(t["Status"]);
    return statuses;
  }

  trainyard::testing::TempDir temp_;
  SecretMask secret_mask_;  // the endpoint's, set before StartServer
  // Jobs outlive a StopServer, as the server's do, and the next StartServer adopts them.
  bool detach_jobs_ = false;
  std::unique_ptr<storage::LocalObjectStore> store_;
  metadata::MetadataStorePtr metadata_;
  std::unique_ptr<executor::LocalExecutor> executor_;
  std::unique_ptr<SageMakerApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<JsonTestClient> client_;
};

}  // namespace trainyard::server
