// Tests of the built-in SageMaker and CloudWatch Logs models: a full CreateTrainingJob request
// passes, each kind of mistake fails at the path and with the words AWS uses (several full
// messages are compared with real SageMaker ones), every pattern the operations reach compiles,
// and responses shaped like SageMaker's validate as outputs.
#include "aws/service_model.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "aws/java_pattern.h"
#include "aws/service_model_data.h"

namespace trainyard::aws {
namespace {

using nlohmann::json;

// clang-format off
json ValidCreateTrainingJob() {
  return json::parse(R"json({
    "TrainingJobName": "digits-3fa9c1-002",
    "HyperParameters": {"learning_rate": "0.1", "batch_size": "32"},
    "AlgorithmSpecification": {
      "TrainingImage": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/trainer:1.0",
      "TrainingInputMode": "File",
      "MetricDefinitions": [{"Name": "eval_accuracy", "Regex": "eval_accuracy=([0-9.]+)"}],
      "ContainerEntrypoint": ["python3", "-m", "trainer"],
      "ContainerArguments": ["--epochs", "3"]
    },
    "RoleArn": "arn:aws:iam::123456789012:role/trainyard-sagemaker",
    "InputDataConfig": [{
      "ChannelName": "training",
      "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://trainyard-data/datasets/ds-4f2a/",
        "S3DataDistributionType": "FullyReplicated"}},
      "ContentType": "text/csv",
      "InputMode": "File"
    }],
    "OutputDataConfig": {"S3OutputPath": "s3://trainyard-data/jobs/digits-3fa9c1-002/"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "Environment": {"TRAINYARD_JOB": "digits-3fa9c1-002", "PYTHONUNBUFFERED": "1"},
    "CheckpointConfig": {"S3Uri": "s3://trainyard-data/checkpoints/",
                         "LocalPath": "/opt/ml/checkpoints"},
    "Tags": [{"Key": "trainyard:sweep", "Value": "sw-4f2a"}, {"Key": "Größe", "Value": "klein 1"}]
  })json");
}
// clang-format on

// "p7" (a helper: GCC 12 warns wrongly about "p" + std::to_string(i)).
std::string Numbered(const std::string& prefix, int i) {
  std::string name = prefix;
  name += std::to_string(i);
  return name;
}

std::vector<ValidationError> CheckCreate(const json& request) {
  return SageMakerModel().ValidateInput("CreateTrainingJob", request);
}

// The one error a request has (a failure, and an empty error, when it has another number).
ValidationError OnlyError(const std::vector<ValidationError>& errors) {
  EXPECT_EQ(errors.size(), 1u) << ValidationMessage(errors);
  return errors.size() == 1 ? errors[0] : ValidationError{};
}

void ExpectOnlyError(const json& request, const std::string& path, const std::string& constraint) {
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.path, path);
  EXPECT_EQ(error.constraint, constraint);
}

constexpr char kJobNamePattern[] =
    "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";

TEST(ServiceModelTest, AFullCreateTrainingJobRequestPasses) {
  const auto errors = CheckCreate(ValidCreateTrainingJob());
  EXPECT_TRUE(errors.empty()) << ValidationMessage(errors);
  EXPECT_EQ(ValidationMessage(errors), "");
}

// The tuning operations are checked as SageMaker checks them: a tuning job's name is at most
// 32 characters, the strategy one of SageMaker's four.
TEST(ServiceModelTest, TuningRequestsAreCheckedByTheModel) {
  for (const char* operation :
       {"CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob",
        "ListHyperParameterTuningJobs", "ListTrainingJobsForHyperParameterTuningJob",
        "StopHyperParameterTuningJob"}) {
    EXPECT_TRUE(SageMakerModel().HasOperation(operation)) << operation;
  }
  json request = {
      {"HyperParameterTuningJobName", std::string(33, 'a')},
      {"HyperParameterTuningJobConfig",
       {{"Strategy", "Genetic"}, {"ResourceLimits", {{"MaxParallelTrainingJobs", 1}}}}}};
  const auto errors = SageMakerModel().ValidateInput("CreateHyperParameterTuningJob", request);
  ASSERT_EQ(errors.size(), 3u) << ValidationMessage(errors);  // pattern, length, enum
  EXPECT_NE(ValidationMessage(errors).find("'hyperParameterTuningJobName'"), std::string::npos)
      << ValidationMessage(errors);
  EXPECT_NE(ValidationMessage(errors).find("Value 'Genetic' at 'hyperParameterTuningJobConfig."
                                           "strategy' failed to satisfy constraint: Member must "
                                           "satisfy enum value set"),
            std::string::npos)
      << ValidationMessage(errors);
}

