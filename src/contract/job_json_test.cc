#include "contract/job_json.h"

#include <gtest/gtest.h>

namespace trainyard::contract {
namespace {
using nlohmann::json;

TEST(JobJsonTest, CarriesTypedAndRawHyperparametersAndEveryPath) {
  MlRoot root("/opt/ml");
  JobDefinition job;
  job.job_name = "digits-001";
  job.hyperparameters = {{"learning_rate", "0.1"},
                         {"batch_size", "32"},
                         {"optimizer", "adam"},
                         {"layers", "[64, 32]"}};
  job.channels = {{"training", "text/csv"}, {"pretrained", ""}};
  job.environment = {{"FOO", "bar"}};
  std::map<std::string, ChannelContents> contents = {
      {"training", {{"data/train.csv"}, {"abc.zip"}}}};

  json document = BuildJobJson(root, job, contents, {.num_gpus = 2, .num_cpus = 8});
  EXPECT_EQ(document["schema"], "trainyard.job/v1");
  EXPECT_EQ(document["job_name"], "digits-001");
  EXPECT_EQ(document["hyperparameters"]["learning_rate"], 0.1);
  EXPECT_EQ(document["hyperparameters"]["batch_size"], 32);
  EXPECT_EQ(document["hyperparameters"]["optimizer"], "adam");
  EXPECT_EQ(document["hyperparameters"]["layers"], json::array({64, 32}));
  EXPECT_EQ(document["hyperparameters_raw"]["learning_rate"], "0.1");
  EXPECT_EQ(document["channels"]["training"]["dir"], "/opt/ml/input/data/training");
  EXPECT_EQ(document["channels"]["training"]["files"], json::array({"data/train.csv"}));
  EXPECT_EQ(document["channels"]["training"]["content_type"], "text/csv");
  EXPECT_EQ(document["channels"]["training"]["unpacked_archives"], json::array({"abc.zip"}));
  EXPECT_EQ(document["channels"]["pretrained"]["files"], json::array());
  EXPECT_FALSE(document["channels"]["pretrained"].contains("content_type"));
  EXPECT_EQ(document["model_dir"], "/opt/ml/model");
  EXPECT_EQ(document["output_dir"], "/opt/ml/output/data");
  EXPECT_EQ(document["checkpoint_dir"], "/opt/ml/checkpoints");
  EXPECT_EQ(document["progress_file"], "/opt/ml/output/progress.jsonl");
  EXPECT_EQ(document["resources"]["num_gpus"], 2);
  EXPECT_EQ(document["resources"]["num_cpus"], 8);
  EXPECT_EQ(document["resources"]["current_host"], "algo-1");
  EXPECT_EQ(document["environment"]["FOO"], "bar");
}

}  // namespace
}  // namespace trainyard::contract
