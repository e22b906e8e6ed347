// The endpoint's pure parts: log line times and events, S3 URIs and staging, request
// translation, documents read back, page tokens.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/files.h"
#include "server/sagemaker/channel_staging.h"
#include "server/sagemaker/job_records.h"
#include "server/sagemaker/list_operations.h"
#include "server/sagemaker/training_job_document.h"
#include "server/sagemaker/training_log.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

namespace trainyard::server::sagemaker {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

TEST(TrainingLogTest, LinesTakeTheTimeTheyWereFirstSeen) {
  trainyard::testing::TempDir dir;
  fs::path log = dir.path() / "training.log";
  LogIndex index;
  index.Observe(log, 1000);  // no file yet
  EXPECT_TRUE(index.checkpoints.empty());
  ASSERT_TRUE(WriteFileAtomic(log, "one\ntwo\nthr").ok());
  index.Observe(log, 5000);
  ASSERT_TRUE(WriteFileAtomic(log, "one\ntwo\nthree\n\r\nfour\n").ok());
  index.Observe(log, 5500);  // within a second: the same checkpoint
  EXPECT_EQ(index.checkpoints.size(), 1u);
  std::ofstream(log, std::ios::app) << "five\nsix";
  index.Observe(log, 9000);
  EXPECT_EQ(index.lines, 6u);
  std::ofstream(log, std::ios::app) << "\n";

  std::vector<LogEvent> events = SplitLogEvents(*ReadFile(log), index, 12000);
  std::vector<std::string> messages;
  for (const LogEvent& event : events) messages.push_back(event.message);
  EXPECT_EQ(messages, (std::vector<std::string>{"one", "two", "three", "four", "five", "six"}));
  EXPECT_EQ(events[0].timestamp_ms, 5000);
  EXPECT_EQ(events[3].timestamp_ms, 5000);
  EXPECT_EQ(events[3].line, 4u);  // the empty line counts as a line, not as an event
  EXPECT_EQ(events[4].timestamp_ms, 9000);
  EXPECT_EQ(events[5].timestamp_ms, 12000);  // never seen: the fallback

  LogIndex back = LogIndex::FromJson(index.ToJson());
  EXPECT_EQ(back.checkpoints, index.checkpoints);
  EXPECT_EQ(back.lines, index.lines);
  EXPECT_TRUE(LogIndex::FromJson(json("junk")).checkpoints.empty());
}

TEST(ChannelStagingTest, UrisAndOutputKeys) {
  auto location = ParseS3Uri("s3://models/out/");
  ASSERT_TRUE(location);
  EXPECT_EQ(location->bucket, "models");
  EXPECT_EQ(location->prefix, "out/");
  EXPECT_EQ(OutputObjectKey(*location, "job-1", "model.tar.gz"), "out/job-1/output/model.tar.gz");
  EXPECT_EQ(OutputObjectUri(*ParseS3Uri("s3://models"), "job-1", "output.tar.gz"),
            "s3://models/job-1/output/output.tar.gz");
  EXPECT_EQ(OutputObjectKey(*ParseS3Uri("s3://mmm/a/b"), "j", "f"), "a/b/j/output/f");
  EXPECT_FALSE(ParseS3Uri("https://models.s3.amazonaws.com/out"));
  EXPECT_FALSE(ParseS3Uri("s3://Bad_Bucket/x"));
}

json Request() {
  return json::parse(R"json({
    "TrainingJobName": "job-1",
    "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img:1",
      "ContainerEntrypoint": ["python3", "train.py"], "ContainerArguments": ["--epochs", "2"],
      "MetricDefinitions": [{"Name": "loss", "Regex": "loss=(\\S+)"}]},
    "RoleArn": "arn:aws:iam::000000000000:role/r",
    "InputDataConfig": [{"ChannelName": "training", "ContentType": "text/csv",
      "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/train/"}}}],
    "OutputDataConfig": {"S3OutputPath": "s3://bkt/out"},
    "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "HyperParameters": {"lr": "0.1"},
    "Environment": {"FOO": "bar", "TRAINYARD_JOB_TOKEN": "secret-token"},
    "Tags": [{"Key": "team", "Value": "ml"}]})json");
}