TEST(ServiceModelTest, JobNameWithAnUnderscoreBreaksThePattern) {
  json request = ValidCreateTrainingJob();
  request["TrainingJobName"] = "digits_002";
  const auto errors = CheckCreate(request);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "trainingJobName");
  EXPECT_EQ(errors[0].value, "digits_002");
  EXPECT_EQ(ValidationMessage(errors),
            "1 validation error detected: Value 'digits_002' at 'trainingJobName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
}

// SageMaker answers a too-long name with two errors, the pattern's first (zenml-io/zenml#1502).
TEST(ServiceModelTest, JobNameOf64CharactersBreaksPatternThenLength) {
  json request = ValidCreateTrainingJob();
  const std::string name(64, 'a');
  request["TrainingJobName"] = name;
  const auto errors = CheckCreate(request);
  ASSERT_EQ(errors.size(), 2u) << ValidationMessage(errors);
  EXPECT_EQ(errors[0].constraint, kJobNamePattern);
  EXPECT_EQ(errors[1].path, "trainingJobName");
  EXPECT_EQ(errors[1].constraint, "Member must have length less than or equal to 63");
  EXPECT_EQ(ValidationMessage(errors),
            "2 validation errors detected: Value '" + name +
                "' at 'trainingJobName' failed to satisfy constraint: " + kJobNamePattern +
                "; Value '" + name +
                "' at 'trainingJobName' failed to satisfy constraint: Member must have length "
                "less than or equal to 63");
}

TEST(ServiceModelTest, MissingOrNullRoleArnMustNotBeNull) {
  json request = ValidCreateTrainingJob();
  request.erase("RoleArn");
  const auto errors = CheckCreate(request);
  const ValidationError error = OnlyError(errors);
  EXPECT_EQ(error.path, "roleArn");
  EXPECT_EQ(error.value, "null");
  EXPECT_EQ(ValidationMessage(errors),
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
            "Member must not be null");
  request["RoleArn"] = nullptr;
  ExpectOnlyError(request, "roleArn", "Member must not be null");
}

TEST(ServiceModelTest, InstanceAndVolumeCountsRespectTheModelsMinimums) {
  json request = ValidCreateTrainingJob();
  // This botocore model lets InstanceCount be 0 (heterogeneous clusters use InstanceGroups).
  request["ResourceConfig"]["InstanceCount"] = 0;
  EXPECT_TRUE(CheckCreate(request).empty());
  request["ResourceConfig"]["InstanceCount"] = -1;
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.path, "resourceConfig.instanceCount");
  EXPECT_EQ(error.value, "-1");
  EXPECT_EQ(error.constraint, "Member must have value greater than or equal to 0");

  request = ValidCreateTrainingJob();
  request["ResourceConfig"]["VolumeSizeInGB"] = 0;
  EXPECT_EQ(ValidationMessage(CheckCreate(request)),
            "1 validation error detected: Value '0' at 'resourceConfig.volumeSizeInGB' failed "
            "to satisfy constraint: Member must have value greater than or equal to 1");
}

TEST(ServiceModelTest, UnknownInputModeBreaksTheEnum) {
  json request = ValidCreateTrainingJob();
  request["AlgorithmSpecification"]["TrainingInputMode"] = "Bogus";
  ExpectOnlyError(request, "algorithmSpecification.trainingInputMode",
                  "Member must satisfy enum value set: [Pipe, File, FastFile]");
}

TEST(ServiceModelTest, MoreThan100HyperparametersBreakTheMapLength) {
  json request = ValidCreateTrainingJob();
  for (int i = 0; i < 101; ++i) request["HyperParameters"][Numbered("p", i)] = "1";
  request["HyperParameters"].erase("learning_rate");
  request["HyperParameters"].erase("batch_size");
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.path, "hyperParameters");
  EXPECT_EQ(error.constraint, "Member must have length less than or equal to 100");
  EXPECT_EQ(error.value.front(), '{');
  EXPECT_NE(error.value.find("p100=1"), std::string::npos);
}

