// Unit tests of the example trainer's math, data loading and job.json parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "digits_csv.h"
#include "job_config.h"
#include "minibatch_sampler.h"
#include "softmax_model.h"
#include "training_job.h"

namespace trainyard::example {
namespace {

const std::filesystem::path kDigitsDir = EXAMPLE_DIGITS_DIR;

SoftmaxModel RandomModel(unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<double> weight(0.0, 0.5);
  SoftmaxModel model;
  for (auto& row : model.weights) {
    for (double& value : row) value = weight(random);
  }
  for (double& value : model.bias) value = weight(random);
  return model;
}

std::vector<std::size_t> AllRows(const DigitsDataset& dataset) {
  std::vector<std::size_t> rows(dataset.size());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  return rows;
}

std::filesystem::path WriteTempFile(const std::string& name, const std::string& content) {
  const auto path =
      std::filesystem::temp_directory_path() /
      (std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" + name);
  std::ofstream(path) << content;
  return path;
}

TEST(SoftmaxModelTest, ZeroWeightsGiveUniformProbabilitiesAndLossLn10) {
  const DigitsDataset dataset = LoadDigitsCsv(kDigitsDir / "eval.csv");
  const EvaluationMetrics metrics = Evaluate(SoftmaxModel{}, dataset);
  EXPECT_NEAR(metrics.loss, std::log(10.0), 1e-12);
  for (double probability : ClassProbabilities(SoftmaxModel{}, dataset.features[0])) {
    EXPECT_DOUBLE_EQ(probability, 0.1);
  }
}

TEST(SoftmaxModelTest, GradientMatchesFiniteDifferences) {
  DigitsDataset dataset = LoadDigitsCsv(kDigitsDir / "train.csv");
  dataset.features.resize(7);
  dataset.labels.resize(7);
  const auto batch = AllRows(dataset);
  const SoftmaxModel model = RandomModel(42);
  const LossGradient analytic = ComputeLossGradient(model, dataset, batch);

  constexpr double kStep = 1e-6;
  auto numeric_derivative = [&](auto&& parameter_of) {
    SoftmaxModel plus = model, minus = model;
    parameter_of(plus) += kStep;
    parameter_of(minus) -= kStep;
    return (ComputeLossGradient(plus, dataset, batch).loss -
            ComputeLossGradient(minus, dataset, batch).loss) /
           (2 * kStep);
  };
  for (int k = 0; k < kDigitClasses; ++k) {
    EXPECT_NEAR(analytic.bias[k],
                numeric_derivative([k](SoftmaxModel& m) -> double& { return m.bias[k]; }), 1e-7)
        << "bias " << k;
    for (int j = 0; j < kDigitFeatures; ++j) {
      EXPECT_NEAR(
          analytic.weights[k][j],
          numeric_derivative([k, j](SoftmaxModel& m) -> double& { return m.weights[k][j]; }), 1e-7)
          << "weight " << k << "," << j;
    }
  }
}

TEST(SoftmaxModelTest, LossFallsOverAFewHundredStepsOnTrainCsv) {
  const DigitsDataset training = LoadDigitsCsv(kDigitsDir / "train.csv");
  ASSERT_EQ(training.size(), 1000u);
  SoftmaxModel model;
  MinibatchSampler sampler(training.size(), 1);
  std::vector<double> losses{Evaluate(model, training).loss};
  for (int step = 1; step <= 300; ++step) {
    ApplyGradient(model, ComputeLossGradient(model, training, sampler.Next(32)), 0.1);
    if (step % 100 == 0) losses.push_back(Evaluate(model, training).loss);
  }
  for (std::size_t i = 1; i < losses.size(); ++i) EXPECT_LT(losses[i], losses[i - 1]);
  EXPECT_LT(losses.back(), 0.5 * losses.front());
  EXPECT_GT(Evaluate(model, training).accuracy, 0.85);
}

TEST(SoftmaxModelTest, ModelJsonRoundTripIsExact) {
  SoftmaxModel model = RandomModel(7);
  model.trained_steps = 1234;
  const auto json = ModelToJson(model);
  EXPECT_EQ(json["format"], kModelFormat);
  const SoftmaxModel reread = ModelFromJson(nlohmann::json::parse(json.dump()));
  EXPECT_EQ(reread.weights, model.weights);
  EXPECT_EQ(reread.bias, model.bias);
  EXPECT_EQ(reread.trained_steps, 1234);
}

TEST(SoftmaxModelTest, ModelFromJsonRejectsWrongFormatAndShape) {
  auto json = nlohmann::json::parse(ModelToJson(SoftmaxModel{}).dump());
  auto wrong_format = json;
  wrong_format["format"] = "something/v2";
  EXPECT_THROW(ModelFromJson(wrong_format), std::runtime_error);
  auto short_row = json;
  short_row["weights"][3].erase(0);
  EXPECT_THROW(ModelFromJson(short_row), std::runtime_error);
  auto no_bias = json;
  no_bias.erase("bias");
  EXPECT_THROW(ModelFromJson(no_bias), std::runtime_error);
}

TEST(SoftmaxModelTest, ShippedPretrainedModelLoadsAndBeatsZeros) {
  const SoftmaxModel pretrained =
      ModelFromJson(ReadJsonFile(kDigitsDir / "pretrained" / "model.json"));
  const DigitsDataset training = LoadDigitsCsv(kDigitsDir / "train.csv");
  EXPECT_LT(Evaluate(pretrained, training).loss, Evaluate(SoftmaxModel{}, training).loss);
}

TEST(DigitsCsvTest, SplitFilesHaveTheDocumentedRowCounts) {
  EXPECT_EQ(LoadDigitsCsv(kDigitsDir / "pretrain.csv").size(), 400u);
  EXPECT_EQ(LoadDigitsCsv(kDigitsDir / "train.csv").size(), 1000u);
  EXPECT_EQ(LoadDigitsCsv(kDigitsDir / "eval.csv").size(), 397u);
}

TEST(DigitsCsvTest, ScalesPixelsAndSkipsBlankLinesAndCarriageReturns) {
  std::string row;
  for (int i = 0; i < kDigitFeatures; ++i) row += (i == 0 ? "16" : "0") + std::string(",");
  const auto path = WriteTempFile("ok.csv", row + "7\r\n\r\n" + row + "3\n");
  const DigitsDataset dataset = LoadDigitsCsv(path);
  std::filesystem::remove(path);
  ASSERT_EQ(dataset.size(), 2u);
  EXPECT_EQ(dataset.labels[0], 7);
  EXPECT_EQ(dataset.labels[1], 3);
  EXPECT_DOUBLE_EQ(dataset.features[0][0], 1.0);
  EXPECT_DOUBLE_EQ(dataset.features[0][1], 0.0);
}

TEST(DigitsCsvTest, MalformedLineErrorNamesFileAndLine) {
  std::string good_row;
  for (int i = 0; i < kDigitFeatures; ++i) good_row += "1,";
  const auto path = WriteTempFile("bad.csv", good_row + "5\n" + good_row + "12\n");
  try {
    LoadDigitsCsv(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path.string() + ":2:"), std::string::npos)
        << error.what();
  }
  std::filesystem::remove(path);
}

TEST(HyperparametersTest, DefaultsWhenAbsent) {
  const Hyperparameters parsed = ParseHyperparameters(nlohmann::json::object());
  EXPECT_DOUBLE_EQ(parsed.learning_rate, 0.1);
  EXPECT_EQ(parsed.batch_size, 32);
  EXPECT_EQ(parsed.iterations, 200);
  EXPECT_EQ(parsed.seed, 1u);
}

TEST(HyperparametersTest, AcceptsIntegersFloatsAndNumericStrings) {
  const Hyperparameters parsed = ParseHyperparameters(
      {{"learning_rate", "0.05"}, {"batch_size", 16.0}, {"iterations", "300"}, {"seed", 9}});
  EXPECT_DOUBLE_EQ(parsed.learning_rate, 0.05);
  EXPECT_EQ(parsed.batch_size, 16);
  EXPECT_EQ(parsed.iterations, 300);
  EXPECT_EQ(parsed.seed, 9u);
  EXPECT_DOUBLE_EQ(ParseHyperparameters({{"learning_rate", 1}}).learning_rate, 1.0);
}

TEST(HyperparametersTest, RejectsBadValuesNamingTheHyperparameter) {
  const std::vector<nlohmann::json> bad = {
      {{"learning_rate", 0}}, {{"learning_rate", "fast"}}, {{"learning_rate", -0.1}},
      {{"batch_size", 0}},    {{"batch_size", 2.5}},       {{"batch_size", "32x"}},
      {{"iterations", -1}},   {{"iterations", true}},      {{"iterations", nullptr}},
      {{"batch_size", 1e12}},
  };
  for (const auto& hyperparameters : bad) {
    const std::string name = hyperparameters.begin().key();
    try {
      ParseHyperparameters(hyperparameters);
      ADD_FAILURE() << "accepted " << hyperparameters.dump();
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("'" + name + "'"), std::string::npos)
          << error.what();
    }
  }
}

TEST(JobConfigTest, ResolvesChannelFilesAgainstDirAndSortsThem) {
  const auto config = ParseJobConfig({
      {"model_dir", "/tmp/model"},
      {"channels", {{"training", {{"dir", "/data/train"}, {"files", {"part2/b.csv", "a.csv"}}}}}},
  });
  ASSERT_TRUE(config.training.has_value());
  EXPECT_FALSE(config.evaluation.has_value());
  EXPECT_EQ(config.training->files,
            (std::vector<std::filesystem::path>{"/data/train/a.csv", "/data/train/part2/b.csv"}));
  EXPECT_TRUE(config.progress_file.empty());
}

TEST(MinibatchSamplerTest, SameSeedSameBatchesAndEveryRowOncePerEpoch) {
  MinibatchSampler first(10, 5), second(10, 5);
  std::multiset<std::size_t> epoch_rows;
  for (int batch = 0; batch < 3; ++batch) {  // batches of 4, 4, then the 2 left in the epoch
    const auto a = first.Next(4);
    const auto b = second.Next(4);
    ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    epoch_rows.insert(a.begin(), a.end());
  }
  EXPECT_EQ(epoch_rows, (std::multiset<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_DOUBLE_EQ(first.epochs(), 1.0);
  EXPECT_EQ(first.Next(4).size(), 4u);
}

// A run that resumes from a checkpoint continues the iteration count and ends with the very model
// an unbroken run of as many iterations gives (the batches come from the seed): resuming costs
// only the iterations not yet trained.
TEST(TrainingJobTest, AResumedRunEndsWithTheModelOfAnUnbrokenRun) {
  const auto root = std::filesystem::temp_directory_path() /
                    ("resume-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(root);
  auto config_for = [&](const std::string& name, int iterations) {
    JobConfig config;
    config.hyperparameters.iterations = iterations;
    config.hyperparameters.batch_size = 8;
    config.training = Channel{"training", kDigitsDir, {kDigitsDir / "train.csv"}};
    config.model_dir = root / name / "model";
    config.checkpoint_dir = root / name / "checkpoints";
    return config;
  };
  const volatile std::sig_atomic_t no_stop = 0;
  ASSERT_EQ(RunTrainingJob(config_for("unbroken", 40), no_stop), 0);
  JobConfig first = config_for("resumed", 15);
  ASSERT_EQ(RunTrainingJob(first, no_stop), 0);
  const auto checkpoint = ReadJsonFile(first.checkpoint_dir / "checkpoint.json");
  EXPECT_EQ(checkpoint["iteration"], 15);

  JobConfig second = config_for("resumed", 40);
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(RunTrainingJob(second, no_stop), 0);
  const std::string output = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(output.find("resuming from iteration 15"), std::string::npos) << output;
  EXPECT_EQ(output.find("step=0/"), std::string::npos) << "the count continues: " << output;
  EXPECT_NE(output.find("step=15/40"), std::string::npos) << output;
  EXPECT_EQ(ReadJsonFile(root / "resumed" / "model" / "model.json"),
            ReadJsonFile(root / "unbroken" / "model" / "model.json"));
  EXPECT_EQ(ReadJsonFile(second.checkpoint_dir / "checkpoint.json")["iteration"], 40);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace trainyard::example