TEST(TrainingJobRequestTest, JobSpecForEachExecutor) {
  TrainingJob job;
  job.name = "job-1";
  job.request = EchoedRequest(Request());
  EXPECT_FALSE(job.request.contains("Tags"));  // not in DescribeTrainingJob
  executor::JobSpec local = BuildJobSpec(job, false);
  EXPECT_EQ(local.command, (std::vector<std::string>{"python3", "train.py", "--epochs", "2"}));
  EXPECT_EQ(local.definition.environment, (std::map<std::string, std::string>{{"FOO", "bar"}}));
  EXPECT_EQ(local.secret_environment.at("TRAINYARD_JOB_TOKEN"), "secret-token");
  EXPECT_EQ(local.definition.hyperparameters.at("lr"), "0.1");
  EXPECT_EQ(local.definition.max_runtime_seconds, 3600);
  EXPECT_EQ(local.definition.resources.instance_type, "ml.g5.xlarge");
  EXPECT_EQ(local.definition.resources.volume_size_gb, 50);
  EXPECT_EQ(local.definition.channels.at(0).content_type, "text/csv");
  EXPECT_EQ(local.definition.metric_definitions.at(0).regex, "loss=(\\S+)");
  EXPECT_EQ(local.definition.training_image, "img:1");
  executor::JobSpec container = BuildJobSpec(job, true);
  EXPECT_TRUE(container.command.empty());  // the container executor runs the entrypoint itself
  EXPECT_EQ(container.definition.container_entrypoint,
            (std::vector<std::string>{"python3", "train.py"}));
  EXPECT_EQ(container.definition.container_arguments, (std::vector<std::string>{"--epochs", "2"}));
  EXPECT_FALSE(UnsupportedRequest(Request()));
  json https = Request();
  https["OutputDataConfig"]["S3OutputPath"] = "https://bkt.s3.amazonaws.com/out";
  EXPECT_TRUE(UnsupportedRequest(https));
  json environment = Request();
  environment["Environment"] = {{"TRAINYARD_KEEP_ARCHIVES", "training"},
                                {"TRAINYARD_CALLBACK_URL", "http://127.0.0.1:1/progress"},
                                {"TRAINYARD_JOB_TOKEN", "t"},
                                {"TRAINYARD_COMMAND", "python3 train.py"},
                                {"TRAINYARD_STOP_GRACE_SECONDS", "5"}};
  EXPECT_FALSE(UnsupportedRequest(environment));
  environment["Environment"]["TRAINYARD_UNPACK_MAX_ENTRIES"] = "10";
  EXPECT_EQ(UnsupportedRequest(environment),
            "Environment variable 'TRAINYARD_UNPACK_MAX_ENTRIES': TRAINYARD_* variables are set by "
            "trainyard (except TRAINYARD_KEEP_ARCHIVES).");
}

// trainyard-wrap matches MetricDefinitions with RE2: a regex it cannot use is a
// ValidationException naming the definition; SageMaker's documented examples pass.
TEST(TrainingJobRequestTest, MetricRegexesAreCheckedWithTheWrappersEngine) {
  json documented = Request();
  documented["AlgorithmSpecification"]["MetricDefinitions"] = {
      {{"Name", "loss"}, {"Regex", "loss: ([0-9\\.]+)"}},
      {{"Name", "train:error"}, {"Regex", "Train_error=(.*?);"}},
      {{"Name", "stall"}, {"Regex", "m=(a*)*b"}}};
  EXPECT_EQ(UnsupportedRequest(documented), std::nullopt);
  json backreference = Request();
  backreference["AlgorithmSpecification"]["MetricDefinitions"].push_back(
      {{"Name", "twice"}, {"Regex", "(a)\\1"}});
  std::optional<std::string> refused = UnsupportedRequest(backreference);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->rfind("AlgorithmSpecification.MetricDefinitions.2.Regex ('twice') is not a "
                           "valid regex: ",
                           0),
            0u)
      << *refused;
}

// An executor that only names itself and what it runs (the translation asks no more).
class NamedExecutor : public executor::Executor {
 public:
  explicit NamedExecutor(bool runs_images) : runs_images_(runs_images) {}
  std::string name() const override { return runs_images_ ? "container" : "local"; }
  executor::TrainerKind AcceptedTrainer() const override {
    return runs_images_ ? executor::TrainerKind::kImage : executor::TrainerKind::kCommand;
  }
  bool RunsImageItself() const override { return runs_images_; }
  Status Submit(const executor::JobSpec&) override {
    return FailedPrecondition("this executor runs nothing");
  }
  Result<executor::JobDescription> Describe(const std::string& name) override {
    return NotFound(name);
  }
  Status Stop(const std::string& name) override { return NotFound(name); }