TEST(ServiceModelTest, AHyperparameterValueOver2500CharactersBreaksTheMapValues) {
  json request = ValidCreateTrainingJob();
  request["HyperParameters"]["classes"] = std::string(2500, 'c');
  EXPECT_TRUE(CheckCreate(request).empty());
  request["HyperParameters"]["classes"] = std::string(2501, 'c');
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.path, "hyperParameters");
  EXPECT_EQ(error.constraint,
            "Map value must satisfy constraint: [Member must have length less than or equal to "
            "2500, Member must satisfy regular expression pattern: .*]");
}

// A real message (aws/sagemaker-xgboost-container#120) lists these hyperparameters in exactly
// this order: java.util.HashMap's, which Render reproduces.
TEST(ServiceModelTest, MapsAreQuotedInJavaHashMapOrder) {
  json request = ValidCreateTrainingJob();
  request["HyperParameters"] = {{"colsample_bytree", "0.5"},
                                {"lambda", "0.1"},
                                {"eta", "0.3"},
                                {"tree_method", "hist"},
                                {"alpha", "0.1"},
                                {"num_round", "10"},
                                {"subsample", "0.5"},
                                {"monotone_constraints", "(" + std::string(2600, '1') + ")"}};
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.value.rfind("{colsample_bytree=0.5, lambda=0.1, eta=0.3, tree_method=hist, "
                              "alpha=0.1, num_round=10, subsample=0.5, monotone_constraints=(1",
                              0),
            0u)
      << error.value.substr(0, 160);
}

TEST(ServiceModelTest, AnEnvironmentKeyStartingWithADigitBreaksTheMapKeys) {
  json request = ValidCreateTrainingJob();
  request["Environment"] = {{"1BAD", "x"}};
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.path, "environment");
  EXPECT_EQ(error.value, "{1BAD=x}");
  EXPECT_EQ(error.constraint,
            "Map keys must satisfy constraint: [Member must have length less than or equal to "
            "512, Member must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*]");
}

TEST(ServiceModelTest, UnknownMembersAreRefusedWhereTheyAre) {
  json request = ValidCreateTrainingJob();
  request["Bogus"] = 1;
  const ValidationError error = OnlyError(CheckCreate(request));
  EXPECT_EQ(error.path, "bogus");
  EXPECT_EQ(error.value, "1");
  EXPECT_EQ(error.constraint, "Member is not expected in the input");
  request.erase("Bogus");
  request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Prefix"] = "x";
  ExpectOnlyError(request, "inputDataConfig.1.member.dataSource.s3DataSource.s3Prefix",
                  "Member is not expected in the input");
}

TEST(ServiceModelTest, AStringWhereAnIntegerBelongsIsAnError) {
  json request = ValidCreateTrainingJob();
  request["ResourceConfig"]["InstanceCount"] = "1";
  ExpectOnlyError(request, "resourceConfig.instanceCount",
                  "STRING_VALUE can not be converted to an Integer");
  request["ResourceConfig"]["InstanceCount"] = 1.5;
  ExpectOnlyError(request, "resourceConfig.instanceCount",
                  "Member must be a whole number within the range of an Integer");
  request["ResourceConfig"]["InstanceCount"] = 2.0;  // a whole number, written as a float
  EXPECT_TRUE(CheckCreate(request).empty());
  request["ResourceConfig"]["InstanceCount"] = 4294967296LL;
  ExpectOnlyError(request, "resourceConfig.instanceCount",
                  "Member must be a whole number within the range of an Integer");
  request = ValidCreateTrainingJob();
  request["InputDataConfig"][0]["ShuffleConfig"] = {{"Seed", INT64_MAX}};
  EXPECT_TRUE(CheckCreate(request).empty());
  request["InputDataConfig"][0]["ShuffleConfig"] = {{"Seed", uint64_t{1} << 63}};
  ExpectOnlyError(request, "inputDataConfig.1.member.shuffleConfig.seed",
                  "Member must be a whole number within the range of a Long");
  request = ValidCreateTrainingJob();
  request["HyperParameters"]["epochs"] = 3;  // the classic boto3 mistake
  ExpectOnlyError(request, "hyperParameters.entry.epochs",
                  "NUMBER_VALUE can not be converted to a String");
  request = ValidCreateTrainingJob();
  request["InputDataConfig"] = "training";
  ExpectOnlyError(request, "inputDataConfig", "Expected list or null");
}

