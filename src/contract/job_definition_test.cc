#include "contract/job_definition.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::contract {
namespace {
using nlohmann::json;
using testing::TempDir;

JobDefinition SampleJob() {
  JobDefinition job;
  job.job_name = "digits-001";
  job.hyperparameters = {{"learning_rate", "0.1"}, {"batch_size", "32"}, {"name", "\"x\""}};
  job.channels = {{"training", "text/csv"}, {"evaluation", ""}};
  job.resources.instance_type = "ml.m4.xlarge";
  job.resources.volume_size_gb = 50;
  job.metric_definitions = {{"loss", "loss=([0-9.]+)"}};
  job.environment = {{"FOO", "bar"}};
  job.max_runtime_seconds = 3600;
  return job;
}

json ReadJson(const std::filesystem::path& path) {
  return json::parse(*ReadFile(path));
}

TEST(JobDefinitionTest, RoundTripsEveryField) {
  TempDir dir;
  MlRoot root(dir.path());
  JobDefinition job = SampleJob();
  ASSERT_TRUE(WriteConfigFiles(root, job).ok());

  auto read = ReadConfigFiles(root);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->job_name, "digits-001");
  EXPECT_EQ(read->hyperparameters, job.hyperparameters);
  ASSERT_EQ(read->channels.size(), 2u);
  EXPECT_EQ(read->channels[0].name, "evaluation");  // JSON objects come back sorted
  EXPECT_EQ(read->channels[1].content_type, "text/csv");
  EXPECT_EQ(read->resources.instance_type, "ml.m4.xlarge");
  EXPECT_EQ(read->resources.volume_size_gb, 50);
  ASSERT_EQ(read->metric_definitions.size(), 1u);
  EXPECT_EQ(read->metric_definitions[0].regex, "loss=([0-9.]+)");
  EXPECT_EQ(read->environment.at("FOO"), "bar");
  EXPECT_EQ(read->max_runtime_seconds, 3600);
}

TEST(JobDefinitionTest, LaysOutTheWholeTree) {
  TempDir dir;
  MlRoot root(dir.path());
  ASSERT_TRUE(WriteConfigFiles(root, SampleJob()).ok());
  for (const auto& path :
       {root.channel_dir("training"), root.channel_dir("evaluation"), root.model_dir(),
        root.output_data_dir(), root.checkpoint_dir(), root.code_dir()}) {
    EXPECT_TRUE(std::filesystem::is_directory(path)) << path;
  }
}

TEST(JobDefinitionTest, WritesTheFilesAsSageMakerDoes) {
  TempDir dir;
  MlRoot root(dir.path());
  ASSERT_TRUE(WriteConfigFiles(root, SampleJob()).ok());

  json hyperparameters = ReadJson(root.hyperparameters_file());
  for (const auto& [key, value] : hyperparameters.items()) EXPECT_TRUE(value.is_string()) << key;

  json input = ReadJson(root.input_data_config_file());
  EXPECT_EQ(input["training"]["S3DistributionType"], "FullyReplicated");
  EXPECT_EQ(input["training"]["TrainingInputMode"], "File");
  EXPECT_EQ(input["training"]["RecordWrapperType"], "None");
  EXPECT_EQ(input["training"]["ContentType"], "text/csv");
  EXPECT_FALSE(input["evaluation"].contains("ContentType"));

  json resource = ReadJson(root.resource_config_file());
  EXPECT_EQ(resource["current_host"], "algo-1");
  EXPECT_EQ(resource["current_group_name"], "homogeneousCluster");
  EXPECT_EQ(resource["current_instance_group"], "homogeneousCluster");
  EXPECT_EQ(resource["instance_groups"][0]["hosts"], json::array({"algo-1"}));
  EXPECT_EQ(resource["instance_groups"][0]["instance_type"], "ml.m4.xlarge");

  json request = ReadJson(root.training_job_config_file());
  EXPECT_EQ(request["TrainingJobName"], "digits-001");
  EXPECT_EQ(request["ResourceConfig"]["VolumeSizeInGB"], 50);
  EXPECT_EQ(request["StoppingCondition"]["MaxRuntimeInSeconds"], 3600);
  EXPECT_EQ(request["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"], "loss");

  json metrics = ReadJson(root.metric_definitions_file());
  EXPECT_EQ(metrics, json::parse(R"J([{"Name": "loss", "Regex": "loss=([0-9.]+)"}])J"));
}

TEST(JobDefinitionTest, MissingOptionalFilesGiveDefaults) {
  TempDir dir;
  MlRoot root(dir.path());
  auto read = ReadConfigFiles(root);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->hyperparameters.empty());
  EXPECT_EQ(read->resources.current_host, "algo-1");
  EXPECT_TRUE(read->metric_definitions.empty());
}

TEST(JobDefinitionTest, MalformedFileNamesTheFile) {
  TempDir dir;
  MlRoot root(dir.path());
  ASSERT_TRUE(MakeDirectories(root.input_config_dir()).ok());
  ASSERT_TRUE(WriteFileAtomic(root.hyperparameters_file(), "{not json").ok());
  auto read = ReadConfigFiles(root);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("hyperparameters.json"), std::string::npos);
}

TEST(JobDefinitionTest, NonStringHyperparametersAreEncodedAsSageMakerWould) {
  TempDir dir;
  MlRoot root(dir.path());
  ASSERT_TRUE(MakeDirectories(root.input_config_dir()).ok());
  ASSERT_TRUE(WriteFileAtomic(root.hyperparameters_file(), R"({"epochs": 5, "tag": "a"})").ok());
  auto read = ReadConfigFiles(root);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->hyperparameters.at("epochs"), "5");
  EXPECT_EQ(read->hyperparameters.at("tag"), "a");
}

}  // namespace
}  // namespace trainyard::contract
