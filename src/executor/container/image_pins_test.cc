#include "executor/container/image_pins.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

// Two servers sharing one work dir (the Slurm executor's) share its image-pins.json: the pin
// one of them made first holds for the other, which had loaded the file before; neither write
// loses the other's pins.
TEST(ImagePinsTest, ServersSharingTheFileShareTheirPins) {
  testing::TempDir temp;
  const std::filesystem::path file = temp.path() / "image-pins.json";
  ImagePins first(file, std::chrono::hours(24));
  ImagePins second(file, std::chrono::hours(24));
  const std::string image = "registry.example.com/team/trainer:v1";

  EXPECT_EQ(first.Add("sw-1", image, "registry.example.com/team/trainer@sha256:a"),
            "registry.example.com/team/trainer@sha256:a");
  EXPECT_EQ(second.Find("sw-1", image), "registry.example.com/team/trainer@sha256:a");
  // The tag moved before the second server's own first job of the sweep: the first pin holds.
  EXPECT_EQ(second.Add("sw-1", image, "registry.example.com/team/trainer@sha256:b"),
            "registry.example.com/team/trainer@sha256:a");
  EXPECT_EQ(second.Add("sw-2", image, "registry.example.com/team/trainer@sha256:b"),
            "registry.example.com/team/trainer@sha256:b");
  EXPECT_EQ(first.Add("sw-3", image, "registry.example.com/team/trainer@sha256:c"),
            "registry.example.com/team/trainer@sha256:c");

  std::ifstream in(file);
  nlohmann::json written = nlohmann::json::parse(in);
  EXPECT_EQ(written.size(), 3u) << written.dump();
  for (const char* sweep : {"sw-1", "sw-2", "sw-3"}) {
    EXPECT_TRUE(written.contains(std::string(sweep) + "\n" + image)) << written.dump();
  }
  ImagePins restarted(file, std::chrono::hours(24));
  EXPECT_EQ(restarted.Find("sw-2", image), "registry.example.com/team/trainer@sha256:b");
  EXPECT_EQ(restarted.Find("sw-4", image), std::nullopt);
  EXPECT_EQ(restarted.Find("", image), std::nullopt);  // a job of no sweep is never pinned
}

}  // namespace
}  // namespace trainyard::executor