TEST(ServiceModelTest, ATagValueOutsideTheAllowedCharactersBreaksThePattern) {
  json request = ValidCreateTrainingJob();
  request["Tags"][1]["Value"] = "a,b";
  const auto errors = CheckCreate(request);
  const ValidationError error = OnlyError(errors);
  EXPECT_EQ(error.path, "tags.2.member.value");
  EXPECT_EQ(ValidationMessage(errors),
            "1 validation error detected: Value 'a,b' at 'tags.2.member.value' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            R"(^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$)");
}

TEST(ServiceModelTest, ListItemsAreNumberedFromOne) {
  json request = ValidCreateTrainingJob();
  json channel = request["InputDataConfig"][0];
  channel["ChannelName"] = "eval data";
  channel["DataSource"]["S3DataSource"]["S3DataType"] = "S3Folder";
  request["InputDataConfig"].push_back(channel);
  const auto errors = CheckCreate(request);
  ASSERT_EQ(errors.size(), 2u) << ValidationMessage(errors);
  EXPECT_EQ(errors[0].path, "inputDataConfig.2.member.channelName");
  EXPECT_EQ(errors[0].constraint,
            R"(Member must satisfy regular expression pattern: [A-Za-z0-9\.\-_]+)");
  EXPECT_EQ(errors[1].path, "inputDataConfig.2.member.dataSource.s3DataSource.s3DataType");
  request["InputDataConfig"] = json::array();
  ExpectOnlyError(request, "inputDataConfig", "Member must have length greater than or equal to 1");
}

TEST(ServiceModelTest, SeveralErrorsComeInTheModelsMemberOrder) {
  json request = ValidCreateTrainingJob();
  request["TrainingJobName"] = "bad_name";
  request["AlgorithmSpecification"]["TrainingInputMode"] = "Bogus";
  request.erase("RoleArn");
  const auto errors = CheckCreate(request);
  EXPECT_EQ(ValidationMessage(errors),
            "3 validation errors detected: Value 'bad_name' at 'trainingJobName' failed to "
            "satisfy constraint: " +
                std::string(kJobNamePattern) +
                "; Value 'Bogus' at 'algorithmSpecification.trainingInputMode' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Pipe, File, FastFile]; Value "
                "null at 'roleArn' failed to satisfy constraint: Member must not be null");
}

TEST(ServiceModelTest, AnEmptyBodyLacksEveryRequiredMember) {
  std::set<std::string> paths;
  for (const auto& error : CheckCreate(nullptr)) paths.insert(error.path);
  EXPECT_EQ(paths,
            (std::set<std::string>{"trainingJobName", "algorithmSpecification", "roleArn",
                                   "outputDataConfig", "resourceConfig", "stoppingCondition"}));
  EXPECT_EQ(OnlyError(CheckCreate(json::array())).constraint, "Expected null");
}

TEST(ServiceModelTest, MaximumLengthValuesAgainstAnyCharacterPatternsAreQuick) {
  json request = ValidCreateTrainingJob();
  request["HyperParameters"] = json::object();
  for (int i = 0; i < 100; ++i) {
    request["HyperParameters"][Numbered("p", i)] = std::string(2500, 'v');
  }
  request["Environment"] = {{"MULTILINE", std::string(255, 'x') + "\n" + std::string(256, 'y')}};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(CheckCreate(request).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // "." stops at a newline: HyperParameterValue's ".*" refuses one, [\S\s]* takes it.
  request["HyperParameters"]["p0"] = "a\nb";
  EXPECT_EQ(OnlyError(CheckCreate(request)).constraint.rfind("Map value must satisfy", 0), 0u);
}

TEST(ServiceModelTest, TimestampsAreEpochSecondsNumbers) {
  const ServiceModel& model = SageMakerModel();
  EXPECT_TRUE(
      model.ValidateInput("ListTrainingJobs", {{"CreationTimeAfter", 1700000000.5}}).empty());
  const ValidationError error = OnlyError(
      model.ValidateInput("ListTrainingJobs", {{"CreationTimeAfter", "2023-11-14T22:13:20Z"}}));
  EXPECT_EQ(error.path, "creationTimeAfter");
  EXPECT_EQ(error.constraint, "STRING_VALUE can not be converted to a Timestamp");
  EXPECT_EQ(OnlyError(model.ValidateInput("ListTrainingJobs", {{"MaxResults", 101}})).constraint,
            "Member must have value less than or equal to 100");
}

// clang-format off
json DescribeTrainingJobResponse() {
  return json::parse(R"json({
    "TrainingJobName": "digits-3fa9c1-002",
    "TrainingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/digits-3fa9c1-002",
    "ModelArtifacts": {
      "S3ModelArtifacts": "s3://trainyard-data/jobs/digits-3fa9c1-002/output/model.tar.gz"},
    "TrainingJobStatus": "Completed",
    "SecondaryStatus": "Completed",
    "HyperParameters": {"learning_rate": "0.1"},
    "AlgorithmSpecification": {
      "TrainingImage": "trainer:1.0",
      "TrainingInputMode": "File",
      "MetricDefinitions": [{"Name": "eval_accuracy", "Regex": "eval_accuracy=([0-9.]+)"}],
      "EnableSageMakerMetricsTimeSeries": false},
    "RoleArn": "arn:aws:iam::123456789012:role/trainyard-sagemaker",
    "InputDataConfig": [{
      "ChannelName": "training",
      "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://trainyard-data/datasets/ds-4f2a/",
        "S3DataDistributionType": "FullyReplicated"}},
      "CompressionType": "None",
      "RecordWrapperType": "None"}],
    "OutputDataConfig": {"KmsKeyId": "", "S3OutputPath": "s3://trainyard-data/jobs/"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "CreationTime": 1700000000.123,
    "TrainingStartTime": 1700000060.5,
    "TrainingEndTime": 1700000360,
    "LastModifiedTime": 1700000361.25,
    "SecondaryStatusTransitions": [
      {"Status": "Starting", "StartTime": 1700000000.1, "EndTime": 1700000060.5,
       "StatusMessage": "Preparing the instances for training"},
      {"Status": "Completed", "StartTime": 1700000360, "EndTime": 1700000360,
       "StatusMessage": "Training job completed"}],
    "FinalMetricDataList": [
      {"MetricName": "eval_accuracy", "Value": 0.9644, "Timestamp": 1700000350}],
    "EnableNetworkIsolation": false,
    "EnableInterContainerTrafficEncryption": false,
    "EnableManagedSpotTraining": false,
    "TrainingTimeInSeconds": 300,
    "BillableTimeInSeconds": 300,
    "ProfilingStatus": "Disabled",
    "Environment": {"TRAINYARD_JOB": "digits-3fa9c1-002"}
  })json");
}
// clang-format on

