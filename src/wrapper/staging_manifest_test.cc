#include <gtest/gtest.h>

#include <string>

#include "wrapper/options.h"
#include "wrapper/staging.h"

namespace trainyard::wrapper {
namespace {

const std::string kDigest(64, 'a');

std::string Manifest(const std::string& inputs, const std::string& outputs =
                                                    R"({"model.tar.gz": "http://s/m",
  "output.tar.gz": "http://s/o", "training.log": "http://s/l", "trainyard-exit.json": "http://s/e"})") {
  return R"({"version": 1, "inputs": )" + inputs + R"(, "outputs": )" + outputs + "}";
}

TEST(StagingManifestTest, ParsesInputsAndOutputs) {
  auto manifest = ParseStagingManifest(Manifest(R"([{"path": "input/data/train/a.csv",
    "url": "http://s/a?X-Amz-Signature=1", "size": 3, "sha256": ")" +
                                                kDigest + R"("}])"));
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  ASSERT_EQ(manifest->inputs.size(), 1u);
  EXPECT_EQ(manifest->inputs[0].path, "input/data/train/a.csv");
  EXPECT_EQ(manifest->inputs[0].size, 3u);
  EXPECT_EQ(manifest->outputs.at("model.tar.gz"), "http://s/m");
  EXPECT_EQ(manifest->outputs.size(), 4u);
}

// Each refusal names the field and says why.
TEST(StagingManifestTest, RefusesWhatItCannotUseNamingTheField) {
  auto refused = [](const std::string& text) {
    auto manifest = ParseStagingManifest(text);
    EXPECT_FALSE(manifest.ok());
    return manifest.ok() ? std::string() : manifest.status().message();
  };
  EXPECT_NE(refused("not json").find("TRAINYARD_STAGING: not a JSON object"), std::string::npos);
  for (const char* path : {"../etc/passwd", "/etc/passwd", "input/./a", "input//a", ""}) {
    std::string message =
        refused(Manifest(std::string(R"([{"path": ")") + path +
                         R"(", "url": "u", "size": 1, "sha256": ")" + kDigest + R"("}])"));
    EXPECT_NE(message.find("TRAINYARD_STAGING.inputs[0].path"), std::string::npos) << message;
    EXPECT_NE(message.find("inside the job's root"), std::string::npos) << message;
  }
  EXPECT_NE(refused(Manifest(R"([{"path": "a", "url": "u", "size": -1, "sha256": "x"}])"))
                .find("TRAINYARD_STAGING.inputs[0]: needs path, url and sha256"),
            std::string::npos);
  EXPECT_NE(refused(Manifest(R"([{"path": "a", "url": "u", "size": 1, "sha256": "ABC"}])"))
                .find("TRAINYARD_STAGING.inputs[0].sha256: not 64 lowercase hex digits"),
            std::string::npos);
  EXPECT_NE(refused(Manifest("[]", R"({"model.tar.gz": "u"})"))
                .find("TRAINYARD_STAGING.outputs.output.tar.gz: missing"),
            std::string::npos);
  EXPECT_NE(refused(Manifest("[]", R"({"secrets.txt": "u"})"))
                .find("'secrets.txt' is not an output trainyard-wrap sends"),
            std::string::npos);
}

TEST(StagingManifestTest, ACheckpointNeedsAGetAndAPutUrl) {
  const std::string outputs = R"({"model.tar.gz": "http://s/m", "output.tar.gz": "http://s/o",
    "training.log": "http://s/l", "trainyard-exit.json": "http://s/e"})";
  auto with = [&](const std::string& checkpoint) {
    return R"({"inputs": [], "outputs": )" + outputs + R"(, "checkpoint": )" + checkpoint + "}";
  };
  auto manifest = ParseStagingManifest(with(R"({"get": "http://s/c?g", "put": "http://s/c?p"})"));
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  ASSERT_TRUE(manifest->checkpoint.has_value());
  EXPECT_EQ(manifest->checkpoint->get_url, "http://s/c?g");
  EXPECT_EQ(manifest->checkpoint->put_url, "http://s/c?p");
  EXPECT_TRUE(manifest->checkpoint->restore_from_url.empty());
  manifest = ParseStagingManifest(
      with(R"({"get": "http://s/c", "put": "http://s/c", "restore_from": "http://s/p"})"));
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  EXPECT_EQ(manifest->checkpoint->restore_from_url, "http://s/p");
  EXPECT_FALSE(ParseStagingManifest(Manifest("[]")).value().checkpoint.has_value());
  for (const char* bad : {R"({"get": "http://s/c"})", R"("http://s/c")",
                          R"({"get": "g", "put": "p", "restore_from": 3})"}) {
    auto refused = ParseStagingManifest(with(bad));
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("TRAINYARD_STAGING.checkpoint: needs get and put"),
              std::string::npos)
        << refused.status().message();
  }
}

TEST(StagingManifestTest, TheWrapperReadsItFromItsEnvironment) {
  auto options = ParseWrapperOptions(
      {}, {{"TRAINYARD_STAGING", Manifest("[]")}, {"TRAINYARD_STAGING_REMOVE_ROOT", "1"}});
  ASSERT_TRUE(options.ok()) << options.status().message();
  ASSERT_TRUE(options->staging.has_value());
  EXPECT_TRUE(options->remove_root_after_staging);
  EXPECT_FALSE(ParseWrapperOptions({}, {{"TRAINYARD_STAGING", "{}"}}).ok());
  EXPECT_FALSE(ParseWrapperOptions({}, {}).value().staging.has_value());
}

}  // namespace
}  // namespace trainyard::wrapper
