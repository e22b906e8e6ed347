#include "core/sagemaker_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace trainyard::core {
namespace {

void ExpectInvalid(const Status& status, const std::string& message) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(status.message(), message);
}

TEST(SageMakerLimitsTest, TrainingJobName) {
  EXPECT_TRUE(ValidateTrainingJobName("a").ok());
  EXPECT_TRUE(ValidateTrainingJobName("my-job--2").ok());
  EXPECT_TRUE(ValidateTrainingJobName(std::string(63, 'x')).ok());
  ExpectInvalid(
      ValidateTrainingJobName(std::string(64, 'x')),
      "training job name '" + std::string(64, 'x') + "': it is 64 characters, the limit is 63");
  ExpectInvalid(ValidateTrainingJobName(""),
                "training job name is empty: it needs 1 to 63 characters");
  ExpectInvalid(ValidateTrainingJobName("a_b"),
                "training job name 'a_b': must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, "
                "digits and hyphens, starting and ending with a letter or digit)");
  for (const char* bad : {"-a", "a-", "a.b", "a b", "é"}) {
    EXPECT_FALSE(ValidateTrainingJobName(bad).ok()) << bad;
  }
}

TEST(SageMakerLimitsTest, HyperparameterCount) {
  HyperparameterMap map;
  for (int i = 0; i < 100; ++i) map["k" + std::to_string(i)] = "v";
  EXPECT_TRUE(ValidateHyperparameters(map).ok());
  map["one-more"] = "v";
  ExpectInvalid(ValidateHyperparameters(map), "hyperparameters: 101 entries, the limit is 100");
}

TEST(SageMakerLimitsTest, HyperparameterKeyLength) {
  EXPECT_TRUE(ValidateHyperparameter(std::string(256, 'k'), "v").ok());
  ExpectInvalid(ValidateHyperparameter(std::string(257, 'k'), "v"),
                "hyperparameter '" + std::string(64, 'k') +
                    "...': the name is 257 characters, the limit is 256");
  // Characters, not bytes: 256 two-byte characters are within the limit.
  std::string wide;
  for (int i = 0; i < 256; ++i) wide += "é";
  EXPECT_TRUE(ValidateHyperparameter(wide, "v").ok());
  ExpectInvalid(ValidateHyperparameter("", "v"), "hyperparameter '': the name is empty");
}

TEST(SageMakerLimitsTest, HyperparameterValueLength) {
  EXPECT_TRUE(ValidateHyperparameter("learning_rate", std::string(2500, '1')).ok());
  ExpectInvalid(ValidateHyperparameter("learning_rate", std::string(2501, '1')),
                "hyperparameter 'learning_rate': value is 2501 characters, the limit is 2500");
  ExpectInvalid(ValidateHyperparameter("learning_rate", std::string(2600, '1')),
                "hyperparameter 'learning_rate': value is 2600 characters, the limit is 2500");
  std::string wide;
  for (int i = 0; i < 2500; ++i) wide += "中";
  EXPECT_TRUE(ValidateHyperparameter("k", wide).ok());
  EXPECT_TRUE(ValidateHyperparameter("k", "").ok());
}

TEST(SageMakerLimitsTest, HyperparameterLineBreaksAndEncoding) {
  ExpectInvalid(ValidateHyperparameter("config", "{\n}"),
                "hyperparameter 'config': the value holds a line break, which SageMaker's "
                "pattern .* does not match (JSON values can be written on one line)");
  EXPECT_FALSE(ValidateHyperparameter("config", "a\rb").ok());
  EXPECT_FALSE(ValidateHyperparameter("config", "a\u2028b").ok());
  EXPECT_FALSE(ValidateHyperparameter("two\nlines", "v").ok());
  EXPECT_TRUE(ValidateHyperparameter("tabs", "a\tb").ok());
  ExpectInvalid(ValidateHyperparameter("k", "\xff"),
                "hyperparameter 'k': the value is not valid UTF-8");
}