TEST(ServiceModelTest, ResponsesShapedLikeSageMakersValidateAsOutputs) {
  const ServiceModel& model = SageMakerModel();
  auto errors = model.ValidateOutput("DescribeTrainingJob", DescribeTrainingJobResponse());
  EXPECT_TRUE(errors.empty()) << ValidationMessage(errors);

  const json list = {{"TrainingJobSummaries",
                      {{{"TrainingJobName", "digits-3fa9c1-002"},
                        {"TrainingJobArn",
                         "arn:aws:sagemaker:eu-west-1:123456789012:training-job/digits-3fa9c1-002"},
                        {"CreationTime", 1700000000.123},
                        {"TrainingEndTime", 1700000360},
                        {"LastModifiedTime", 1700000361.25},
                        {"TrainingJobStatus", "Completed"}}}},
                     {"NextToken", "token-2"}};
  errors = model.ValidateOutput("ListTrainingJobs", list);
  EXPECT_TRUE(errors.empty()) << ValidationMessage(errors);
  EXPECT_TRUE(
      model
          .ValidateOutput("CreateTrainingJob",
                          {{"TrainingJobArn", list["TrainingJobSummaries"][0]["TrainingJobArn"]}})
          .empty());
  EXPECT_TRUE(model.ValidateOutput("StopTrainingJob", json::object()).empty());
  EXPECT_EQ(model.ValidateOutput("StopTrainingJob", {{"Stopped", true}}).size(), 1u);

  json broken = DescribeTrainingJobResponse();
  broken.erase("TrainingJobStatus");
  broken["SecondaryStatus"] = "Sleeping";
  broken["Extra"] = 1;
  errors = model.ValidateOutput("DescribeTrainingJob", broken);
  ASSERT_EQ(errors.size(), 3u) << ValidationMessage(errors);
  EXPECT_EQ(errors[0].path, "trainingJobStatus");
  EXPECT_EQ(errors[1].path, "secondaryStatus");
  EXPECT_EQ(errors[2].constraint, "Member is not expected in the output");
}

