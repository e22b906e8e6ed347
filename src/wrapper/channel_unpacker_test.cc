#include "wrapper/channel_unpacker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "archive/test_archives.h"
#include "support/test_paths.h"

namespace trainyard::wrapper {
namespace {

namespace fs = std::filesystem;
using archive::testing::File;
using archive::testing::Format;
using archive::testing::WriteTestArchive;
using Strings = std::vector<std::string>;

class ChannelUnpackerTest : public ::testing::Test {
 protected:
  ChannelUnpackerTest() : root_(dir_.path() / "ml") {}

  fs::path Channel(const std::string& name) const { return root_.channel_dir(name); }

  // An archive at `relative_path` in the channel, its parent directories made as needed.
  void PutArchive(const std::string& channel, const std::string& relative_path, Format format,
                  const std::vector<archive::testing::TestEntry>& entries) {
    fs::path path = Channel(channel) / relative_path;
    fs::create_directories(path.parent_path());
    WriteTestArchive(path, format, entries);
  }

  Result<std::map<std::string, contract::ChannelContents>> Prepare(
      const Strings& channel_names, const KeptArchives& kept = {},
      const archive::UnpackLimits& limits = {}, uint64_t volume_bytes = 0) {
    std::vector<contract::ChannelConfig> channels;
    for (const std::string& name : channel_names) channels.push_back({.name = name});
    return PrepareChannels(root_, channels, kept, limits, volume_bytes);
  }