 private:
  bool runs_images_;
};

TEST(JobRecordsTest, ARequestIsASweepOfOneJobWithItsChannelsAndOutputsInTheS3Store) {
  json request = Request();
  request["InputDataConfig"].push_back(
      {{"ChannelName", "seed"},
       {"DataSource",
        {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://bkt/c/7f"}}}}}});
  NamedExecutor local(false);
  control::SweepRequest sweep = SweepRequestFor(request, local);
  EXPECT_EQ(sweep.job_name, "job-1");
  EXPECT_EQ(sweep.executor, "local");
  EXPECT_EQ(sweep.command, (std::vector<std::string>{"python3", "train.py", "--epochs", "2"}));
  EXPECT_TRUE(sweep.literal_hyperparameters);
  EXPECT_EQ(sweep.sweep.fixed, (core::HyperparameterMap{{"lr", "0.1"}}));
  EXPECT_EQ(sweep.channels.at("training"),
            control::ChannelSource(control::ObjectPrefixChannel{"s3/objects/bkt/train/"}));
  // The seed's prefix without a trailing slash: its folder part is stripped at staging.
  EXPECT_EQ(sweep.channels.at("seed"),
            control::ChannelSource(control::ObjectPrefixChannel{"s3/objects/bkt/c/7f"}));
  EXPECT_EQ(control::OutputKeysOf(sweep, "job-1").archives, "s3/objects/bkt/out/job-1/output/");
  EXPECT_EQ(control::OutputKeysOf(sweep, "job-1").files, "sagemaker/training-jobs/job-1/");
  EXPECT_EQ(sweep.max_runtime_seconds, 3600);
  EXPECT_EQ(sweep.environment, (std::map<std::string, std::string>{{"FOO", "bar"}}));
  EXPECT_EQ(sweep.client_request, EchoedRequest(request));
  // What the scheduler stores reads back as it was.
  auto stored =
      control::ParseSweepRequest(control::ToJson(sweep), control::SweepRequestOrigin::kStored);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(control::ToJson(*stored), control::ToJson(sweep));

  // At submission the request's own part comes back: the token only in the secret variables.
  executor::JobSpec spec;
  spec.definition.job_name = "job-1";
  spec.channel_sources["training"] = "/staged/training";
  spec.artifact_dir = "/work/job-1/artifacts";
  spec.checkpoint.name = "job-1";
  ASSERT_TRUE(CompleteJobSpec(*stored, false, spec).ok());
  EXPECT_EQ(spec.checkpoint.name, "job-1") << "the scheduler's checkpoint stays";
  EXPECT_EQ(spec.secret_environment.at("TRAINYARD_JOB_TOKEN"), "secret-token");
  EXPECT_EQ(spec.definition.environment.count("TRAINYARD_JOB_TOKEN"), 0u);
  EXPECT_EQ(spec.definition.channels[0].content_type, "text/csv");
  EXPECT_EQ(spec.channel_sources.at("training"), "/staged/training");
  EXPECT_EQ(spec.artifact_dir, "/work/job-1/artifacts");

  NamedExecutor container(true);
  control::SweepRequest image = SweepRequestFor(request, container);
  EXPECT_EQ(image.image, "img:1");
  EXPECT_TRUE(image.command.empty());
  executor::JobSpec image_spec;
  image_spec.definition.job_name = "job-1";
  ASSERT_TRUE(CompleteJobSpec(image, true, image_spec).ok());
  EXPECT_EQ(image_spec.definition.container_entrypoint,
            (std::vector<std::string>{"python3", "train.py"}));
  EXPECT_TRUE(image_spec.command.empty());
}

// CheckpointConfig: the job's checkpoint archive is <S3Uri>/checkpoints.tar.gz, reached through
// presigned URLs in the job's secret environment, valid while the job may run.
TEST(KeepCheckpointAtS3UriTest, GivesTheJobUrlsOfTheArchiveAtItsS3Uri) {
  std::string bucket, key;
  std::chrono::seconds expires{};
  CheckpointPresigner presign = [&](const std::string& b, const std::string& k,
                                    std::chrono::seconds e) -> Result<PresignedPair> {
    bucket = b, key = k, expires = e;
    return PresignedPair{"http://s3/" + k + "?get", "http://s3/" + k + "?put"};
  };
  executor::JobSpec spec;
  spec.definition.max_runtime_seconds = 3600;
  spec.stop_grace_period = std::chrono::seconds(120);
  spec.checkpoint.name = "job-1";
  json request = {{"CheckpointConfig", {{"S3Uri", "s3://bkt/runs/7"}}}};
  ASSERT_TRUE(KeepCheckpointAtS3Uri(request, presign, spec).ok());
  EXPECT_EQ(bucket, "bkt");
  EXPECT_EQ(key, "runs/7/checkpoints.tar.gz");
  EXPECT_EQ(expires, std::chrono::seconds(3600 + 120 + 86400));
  json urls = json::parse(spec.secret_environment.at("TRAINYARD_CHECKPOINT_URLS"));
  EXPECT_EQ(urls["get"], "http://s3/runs/7/checkpoints.tar.gz?get");
  EXPECT_EQ(urls["put"], "http://s3/runs/7/checkpoints.tar.gz?put");
  EXPECT_TRUE(spec.checkpoint.name.empty()) << "kept at the URI, not by name";
  EXPECT_TRUE(spec.definition.environment.empty()) << "never in the job's config files";

  executor::JobSpec plain;
  plain.checkpoint.name = "job-2";
  ASSERT_TRUE(KeepCheckpointAtS3Uri(json{{"RoleArn", "r"}}, presign, plain).ok());
  EXPECT_EQ(plain.checkpoint.name, "job-2") << "no CheckpointConfig: kept by name";
  ASSERT_TRUE(KeepCheckpointAtS3Uri(request, nullptr, plain).ok());
  EXPECT_TRUE(plain.secret_environment.empty());

  Status refused = KeepCheckpointAtS3Uri(
      json{{"CheckpointConfig", {{"S3Uri", "s3://bkt/x"}, {"LocalPath", "/opt/ml/other"}}}},
      presign, plain);
  EXPECT_NE(refused.message().find("CheckpointConfig.LocalPath '/opt/ml/other'"), std::string::npos)
      << refused.ToString();
}

TEST(TrainingJobDocumentTest, DocumentsReadBackAsTheyWereWritten) {
  TrainingJob job;
  job.name = "Job-1";
  job.request = EchoedRequest(Request());
  TimePoint start = TimePoint(std::chrono::milliseconds(1'700'000'000'123));
  job.status = core::JobStatusTracker(start, "Starting the training job");
  ASSERT_TRUE(
      job.status.Transition(core::SecondaryStatus::kDownloading, start + std::chrono::seconds(2))
          .ok());
  ArnContext context{"eu-west-1", "123456789012"};
  json running = DescribeDocument(job, context);
  EXPECT_EQ(running["TrainingJobArn"],
            "arn:aws:sagemaker:eu-west-1:123456789012:training-job/job-1");
  EXPECT_DOUBLE_EQ(running["CreationTime"].get<double>(), 1'700'000'000.123);
  EXPECT_FALSE(running.contains("TrainingEndTime"));
  EXPECT_FALSE(running.contains("FinalMetricDataList"));
  ASSERT_TRUE(job.status.Fail("AlgorithmError: oops", start + std::chrono::seconds(5)).ok());
  job.metrics["loss"] = {0.5, start + std::chrono::seconds(4)};
  json ended = DescribeDocument(job, context);
  EXPECT_EQ(ended["TrainingTimeInSeconds"], 3);
  EXPECT_EQ(ended["FailureReason"], "AlgorithmError: oops");
  auto back = TrainingJobFromDocument(ended);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DescribeDocument(*back, context), ended);
  EXPECT_FALSE(TrainingJobFromDocument(json::object()).ok());
}

TEST(PageTokenTest, OnlyOurOwnTokensDecode) {
  EXPECT_EQ(DecodePageToken("A", EncodePageToken("A", 42)), 42u);
  EXPECT_FALSE(DecodePageToken("B", EncodePageToken("A", 42)));
  EXPECT_FALSE(DecodePageToken("A", "garbage!"));
}

}  // namespace
}  // namespace trainyard::server::sagemaker