TEST(ServiceModelTest, LogsGetLogEventsChecksGroupNameAndLimit) {
  const ServiceModel& model = LogsModel();
  json request = {{"logGroupName", "/aws/sagemaker/TrainingJobs"},
                  {"logStreamName", "digits-3fa9c1-002/algo-1-1700000000"},
                  {"startFromHead", true},
                  {"limit", 10000}};
  auto errors = model.ValidateInput("GetLogEvents", request);
  EXPECT_TRUE(errors.empty()) << ValidationMessage(errors);

  request["logGroupName"] = "training jobs";
  ValidationError error = OnlyError(model.ValidateInput("GetLogEvents", request));
  EXPECT_EQ(error.path, "logGroupName");
  EXPECT_EQ(error.constraint,
            R"(Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+)");

  request["logGroupName"] = "/aws/sagemaker/TrainingJobs";
  request["limit"] = 0;
  EXPECT_EQ(ValidationMessage(model.ValidateInput("GetLogEvents", request)),
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1");
  request["limit"] = 10001;
  error = OnlyError(model.ValidateInput("GetLogEvents", request));
  EXPECT_EQ(error.constraint, "Member must have value less than or equal to 10000");

  request.erase("limit");
  request.erase("logStreamName");
  error = OnlyError(model.ValidateInput("GetLogEvents", request));
  EXPECT_EQ(error.path, "logStreamName");
  EXPECT_EQ(error.constraint, "Member must not be null");

  errors = model.ValidateOutput(
      "GetLogEvents",
      {{"events",
        {{{"timestamp", 1700000000123}, {"message", "epoch 1"}, {"ingestionTime", 1700000000200}}}},
       {"nextForwardToken", "f/1"},
       {"nextBackwardToken", "b/1"}});
  EXPECT_TRUE(errors.empty()) << ValidationMessage(errors);
  EXPECT_TRUE(
      model
          .ValidateInput("FilterLogEvents", {{"logGroupName", "/aws/sagemaker/TrainingJobs"},
                                             {"logStreamNames", {"a", "b"}},
                                             {"filterPattern", ""}})
          .empty());
}

TEST(ServiceModelTest, ModelsKnowTheirTargetPrefixSigningNameAndOperations) {
  EXPECT_EQ(SageMakerModel().target_prefix(), "SageMaker");
  EXPECT_EQ(SageMakerModel().signing_name(), "sagemaker");
  EXPECT_EQ(LogsModel().target_prefix(), "Logs_20140328");
  EXPECT_EQ(LogsModel().signing_name(), "logs");
  for (const char* operation :
       {"CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs", "StopTrainingJob"}) {
    EXPECT_TRUE(SageMakerModel().HasOperation(operation)) << operation;
  }
  EXPECT_TRUE(LogsModel().HasOperation("FilterLogEvents"));
  EXPECT_FALSE(SageMakerModel().HasOperation("CreateEndpoint"));  // in the model, not loaded

  const ValidationError error = OnlyError(SageMakerModel().ValidateInput("CreateEndpoint", {}));
  EXPECT_EQ(error.path, "");
  EXPECT_EQ(error.value, "CreateEndpoint");
  EXPECT_NE(error.constraint.find("SageMaker"), std::string::npos);
}

TEST(ServiceModelTest, ValidateShapeChecksANestedShape) {
  const ServiceModel& model = SageMakerModel();
  EXPECT_TRUE(model.ValidateShape("Tag", {{"Key", "team"}, {"Value", "ml"}}).empty());
  const ValidationError error = OnlyError(model.ValidateShape("Tag", {{"Key", "team"}}));
  EXPECT_EQ(error.path, "value");
  EXPECT_EQ(OnlyError(model.ValidateShape("EndpointConfig", {})).value, "EndpointConfig");
}

// The shapes an operation list reaches in a raw model, the way ServiceModel walks them.
void CollectPatterns(const json& shapes, const std::string& name, std::set<std::string>* seen,
                     std::set<std::string>* patterns) {
  if (!seen->insert(name).second) return;
  const json& shape = shapes.at(name);
  if (shape.contains("pattern")) patterns->insert(shape["pattern"].get<std::string>());
  for (const char* field : {"member", "key", "value"}) {
    if (shape.contains(field)) CollectPatterns(shapes, shape[field]["shape"], seen, patterns);
  }
  if (!shape.contains("members")) return;
  for (const auto& [member, member_json] : shape["members"].items()) {
    CollectPatterns(shapes, member_json["shape"], seen, patterns);
  }
}

std::set<std::string> ReachablePatterns(std::string_view model_json,
                                        const std::vector<std::string>& operations) {
  const json model = json::parse(model_json);
  std::set<std::string> seen;
  std::set<std::string> patterns;
  for (const auto& operation : operations) {
    for (const char* field : {"input", "output"}) {
      const json& definition = model["operations"][operation];
      if (definition.contains(field)) {
        CollectPatterns(model["shapes"], definition[field]["shape"], &seen, &patterns);
      }
    }
  }
  return patterns;
}

TEST(ServiceModelTest, EveryPatternTheOperationsReachCompiles) {
  const auto sagemaker = ReachablePatterns(
      EmbeddedSageMakerModelJson(),
      {"CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs", "StopTrainingJob"});
  const auto logs = ReachablePatterns(EmbeddedLogsModelJson(),
                                      {"DescribeLogStreams", "GetLogEvents", "FilterLogEvents"});
  EXPECT_GE(sagemaker.size(), 15u);
  EXPECT_GE(logs.size(), 3u);
  for (const auto* patterns : {&sagemaker, &logs}) {
    for (const auto& pattern : *patterns) {
      const auto compiled = JavaPattern::Compile(pattern);
      EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
    }
  }
  EXPECT_TRUE(sagemaker.count(R"(^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$)"));
  EXPECT_TRUE(sagemaker.count(R"([\S\s]*)"));
}

// Every operation of both models, so every pattern in them (152 in this botocore), loads.
TEST(ServiceModelTest, WholeModelsLoad) {
  auto sagemaker = ServiceModel::Parse(EmbeddedSageMakerModelJson());
  ASSERT_TRUE(sagemaker.ok()) << sagemaker.status().ToString();
  EXPECT_TRUE(sagemaker->HasOperation("CreateEndpoint"));
  auto logs = ServiceModel::Parse(EmbeddedLogsModelJson());
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  EXPECT_TRUE(logs->HasOperation("PutLogEvents"));
}

TEST(ServiceModelTest, ParseRefusesWhatIsNotABotocoreModel) {
  EXPECT_EQ(ServiceModel::Parse("{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ServiceModel::Parse("[]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ServiceModel::Parse(R"({"metadata":{},"operations":{"A":{"input":{"shape":1}}},
                                   "shapes":{}})")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  const auto missing = ServiceModel::Parse(EmbeddedLogsModelJson(), {"NoSuchOperation"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("NoSuchOperation"), std::string::npos);
  const auto bad_pattern = ServiceModel::Parse(
      R"({"metadata":{"targetPrefix":"T"},"operations":{"Op":{"input":{"shape":"In"}}},
          "shapes":{"In":{"type":"structure","members":{"A":{"shape":"S"}}},
                    "S":{"type":"string","pattern":"(unclosed"}}})");
  ASSERT_FALSE(bad_pattern.ok());
  EXPECT_NE(bad_pattern.status().message().find("(unclosed"), std::string::npos);
}

TEST(ServiceModelTest, ValidationIsThreadSafe) {
  const json request = ValidCreateTrainingJob();
  json bad = request;
  bad["TrainingJobName"] = "bad_name";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!CheckCreate(request).empty() || CheckCreate(bad).size() != 1) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace trainyard::aws
