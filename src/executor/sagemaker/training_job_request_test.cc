#include "executor/sagemaker/training_job_request.h"

#include <gtest/gtest.h>

#include "aws/service_model.h"

namespace trainyard::executor {
namespace {

using nlohmann::json;

SageMakerExecutorOptions Options() {
  SageMakerExecutorOptions options;
  options.region = "eu-west-1";
  options.role_arn = "arn:aws:iam::123456789012:role/trainyard-training";
  options.bucket = "ml-bucket";
  options.prefix = "teams/vision";
  options.default_image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:1.4";
  options.instance_type = "ml.g5.xlarge";
  options.volume_size_gb = 50;
  options.tags = {{"team", "vision"}, {"trainyard:sweep", "sw-0123"}};
  return options;
}

JobSpec Spec() {
  JobSpec spec;
  contract::JobDefinition& definition = spec.definition;
  definition.job_name = "digits-sweep-0003";
  definition.hyperparameters = {{"learning_rate", "0.1"}, {"iterations", "200"}};
  definition.channels = {{"training"}, {"evaluation", "text/csv"}};
  definition.metric_definitions = {{"loss", "loss=([0-9.]+)"}};
  definition.environment = {
      {"FOO", "bar"},
      {"TRAINYARD_CALLBACK_URL", "http://10.0.0.5:8080/api/v1/jobs/digits-sweep-0003/progress"}};
  definition.max_runtime_seconds = 3600;
  spec.secret_environment = {{"TRAINYARD_JOB_TOKEN", "tok-abc"}};
  spec.command = {"/opt/trainer/train", "--data dir"};
  return spec;
}

const ChannelUris kChannels = {{"training", "s3://ml-bucket/teams/vision/inputs/aa11/"},
                               {"evaluation", "s3://ml-bucket/teams/vision/inputs/bb22/"}};

TEST(CreateTrainingJobRequestTest, CarriesTheWholeJob) {
  auto request = CreateTrainingJobRequest(Spec(), Options(), kChannels);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  const json& r = *request;
  EXPECT_EQ(r["TrainingJobName"], "digits-sweep-0003");
  EXPECT_EQ(r["HyperParameters"], json({{"learning_rate", "0.1"}, {"iterations", "200"}}));
  EXPECT_EQ(r["AlgorithmSpecification"]["TrainingImage"], Options().default_image);
  EXPECT_EQ(r["AlgorithmSpecification"]["TrainingInputMode"], "File");
  EXPECT_EQ(r["AlgorithmSpecification"]["MetricDefinitions"][0],
            json({{"Name", "loss"}, {"Regex", "loss=([0-9.]+)"}}));
  EXPECT_EQ(r["RoleArn"], Options().role_arn);
  ASSERT_EQ(r["InputDataConfig"].size(), 2u);
  const json& evaluation = r["InputDataConfig"][0];  // channels keep the spec's order
  EXPECT_EQ(r["InputDataConfig"][0]["ChannelName"], "training");
  EXPECT_EQ(r["InputDataConfig"][1]["ContentType"], "text/csv");
  EXPECT_EQ(evaluation["DataSource"]["S3DataSource"],
            json({{"S3DataType", "S3Prefix"},
                  {"S3Uri", "s3://ml-bucket/teams/vision/inputs/aa11/"},
                  {"S3DataDistributionType", "FullyReplicated"}}));
  EXPECT_EQ(r["OutputDataConfig"]["S3OutputPath"], "s3://ml-bucket/teams/vision/outputs/");
  EXPECT_EQ(r["ResourceConfig"],
            json({{"InstanceType", "ml.g5.xlarge"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 50}}));
  EXPECT_EQ(r["StoppingCondition"]["MaxRuntimeInSeconds"], 3600);
  EXPECT_EQ(r["Environment"]["FOO"], "bar");
  EXPECT_EQ(r["Environment"]["TRAINYARD_JOB_TOKEN"], "tok-abc");
  EXPECT_EQ(r["Environment"]["TRAINYARD_COMMAND"], "/opt/trainer/train '--data dir'");
  EXPECT_EQ(r["Tags"].size(), 2u);
  EXPECT_FALSE(r.contains("CheckpointConfig"));
  EXPECT_FALSE(r["Environment"].contains("TRAINYARD_STOP_GRACE_SECONDS"));  // SageMaker's 120 s

  JobSpec quick = Spec();
  quick.stop_grace_period = std::chrono::milliseconds(2500);
  auto with_grace = CreateTrainingJobRequest(quick, Options(), kChannels);
  EXPECT_EQ((*with_grace)["Environment"]["TRAINYARD_STOP_GRACE_SECONDS"], "2.5");
}

TEST(CreateTrainingJobRequestTest, ValidatesAgainstBotocoresModel) {
  SageMakerExecutorOptions options = Options();
  options.checkpoints = true;
  JobSpec spec = Spec();
  spec.definition.container_entrypoint = {"trainyard-wrap"};
  spec.definition.container_arguments = {"--", "python3", "train.py"};
  auto request = CreateTrainingJobRequest(spec, options, kChannels);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ((*request)["CheckpointConfig"]["S3Uri"],
            "s3://ml-bucket/teams/vision/checkpoints/digits-sweep-0003/");
  auto errors = aws::SageMakerModel().ValidateInput("CreateTrainingJob", *request);
  EXPECT_TRUE(errors.empty()) << aws::ValidationMessage(errors);
}

TEST(CreateTrainingJobRequestTest, BadInputIsCaughtBeforeItIsSent) {
  JobSpec spec = Spec();
  spec.definition.job_name = "digits_sweep";  // SageMaker allows no underscore
  spec.definition.resources.instance_type = "ml.nonsense";
  auto request = CreateTrainingJobRequest(spec, Options(), kChannels);
  ASSERT_TRUE(request.ok());
  std::string message =
      aws::ValidationMessage(aws::SageMakerModel().ValidateInput("CreateTrainingJob", *request));
  EXPECT_NE(message.find("'trainingJobName'"), std::string::npos) << message;
  EXPECT_NE(message.find("instanceType"), std::string::npos) << message;

  spec = Spec();
  SageMakerExecutorOptions options = Options();
  options.default_image.clear();
  auto no_image = CreateTrainingJobRequest(spec, options, kChannels);
  EXPECT_EQ(no_image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_image.status().message().find("TrainingImage"), std::string::npos);

  auto missing = CreateTrainingJobRequest(Spec(), Options(), {{"training", "s3://b/x/"}});
  EXPECT_NE(missing.status().message().find("'evaluation'"), std::string::npos);
}

TEST(CreateTrainingJobRequestTest, OptionsAreChecked) {
  EXPECT_TRUE(ValidateSageMakerOptions(Options()).ok());
  SageMakerExecutorOptions options = Options();
  options.role_arn = "trainyard-training";
  EXPECT_NE(ValidateSageMakerOptions(options).message().find("not an ARN"), std::string::npos);
  options = Options();
  options.bucket.clear();
  EXPECT_NE(ValidateSageMakerOptions(options).message().find("bucket"), std::string::npos);
}

TEST(IsSameTrainingJobTest, RecognisesItsOwnRequestInADescription) {
  json request = *CreateTrainingJobRequest(Spec(), Options(), kChannels);
  json description = request;  // SageMaker echoes these fields
  description.erase("Tags");
  description["TrainingJobStatus"] = "InProgress";
  EXPECT_TRUE(IsSameTrainingJob(request, description));
  description["HyperParameters"]["learning_rate"] = "0.2";
  EXPECT_FALSE(IsSameTrainingJob(request, description));
}

json Transition(const std::string& status, double start, const std::string& message) {
  return {
      {"Status", status}, {"StartTime", start}, {"EndTime", start + 1}, {"StatusMessage", message}};
}

TEST(DescriptionFromSageMakerTest, FollowsTheTransitionsToCompleted) {
  json answer = {{"TrainingJobName", "j"},
                 {"TrainingJobStatus", "Completed"},
                 {"SecondaryStatus", "Completed"},
                 {"CreationTime", 1700000000.5},
                 {"TrainingEndTime", 1700000300},
                 {"SecondaryStatusTransitions",
                  {Transition("Starting", 1700000000.5, "Launching requested ML instances"),
                   Transition("Starting", 1700000010, "Preparing the instances for training"),
                   Transition("Downloading", 1700000100, "Downloading input data"),
                   Transition("Training", 1700000120, "Training in progress."),
                   Transition("Uploading", 1700000280, "Uploading generated training model"),
                   Transition("Completed", 1700000300, "Training job completed")}},
                 {"FinalMetricDataList",
                  {{{"MetricName", "loss"}, {"Value", 0.25}, {"Timestamp", 1700000290}}}}};
  auto description = DescriptionFromSageMaker(answer);
  ASSERT_TRUE(description.ok()) << description.status().ToString();
  EXPECT_EQ(description->status.status(), core::JobStatus::kCompleted);
  const auto& transitions = description->status.transitions();
  ASSERT_EQ(transitions.size(), 5u);
  EXPECT_EQ(transitions[0].message, "Preparing the instances for training");
  EXPECT_EQ(transitions[2].status, core::SecondaryStatus::kTraining);
  EXPECT_EQ(description->metrics.at("loss"), 0.25);
  EXPECT_EQ(description->exit_code, 0);
  EXPECT_EQ(description->status.creation_time().time_since_epoch(),
            std::chrono::milliseconds(1700000000500));
}

TEST(DescriptionFromSageMakerTest, FailureAndMaxRuntime) {
  json failed = {{"TrainingJobName", "j"},
                 {"TrainingJobStatus", "Failed"},
                 {"CreationTime", 1700000000},
                 {"FailureReason", "AlgorithmError: out of memory, exit code: 3"},
                 {"SecondaryStatusTransitions",
                  {Transition("Starting", 1700000000, ""), Transition("Training", 1700000010, ""),
                   Transition("Failed", 1700000020, "Training job failed")}}};
  auto description = DescriptionFromSageMaker(failed);
  ASSERT_TRUE(description.ok());
  EXPECT_EQ(description->status.status(), core::JobStatus::kFailed);
  EXPECT_EQ(description->status.failure_reason(), "AlgorithmError: out of memory, exit code: 3");
  EXPECT_EQ(description->exit_code, 3);

  json stopped = {{"TrainingJobName", "j"},
                  {"TrainingJobStatus", "Stopped"},
                  {"CreationTime", 1700000000},
                  {"SecondaryStatusTransitions",
                   {Transition("Starting", 1700000000, ""), Transition("Training", 1700000010, ""),
                    Transition("MaxRuntimeExceeded", 1700000020, "")}}};
  description = DescriptionFromSageMaker(stopped);
  ASSERT_TRUE(description.ok());
  EXPECT_EQ(description->status.status(), core::JobStatus::kStopped);
  EXPECT_EQ(description->status.secondary_status(), core::SecondaryStatus::kMaxRuntimeExceeded);

  // A service that reports no transitions still ends the job.
  json bare = {{"TrainingJobName", "j"},
               {"TrainingJobStatus", "Completed"},
               {"CreationTime", 1700000000},
               {"LastModifiedTime", 1700000050}};
  description = DescriptionFromSageMaker(bare);
  ASSERT_TRUE(description.ok());
  EXPECT_EQ(description->status.status(), core::JobStatus::kCompleted);

  EXPECT_FALSE(DescriptionFromSageMaker(json{{"TrainingJobName", "j"}}).ok());
}

}  // namespace
}  // namespace trainyard::executor
