#include "contract/script_mode_environment.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace trainyard::contract {
namespace {
using nlohmann::json;

class ScriptModeEnvironmentTest : public ::testing::Test {
 protected:
  ScriptModeEnvironmentTest() {
    job.job_name = "job-1";
    job.hyperparameters = {{"learning_rate", "0.1"},
                           {"epochs", "5"},
                           {"optimizer", "\"adam\""},
                           {"flag", "true"},
                           {"sagemaker_program", "\"train.py\""},
                           {"batch-size", "32"}};
    job.channels = {{"training", ""}, {"evaluation", ""}};
    environment = BuildScriptModeEnvironment(root, job, {.num_gpus = 0, .num_cpus = 4}, "train.py");
  }
  MlRoot root{"/opt/ml"};
  JobDefinition job;
  std::map<std::string, std::string> environment;
};

TEST_F(ScriptModeEnvironmentTest, PathsAndHost) {
  EXPECT_EQ(environment["SM_MODEL_DIR"], "/opt/ml/model");
  EXPECT_EQ(environment["SM_OUTPUT_DIR"], "/opt/ml/output");
  EXPECT_EQ(environment["SM_OUTPUT_DATA_DIR"], "/opt/ml/output/data");
  EXPECT_EQ(environment["SM_INPUT_DIR"], "/opt/ml/input");
  EXPECT_EQ(environment["SM_INPUT_CONFIG_DIR"], "/opt/ml/input/config");
  EXPECT_EQ(environment["SM_CHANNEL_TRAINING"], "/opt/ml/input/data/training");
  EXPECT_EQ(environment["SM_CHANNEL_EVALUATION"], "/opt/ml/input/data/evaluation");
  EXPECT_EQ(environment["SM_CHANNELS"], R"(["evaluation","training"])");
  EXPECT_EQ(environment["SM_CURRENT_HOST"], "algo-1");
  EXPECT_EQ(environment["SM_HOSTS"], R"(["algo-1"])");
  EXPECT_EQ(environment["SM_NUM_GPUS"], "0");
  EXPECT_EQ(environment["SM_NUM_CPUS"], "4");
  EXPECT_EQ(environment["SM_NETWORK_INTERFACE_NAME"], "eth0");
  EXPECT_EQ(environment["CURRENT_HOST"], "algo-1");
  EXPECT_EQ(environment["TRAINING_JOB_NAME"], "job-1");
  EXPECT_EQ(environment["SM_USER_ENTRY_POINT"], "train.py");
  EXPECT_EQ(environment["SM_MODULE_NAME"], "train");
  EXPECT_EQ(environment["SM_MODULE_DIR"], "/opt/ml/code");
  EXPECT_EQ(environment["SM_LOG_LEVEL"], "20");
}

TEST_F(ScriptModeEnvironmentTest, HyperparametersUseTheToolkitEncoding) {
  // Strings as they are, anything else compact JSON; keys upper-cased, dashes kept.
  EXPECT_EQ(environment["SM_HP_LEARNING_RATE"], "0.1");
  EXPECT_EQ(environment["SM_HP_EPOCHS"], "5");
  EXPECT_EQ(environment["SM_HP_OPTIMIZER"], "adam");
  EXPECT_EQ(environment["SM_HP_FLAG"], "true");
  EXPECT_EQ(environment["SM_HP_BATCH-SIZE"], "32");
  EXPECT_EQ(environment.count("SM_HP_SAGEMAKER_PROGRAM"), 0u);
  EXPECT_EQ(json::parse(environment["SM_HPS"]),
            json::parse(R"({"batch-size":32,"epochs":5,"flag":true,"learning_rate":0.1,
                            "optimizer":"adam"})"));
  EXPECT_EQ(json::parse(environment["SM_FRAMEWORK_PARAMS"]),
            json::parse(R"({"sagemaker_program":"train.py"})"));
  EXPECT_EQ(json::parse(environment["SM_USER_ARGS"]),
            json::parse(R"(["--batch-size","32","--epochs","5","--flag","True",
                            "--learning_rate","0.1","--optimizer","adam"])"));
}

TEST_F(ScriptModeEnvironmentTest, ConfigsAndTrainingEnvAreJson) {
  json resource = json::parse(environment["SM_RESOURCE_CONFIG"]);
  EXPECT_EQ(resource["current_instance_group"], "homogeneousCluster");
  json input = json::parse(environment["SM_INPUT_DATA_CONFIG"]);
  EXPECT_EQ(input["training"]["TrainingInputMode"], "File");
  json training_env = json::parse(environment["SM_TRAINING_ENV"]);
  EXPECT_EQ(training_env["job_name"], "job-1");
  EXPECT_EQ(training_env["channel_input_dirs"]["training"], "/opt/ml/input/data/training");
  EXPECT_EQ(training_env["hyperparameters"]["epochs"], 5);
  // Compact JSON with sorted keys, as json.dumps(sort_keys=True, separators=(",", ":")).
  EXPECT_EQ(environment["SM_TRAINING_ENV"].find(": "), std::string::npos);
  EXPECT_EQ(environment["SM_TRAINING_ENV"].rfind("{\"additional_framework_parameters\"", 0), 0u);
}

}  // namespace
}  // namespace trainyard::contract