  testing::TempDir dir_;
  contract::MlRoot root_;
};

// SageMaker puts converts/<uuid>/<uuid>.zip of s3://bucket/converts/<uuid> at <uuid>/<uuid>.zip.
TEST_F(ChannelUnpackerTest, ArchivesAnywhereInTheTreeAreUnpackedWhereTheyLie) {
  PutArchive("training", "4f2a/4f2a.zip", Format::kZip, {File("data/train.csv", "a,b\n")});
  PutArchive("training", "top.tar.gz", Format::kTarGz, {File("top.txt", "t")});
  PutArchive("training", "a/b/c/deep.tgz", Format::kTarGz, {File("deep.txt", "d")});
  PutArchive("training", "a/plain.tar", Format::kTar, {File("plain.txt", "p")});

  auto contents = Prepare({"training"});
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  const contract::ChannelContents& training = contents->at("training");
  EXPECT_EQ(training.unpacked_archives,
            (Strings{"4f2a/4f2a.zip", "a/b/c/deep.tgz", "a/plain.tar", "top.tar.gz"}));
  EXPECT_EQ(training.files,
            (Strings{"4f2a/data/train.csv", "a/b/c/deep.txt", "a/plain.txt", "top.txt"}));
  EXPECT_FALSE(fs::exists(Channel("training") / "4f2a" / "4f2a.zip"));
  EXPECT_FALSE(fs::exists(Channel("training") / "a" / "b" / "c" / "deep.tgz"));
}

TEST_F(ChannelUnpackerTest, AnArchiveThatCameOutOfAnArchiveStaysPacked) {
  fs::path inner = dir_.path() / "inner.zip";
  WriteTestArchive(inner, Format::kZip, {File("x.csv", "1")});
  std::ifstream in(inner, std::ios::binary);
  std::string inner_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PutArchive("training", "sub/outer.tar", Format::kTar, {File("nested/inner.zip", inner_bytes)});

  auto contents = Prepare({"training"});
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  EXPECT_EQ(contents->at("training").unpacked_archives, (Strings{"sub/outer.tar"}));
  EXPECT_EQ(contents->at("training").files, (Strings{"sub/nested/inner.zip"}));
}

TEST_F(ChannelUnpackerTest, ChannelsKeptByNameKeepTheirArchives) {
  PutArchive("training", "u/u.zip", Format::kZip, {File("train.csv", "1")});
  PutArchive("pretrained", "p/model.tar.gz", Format::kTarGz, {File("model.bin", "m")});

  auto contents = Prepare({"training", "pretrained"}, KeptArchives{.channels = {"pretrained"}});
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  EXPECT_EQ(contents->at("training").files, (Strings{"u/train.csv"}));
  EXPECT_EQ(contents->at("pretrained").files, (Strings{"p/model.tar.gz"}));
  EXPECT_TRUE(contents->at("pretrained").unpacked_archives.empty());
}

TEST_F(ChannelUnpackerTest, EveryChannelKeepsItsArchivesUnderTheStar) {
  PutArchive("training", "u/u.zip", Format::kZip, {File("train.csv", "1")});
  PutArchive("evaluation", "eval.zip", Format::kZip, {File("eval.csv", "1")});

  auto contents = Prepare({"training", "evaluation"}, KeptArchives{.every_channel = true});
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  EXPECT_EQ(contents->at("training").files, (Strings{"u/u.zip"}));
  EXPECT_EQ(contents->at("evaluation").files, (Strings{"eval.zip"}));
  EXPECT_TRUE(contents->at("training").unpacked_archives.empty());
}

TEST_F(ChannelUnpackerTest, AHostileArchiveDeepInTheTreeIsRefusedAndLeavesNothing) {
  PutArchive("training", "x/y/slip.zip", Format::kZip, {File("../evil.txt", "owned")});

  auto contents = Prepare({"training"});
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(contents.status().message().find("'training/x/y/slip.zip'"), std::string::npos)
      << contents.status().message();
  EXPECT_NE(contents.status().message().find("escapes"), std::string::npos)
      << contents.status().message();
  EXPECT_FALSE(fs::exists(Channel("training") / "x" / "evil.txt"));
  EXPECT_FALSE(fs::exists(Channel("training") / "x" / "y" / "evil.txt"));
}

TEST_F(ChannelUnpackerTest, TheLimitsHoldForEachArchiveDeepInTheTree) {
  PutArchive("training", "d/many.tar", Format::kTar,
             {File("1.txt", "1"), File("2.txt", "2"), File("3.txt", "3")});

  auto contents = Prepare({"training"}, {}, archive::UnpackLimits{.max_entries = 2});
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(contents.status().message().find("'training/d/many.tar'"), std::string::npos)
      << contents.status().message();
  EXPECT_FALSE(fs::exists(Channel("training") / "d" / "1.txt"));
}

// VolumeSizeInGB is at least 1 GiB; a volume of a few KiB stands in for one that is nearly full.
TEST_F(ChannelUnpackerTest, AnArchiveMayFillOnlyWhatTheJobsVolumeHasLeft) {
  PutArchive("training", "a.tar.gz", Format::kTarGz, {File("a.bin", std::string(30'000, 'a'))});
  PutArchive("training", "b.tar.gz", Format::kTarGz, {File("b.bin", std::string(30'000, 'b'))});
  uint64_t archives = fs::file_size(Channel("training") / "a.tar.gz") +
                      fs::file_size(Channel("training") / "b.tar.gz");
  // a.bin fits beside the archives; b.bin no longer does.
  uint64_t volume = archives + 40'000;
  auto contents = Prepare({"training"}, {}, {}, volume);
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(contents.status().message().find("'training/b.tar.gz'"), std::string::npos)
      << contents.status().message();
  EXPECT_NE(contents.status().message().find("passes the job's VolumeSizeInGB (" +
                                             std::to_string(volume) + " bytes"),
            std::string::npos)
      << contents.status().message();
  EXPECT_TRUE(fs::exists(Channel("training") / "a.bin"));
  EXPECT_FALSE(fs::exists(Channel("training") / "b.bin"));

  fs::remove(Channel("training") / "a.bin");
  contents = Prepare({"training"}, {}, {}, 1ull << 30);
  EXPECT_TRUE(contents.ok()) << contents.status().ToString();
}

TEST_F(ChannelUnpackerTest, KeptNamesThatAreNotChannelsOfTheJobAreFound) {
  std::vector<contract::ChannelConfig> channels = {{.name = "training"}};
  KeptArchives kept{.channels = {"training", "trainng"}};
  EXPECT_EQ(KeptChannelsNotInJob(kept, channels), (Strings{"trainng"}));
  EXPECT_TRUE(KeptChannelsNotInJob(KeptArchives{.every_channel = true}, channels).empty());
}

}  // namespace
}  // namespace trainyard::wrapper
