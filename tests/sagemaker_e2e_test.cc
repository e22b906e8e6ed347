// The sagemaker executor passes the executor conformance suite against trainyard's own
// SageMaker-compatible endpoint: SageMaker's API (JSON 1.1, SigV4), S3 for the channels and the
// artifacts, CloudWatch Logs for the log, all real HTTP on loopback, the jobs run by a local
// executor behind the endpoint. Plus what only this executor does: content-addressed channel
// uploads, adoption of a retried create, following a job it did not submit.
#include <gtest/gtest.h>

#include <fstream>

#include "aws/environment_provider.h"
#include "common/files.h"
#include "executor/executor_conformance.h"
#include "executor/local/local_executor.h"
#include "executor/sagemaker/sagemaker_executor.h"
#include "metadata/metadata_store.h"
#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "server/sagemaker/sagemaker_api.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kKeyId[] = "AKIDSAGEMAKERTEST";
constexpr char kSecret[] = "sagemaker-test-secret";
constexpr char kBucket[] = "training";

std::unique_ptr<server::HttpServer> Serve(
    std::function<void(const server::HttpRequest&, server::BodyReader&, server::ResponseWriter&)>
        handler) {
  server::HttpServerOptions http;
  http.port = 0;
  auto started = server::HttpServer::Start(http, std::move(handler));
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  return started.ok() ? std::move(started).value() : nullptr;
}

