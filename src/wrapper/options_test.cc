#include "wrapper/options.h"

#include <gtest/gtest.h>

namespace trainyard::wrapper {
namespace {

TEST(WrapperOptionsTest, AcceptsSageMakersTrainAndACommandAfterDashes) {
  auto options = ParseWrapperOptions({"train", "--grace-period", "7", "--", "python3", "x.py"}, {});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->command, (std::vector<std::string>{"python3", "x.py"}));
  EXPECT_EQ(options->grace_period.count(), 7000);
  EXPECT_EQ(options->ml_root, "/opt/ml");
}

TEST(WrapperOptionsTest, FirstPositionalStartsTheCommand) {
  auto options = ParseWrapperOptions({"python3", "--verbose"}, {});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->command, (std::vector<std::string>{"python3", "--verbose"}));
}

TEST(WrapperOptionsTest, ReadsTheEnvironment) {
  auto options = ParseWrapperOptions({}, {{"TRAINYARD_ML_ROOT", "/tmp/root"},
                                          {"TRAINYARD_COMMAND", "echo hi"},
                                          {"TRAINYARD_CALLBACK_URL", "http://x"},
                                          {"TRAINYARD_JOB_TOKEN", "secret"},
                                          {"TRAINYARD_PROGRESS_INTERVAL_SECONDS", "0.5"},
                                          {"TRAINYARD_UNPACK_MAX_BYTES", "1024"},
                                          {"SAGEMAKER_PROGRAM", "train.py"}});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->ml_root, "/tmp/root");
  EXPECT_EQ(options->command_from_environment, "echo hi");
  EXPECT_EQ(options->callback_url, "http://x");
  EXPECT_EQ(options->job_token, "secret");
  EXPECT_EQ(options->progress_interval.count(), 500);
  EXPECT_EQ(options->unpack_limits.max_total_bytes, 1024u);
  EXPECT_EQ(options->sagemaker_program, "train.py");
}

// A proxy for http:// URLs (as libcurl reads them) sends the reports through libcurl.
TEST(WrapperOptionsTest, AnHttpProxyIsNoticed) {
  EXPECT_FALSE(ParseWrapperOptions({}, {})->callback_through_proxy);
  EXPECT_FALSE(ParseWrapperOptions({}, {{"https_proxy", "http://p:3128"}, {"http_proxy", ""}})
                   ->callback_through_proxy);
  for (const char* name : {"http_proxy", "all_proxy", "ALL_PROXY"}) {
    EXPECT_TRUE(ParseWrapperOptions({}, {{name, "http://p:3128"}})->callback_through_proxy) << name;
  }
}

TEST(WrapperOptionsTest, TheExpansionRatioIsSetOrTurnedOff) {
  EXPECT_EQ(ParseWrapperOptions({}, {})->unpack_limits.max_expansion_ratio, 100u);
  auto set = ParseWrapperOptions({}, {{"TRAINYARD_UNPACK_MAX_RATIO", "500"}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->unpack_limits.max_expansion_ratio, 500u);
  auto off = ParseWrapperOptions({}, {{"TRAINYARD_UNPACK_MAX_RATIO", "0"}});
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->unpack_limits.max_expansion_ratio, 0u);
  auto bad = ParseWrapperOptions({}, {{"TRAINYARD_UNPACK_MAX_RATIO", "lots"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("TRAINYARD_UNPACK_MAX_RATIO"), std::string::npos);
}

TEST(WrapperOptionsTest, BadInputNamesTheSetting) {
  auto bad_env = ParseWrapperOptions({}, {{"TRAINYARD_STOP_GRACE_SECONDS", "soon"}});
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(bad_env.status().message().find("TRAINYARD_STOP_GRACE_SECONDS"), std::string::npos);
  auto unknown = ParseWrapperOptions({"--frobnicate"}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("--frobnicate"), std::string::npos);
  EXPECT_FALSE(ParseWrapperOptions({"--grace-period"}, {}).ok());
}

TEST(WrapperOptionsTest, KeepArchivesNamesChannelsOrEveryChannel) {
  auto named = ParseWrapperOptions({}, {{"TRAINYARD_KEEP_ARCHIVES", " pretrained, model.v2 ,,"}});
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->kept_archives.channels, (std::set<std::string>{"model.v2", "pretrained"}));
  EXPECT_FALSE(named->kept_archives.every_channel);
  EXPECT_TRUE(named->kept_archives.Keeps("pretrained"));
  EXPECT_FALSE(named->kept_archives.Keeps("training"));

  auto star = ParseWrapperOptions({}, {{"TRAINYARD_KEEP_ARCHIVES", "*"}});
  ASSERT_TRUE(star.ok());
  EXPECT_TRUE(star->kept_archives.Keeps("training"));
  auto no_unpack = ParseWrapperOptions({"--no-unpack"}, {});
  ASSERT_TRUE(no_unpack.ok());
  EXPECT_TRUE(no_unpack->kept_archives.Keeps("training"));
  auto unset = ParseWrapperOptions({}, {});
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->kept_archives.Keeps("training"));
}

TEST(WrapperOptionsTest, KeepArchivesRefusesWhatCannotBeAChannelName) {
  auto bad = ParseWrapperOptions({}, {{"TRAINYARD_KEEP_ARCHIVES", "training;pretrained"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("TRAINYARD_KEEP_ARCHIVES"), std::string::npos);
  EXPECT_NE(bad.status().message().find("training;pretrained"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace trainyard::wrapper