TEST(SageMakerLimitsTest, ChannelName) {
  EXPECT_TRUE(ValidateChannelName("training").ok());
  EXPECT_TRUE(ValidateChannelName("a.b-c_D9").ok());
  EXPECT_TRUE(ValidateChannelName(std::string(64, 'c')).ok());
  ExpectInvalid(
      ValidateChannelName(std::string(65, 'c')),
      "channel '" + std::string(64, 'c') + "...': the name is 65 characters, the limit is 64");
  ExpectInvalid(ValidateChannelName("my data"),
                "channel 'my data': the name must match [A-Za-z0-9\\.\\-_]+ (letters, digits, "
                "'.', '-' and '_')");
  ExpectInvalid(ValidateChannelName(""), "channel name is empty: it needs 1 to 64 characters");
  EXPECT_FALSE(ValidateChannelName("a/b").ok());
  ExpectInvalid(ValidateChannelName(".."),
                "channel '..': '.' and '..' cannot name a channel's directory");
  EXPECT_FALSE(ValidateChannelName(".").ok());
  EXPECT_TRUE(ValidateChannelName("..data").ok());
}

TEST(SageMakerLimitsTest, ChannelCount) {
  EXPECT_TRUE(ValidateChannelCount(1).ok());
  EXPECT_TRUE(ValidateChannelCount(20).ok());
  ExpectInvalid(ValidateChannelCount(21), "channels: 21 given, a training job takes 1 to 20");
  ExpectInvalid(ValidateChannelCount(0), "channels: 0 given, a training job takes 1 to 20");
}

TEST(SageMakerLimitsTest, EnvironmentCount) {
  std::map<std::string, std::string> environment;
  for (int i = 0; i < 48; ++i) environment["V" + std::to_string(i)] = "x";
  EXPECT_TRUE(ValidateEnvironment(environment).ok());
  environment["ONE_MORE"] = "x";
  ExpectInvalid(ValidateEnvironment(environment), "environment: 49 variables, the limit is 48");
}

TEST(SageMakerLimitsTest, EnvironmentNames) {
  EXPECT_TRUE(ValidateEnvironment({{"_a1", "x"}, {"FOO", "bar"}}).ok());
  EXPECT_TRUE(ValidateEnvironment({{std::string(512, 'K'), "x"}}).ok());
  ExpectInvalid(ValidateEnvironment({{std::string(513, 'K'), "x"}}),
                "environment variable '" + std::string(64, 'K') +
                    "...': the name is 513 characters, the limit is 512");
  ExpectInvalid(ValidateEnvironment({{"1A", "x"}}),
                "environment variable '1A': the name must match [a-zA-Z_][a-zA-Z0-9_]* (letters, "
                "digits and '_', not starting with a digit)");
  EXPECT_FALSE(ValidateEnvironment({{"", "x"}}).ok());
  EXPECT_FALSE(ValidateEnvironment({{"A-B", "x"}}).ok());
}

TEST(SageMakerLimitsTest, EnvironmentValues) {
  EXPECT_TRUE(ValidateEnvironment({{"FOO", std::string(512, 'v')}}).ok());
  EXPECT_TRUE(ValidateEnvironment({{"FOO", "two\nlines"}}).ok());  // pattern [\S\s]*
  ExpectInvalid(ValidateEnvironment({{"FOO", std::string(513, 'v')}}),
                "environment variable 'FOO': value is 513 characters, the limit is 512");
  ExpectInvalid(ValidateEnvironment({{"FOO", "\xc3"}}),
                "environment variable 'FOO': the value is not valid UTF-8");
}

TEST(SageMakerLimitsTest, MaxRuntime) {
  EXPECT_TRUE(ValidateMaxRuntimeSeconds(1).ok());
  EXPECT_TRUE(ValidateMaxRuntimeSeconds(kDefaultMaxRuntimeSeconds).ok());
  EXPECT_TRUE(ValidateMaxRuntimeSeconds(2419200).ok());
  ExpectInvalid(ValidateMaxRuntimeSeconds(2419201),
                "max runtime: 2419201 seconds, the limit is 2419200 (28 days)");
  ExpectInvalid(ValidateMaxRuntimeSeconds(0), "max runtime: 0 seconds, it must be at least 1");
  EXPECT_FALSE(ValidateMaxRuntimeSeconds(-5).ok());
  EXPECT_EQ(kDefaultMaxRuntimeSeconds, 86400);
}

}  // namespace
}  // namespace trainyard::core