std::string UrlOf(const server::HttpServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

// Everything between the executor and the jobs: the store, both endpoints, the local executor
// that runs the jobs. Forwards the Executor calls to the sagemaker executor in front of it.
class SageMakerStack : public Executor {
 public:
  explicit SageMakerStack(const fs::path& dir) {
    auto store = storage::LocalObjectStore::Open({.root = dir / "store"});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    std::istringstream marker(R"({"created": "2026-11-28T00:00:00.000Z"})");
    EXPECT_TRUE(
        store_->Put(std::string("s3/buckets/") + kBucket, marker, marker.str().size()).ok());

    LocalExecutorOptions local;
    local.work_dir = dir / "endpoint-jobs";
    local.wrapper_path = testing::BuildDir() / "apps" / "trainyard-wrap";
    local.progress_interval = 200ms;
    local_ = std::make_unique<LocalExecutor>(local);

    s3_api_ = std::make_unique<server::S3Api>(server::S3ApiOptions{
        .objects = store_.get(), .secret_by_access_key_id = {{kKeyId, kSecret}}});
    auto metadata = metadata::OpenMetadataStore("sqlite:///" + (dir / "endpoint.db").string());
    EXPECT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    server::SageMakerApiOptions endpoint;
    endpoint.objects = store_.get();
    endpoint.executor = local_.get();
    endpoint.metadata = metadata_.get();
    endpoint.work_dir = dir / "endpoint-work";
    endpoint.executor_work_dir = local.work_dir;
    endpoint.secret_by_access_key_id = {{kKeyId, kSecret}};
    endpoint.region = "eu-west-1";
    endpoint.poll_interval = 50ms;
    sagemaker_api_ = std::make_unique<server::SageMakerApi>(endpoint);
    EXPECT_TRUE(sagemaker_api_->Start().ok());
    s3_server_ = Serve([this](auto& request, auto& body, auto& response) {
      s3_api_->Handle(request, body, response);
    });
    sagemaker_server_ = Serve([this](auto& request, auto& body, auto& response) {
      sagemaker_api_->Handle(request, body, response);
    });

    options_.region = "eu-west-1";
    options_.role_arn = "arn:aws:iam::123456789012:role/trainyard-test";
    options_.bucket = kBucket;
    options_.prefix = "sweeps";
    options_.default_image = "trainyard/example:test";
    options_.sagemaker_endpoint = options_.logs_endpoint = UrlOf(*sagemaker_server_);
    options_.s3_endpoint = UrlOf(*s3_server_);
    options_.credentials = std::make_shared<aws::EnvironmentProvider>(
        EnvironmentMap{{"AWS_ACCESS_KEY_ID", kKeyId}, {"AWS_SECRET_ACCESS_KEY", kSecret}});
    options_.poll_min = 100ms;
    options_.poll_max = 400ms;
    options_.work_dir = dir / "scheduler-work";
    auto made = SageMakerExecutor::Make(options_);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    executor_ = std::move(made).value();
  }

  ~SageMakerStack() override {
    executor_.reset();
    sagemaker_server_->Stop();
    s3_server_->Stop();
    sagemaker_api_->Stop();
    local_.reset();
  }

  std::string name() const override { return "sagemaker"; }
  TrainerKind AcceptedTrainer() const override { return executor_->AcceptedTrainer(); }
  bool RunsImageItself() const override { return executor_->RunsImageItself(); }
  Status Submit(const JobSpec& spec) override { return executor_->Submit(spec); }
  Result<JobDescription> Describe(const std::string& job) override {
    return executor_->Describe(job);
  }
  Status Stop(const std::string& job) override { return executor_->Stop(job); }

  storage::ObjectStore& store() { return *store_; }
  SageMakerExecutorOptions& options() { return options_; }
  // A second executor on the same endpoints: a server restarted while its jobs ran.
  std::unique_ptr<SageMakerExecutor> Restarted() {
    return std::move(SageMakerExecutor::Make(options_)).value();
  }

 private:
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<LocalExecutor> local_;
  metadata::MetadataStorePtr metadata_;  // the endpoint's jobs
  std::unique_ptr<server::S3Api> s3_api_;
  std::unique_ptr<server::SageMakerApi> sagemaker_api_;
  std::unique_ptr<server::HttpServer> s3_server_, sagemaker_server_;
  SageMakerExecutorOptions options_;
  std::unique_ptr<SageMakerExecutor> executor_;
};

ExecutorFactory SageMakerFactory() {
  ExecutorFactory factory;
  factory.name = "sagemaker";
  factory.make = [](const fs::path& work_dir) -> ExecutorPtr {
    return std::make_unique<SageMakerStack>(work_dir);
  };
  factory.artifacts_not_returned = {
      {"job.json", "SageMaker uploads only model.tar.gz and output.tar.gz"}};
  return factory;
}

INSTANTIATE_TEST_SUITE_P(SageMaker, ExecutorConformanceTest, ::testing::Values(SageMakerFactory()));

class SageMakerExecutorTest : public ::testing::Test {
 protected:
  SageMakerExecutorTest() : stack_(temp_.path()) {}

  JobSpec Job(const std::string& name, const fs::path& dataset, const std::string& script) {
    JobSpec spec;
    spec.definition.job_name = name;
    spec.definition.channels = {{"training"}};
    spec.channel_sources = {{"training", dataset}};
    spec.command = {"sh", "-c", script};
    spec.artifact_dir = temp_.path() / "artifacts" / name;
    return spec;
  }

  JobDescription WaitForEnd(Executor& executor, const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (true) {
      auto description = executor.Describe(name);
      EXPECT_TRUE(description.ok()) << description.status().ToString();
      if (!description.ok() || core::IsTerminal(description->status.status()) ||
          std::chrono::steady_clock::now() > deadline)
        return *description;
      std::this_thread::sleep_for(50ms);
    }
  }

  testing::TempDir temp_;
  SageMakerStack stack_;
};

// A SageMaker job runs the sweep's image, or its command in the default image; SageMaker runs
// the image itself, as the container executor does.
TEST_F(SageMakerExecutorTest, DeclaresThatItsJobsRunAnImageOrACommandInOne) {
  std::unique_ptr<SageMakerExecutor> executor = stack_.Restarted();
  EXPECT_EQ(executor->AcceptedTrainer(), TrainerKind::kImageOrCommand);
  EXPECT_TRUE(executor->RunsImageItself());
}

TEST_F(SageMakerExecutorTest, ADatasetSharedByJobsIsUploadedOnce) {
  fs::path dataset = temp_.path() / "digits.csv";
  std::ofstream(dataset) << "1,2\n3,4\n";
  ASSERT_TRUE(
      stack_.Submit(Job("share-a", dataset, "wc -l < $SM_CHANNEL_TRAINING/digits.csv")).ok());
  ASSERT_TRUE(stack_.Submit(Job("share-b", dataset, "cat $SM_CHANNEL_TRAINING/digits.csv")).ok());
  EXPECT_EQ(WaitForEnd(stack_, "share-a").status.status(), core::JobStatus::kCompleted);
  EXPECT_EQ(WaitForEnd(stack_, "share-b").status.status(), core::JobStatus::kCompleted);
  auto inputs = stack_.store().List("s3/objects/training/sweeps/inputs/");
  ASSERT_TRUE(inputs.ok());
  ASSERT_EQ(inputs->objects.size(), 1u);
  EXPECT_TRUE(inputs->objects[0].key.ends_with("/digits.csv"));
  auto log = ReadFile(temp_.path() / "artifacts" / "share-b" / "training.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("3,4"), std::string::npos) << "the log comes from CloudWatch Logs";
}

TEST_F(SageMakerExecutorTest, ARestartedServerFollowsTheJobsItHadSubmitted) {
  fs::path dataset = temp_.path() / "d.csv";
  std::ofstream(dataset) << "x\n";
  JobSpec spec = Job("survivor", dataset, "sleep 1; echo w > $SM_MODEL_DIR/m.bin");
  ASSERT_TRUE(stack_.Submit(spec).ok());
  auto restarted = stack_.Restarted();
  auto found = restarted->Describe("survivor");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  JobDescription ended = WaitForEnd(*restarted, "survivor");
  EXPECT_EQ(ended.status.status(), core::JobStatus::kCompleted);
  // Its artifacts land where the scheduler of the restarted server looks.
  EXPECT_TRUE(fs::exists(stack_.options().work_dir / "survivor" / "artifacts" / "model.tar.gz"));
  EXPECT_EQ(restarted->Describe("never-submitted").status().code(), StatusCode::kNotFound);
}

TEST_F(SageMakerExecutorTest, ARetriedCreateAdoptsItsOwnJobButNotAnother) {
  fs::path dataset = temp_.path() / "d.csv";
  std::ofstream(dataset) << "x\n";
  JobSpec spec = Job("retried", dataset, "true");
  ASSERT_TRUE(stack_.Submit(spec).ok());
  // The same request again, as after a lost answer, from a fresh executor: adopted.
  auto again = stack_.Restarted();
  EXPECT_TRUE(again->Submit(spec).ok());
  // A different job under the same name: refused.
  auto other = stack_.Restarted();
  spec.definition.hyperparameters["lr"] = "0.5";
  EXPECT_EQ(other->Submit(spec).code(), StatusCode::kAlreadyExists);
  WaitForEnd(stack_, "retried");
}

TEST_F(SageMakerExecutorTest, BadInputFailsAtSubmitWithSageMakersMessage) {
  fs::path dataset = temp_.path() / "d.csv";
  std::ofstream(dataset) << "x\n";
  JobSpec spec = Job("bad-instance", dataset, "true");
  spec.definition.resources.instance_type = "ml.banana";
  Status submitted = stack_.Submit(spec);
  EXPECT_EQ(submitted.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(submitted.message().find("validation error detected"), std::string::npos)
      << submitted.message();
  EXPECT_NE(submitted.message().find("instanceType"), std::string::npos) << submitted.message();
}

}  // namespace
}  // namespace trainyard::executor
